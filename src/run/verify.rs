//! One workload on one device: prepare, run once and verify against the reference, then measure.

use std::sync::atomic::AtomicBool;

use anyhow::Result;

use crate::backend::Backend;
use crate::measure::{self, Interrupted, MeasureConfig};
use crate::reference;
use crate::results::{ResultRow, Verified};
use crate::workload::{Kernel, Workload};

/// Verify, then measure one workload. Failures of the workload itself become a row with an
/// error; only an interrupt is returned as an error.
pub(super) fn measure_one(
    backend: &mut dyn Backend,
    device_id: &str,
    w: &Workload,
    cfg: &MeasureConfig,
    interrupted: &AtomicBool,
) -> Result<ResultRow> {
    let inputs = reference::inputs(w);
    let mut row = empty_row(device_id, w);
    let mut prepared = match backend.prepare(w, &inputs) {
        Ok(p) => p,
        Err(e) => {
            row.error = Some(format!("could not prepare: {e:#}"));
            return Ok(row);
        }
    };
    row.timer = prepared.timer();
    let output = match prepared.run_and_read() {
        Ok(o) => o,
        Err(e) => {
            row.error = Some(format!("could not run: {e:#}"));
            return Ok(row);
        }
    };
    row.verified = reference::check(w, &inputs, &output);
    drop(output);
    drop(inputs);
    if !row.verified.ok {
        row.error = Some(format!(
            "verification failed: max abs error {:.3e} exceeds tolerance {:.3e}",
            row.verified.max_abs_err, row.verified.tolerance
        ));
        return Ok(row);
    }
    let samples = match measure::until_stable(cfg, interrupted, |iters| prepared.time(iters)) {
        Ok(s) => s,
        Err(e) if e.is::<Interrupted>() => return Err(e),
        Err(e) => {
            row.error = Some(format!("failed while timing: {e:#}"));
            row.verified.ok = false;
            return Ok(row);
        }
    };
    drop(prepared);
    let (ns, ci) = measure::summarize(&samples.per_invocation_ns);
    row.samples = samples.per_invocation_ns.len() as u64;
    row.iters_per_sample = samples.iters_per_sample;
    row.ns = ns;
    row.ci95_ns = ci;
    row.gflops = w.flops() as f64 / ns.p50;
    row.gbps = w.bytes() as f64 / ns.p50;
    if let Kernel::DecodeStep { model, .. } = &w.kernel {
        row.tokens_per_s = Some(1e9 / (ns.p50 * model.layers as f64));
    }
    row.histogram = crate::results::histogram::encode(&samples.per_invocation_ns)?;
    Ok(row)
}

pub(super) fn empty_row(device_id: &str, w: &Workload) -> ResultRow {
    ResultRow {
        device: device_id.to_string(),
        kernel: w.kernel_name().to_string(),
        shape: w.shape_map(),
        dtype: w.dtype.name().to_string(),
        flops: w.flops(),
        bytes: w.bytes(),
        samples: 0,
        iters_per_sample: 1,
        timer: crate::results::TimerKind::Wall,
        ns: Default::default(),
        ci95_ns: [0.0, 0.0],
        gflops: 0.0,
        gbps: 0.0,
        pct_peak_flops: None,
        pct_peak_bw: None,
        tokens_per_s: None,
        verified: Verified {
            ok: false,
            max_abs_err: f64::NAN,
            tolerance: 0.0,
        },
        histogram: String::new(),
        error: None,
    }
}
