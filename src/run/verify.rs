//! One workload on one device: prepare, run once and verify against the reference, then measure.
//!
//! A whole-model `decode_token` is verified at the tiny model shape (the reference cannot
//! afford a real model's billions of weights in f64), by the same backend code path; the real
//! model's own output is then checked to be finite with a valid token before it is timed.

use std::sync::atomic::AtomicBool;

use anyhow::Result;

use crate::backend::Backend;
use crate::measure::{self, Interrupted, MeasureConfig};
use crate::model::ModelShape;
use crate::reference;
use crate::results::{ResultRow, Verified};
use crate::workload::{Kernel, Workload};

/// Largest context a whole model is verified at (the tiny model's KV cache).
const TINY_CONTEXT: u64 = 70;

/// The tiny-model stand-in that a `decode_token` workload is verified at, or `None` when `w`
/// is small enough to verify itself. Its head dimension follows the model's where a kernel
/// depends on it: a multiple of 4 (8) when the model's is one, so that the grouped f16
/// attention kernel (which needs that) runs in the stand-in when it runs in the model; the
/// tiny model's odd 6 otherwise.
fn stand_in(w: &Workload) -> Option<Workload> {
    let Kernel::DecodeToken { model, context } = &w.kernel else {
        return None;
    };
    let mut tiny = ModelShape::tiny();
    if model.step_weight_params() <= tiny.step_weight_params() && *context <= TINY_CONTEXT {
        return None;
    }
    if model.head_dim.is_multiple_of(4) {
        tiny.head_dim = 8;
    }
    let kernel = Kernel::DecodeToken {
        model: tiny,
        context: (*context).min(TINY_CONTEXT),
    };
    Some(Workload::new(kernel, w.dtype))
}

/// Prepare `w`, run it once and check it against the reference.
fn verify(backend: &mut dyn Backend, w: &Workload) -> Result<Verified, String> {
    let inputs = reference::inputs(w);
    let mut prepared = backend
        .prepare(w, &inputs)
        .map_err(|e| format!("could not prepare: {e:#}"))?;
    let output = prepared
        .run_and_read()
        .map_err(|e| format!("could not run: {e:#}"))?;
    Ok(reference::check(w, &inputs, &output))
}

/// The real model's output: finite logits and a token inside the vocabulary.
fn plausible(w: &Workload, output: &[f32]) -> bool {
    output.len() == reference::output_len(w)
        && output.iter().all(|v| v.is_finite())
        && output
            .last()
            .is_some_and(|&t| t >= 0.0 && ((t as usize) < output.len() - 1))
}

/// Verify, then measure one workload. Failures of the workload itself become a row with an
/// error; only an interrupt is returned as an error.
pub(super) fn measure_one(
    backend: &mut dyn Backend,
    device_id: &str,
    w: &Workload,
    cfg: &MeasureConfig,
    interrupted: &AtomicBool,
) -> Result<ResultRow> {
    let mut row = empty_row(device_id, w);
    let stand_in = stand_in(w);
    if let Some(tiny) = &stand_in {
        match verify(backend, tiny) {
            Ok(v) => row.verified = v,
            Err(e) => {
                row.error = Some(format!("{e} (verifying at {})", tiny.label()));
                return Ok(row);
            }
        }
        if !row.verified.ok {
            row.error = Some(format!(
                "verification at {} failed: max abs error {:.3e} exceeds tolerance {:.3e}",
                tiny.label(),
                row.verified.max_abs_err,
                row.verified.tolerance
            ));
            return Ok(row);
        }
        row.extra.note = Some(format!(
            "verified against the reference at {} by the same code; this model's own output checked finite with a valid token",
            tiny.label()
        ));
    }
    let inputs = reference::inputs(w);
    let state_source = backend.state_source();
    let mut prepared = match backend.prepare(w, &inputs) {
        Ok(p) => p,
        Err(e) => {
            row.error = Some(format!("could not prepare: {e:#}"));
            return Ok(row);
        }
    };
    row.timer = prepared.timer();
    row.extra.kernel_variant = prepared.variant();
    row.extra.dispatches = prepared.dispatches();
    if let Some(n) = prepared.note() {
        row.extra.add_note(n);
    }
    let output = match prepared.run_and_read() {
        Ok(o) => o,
        Err(e) => {
            row.error = Some(format!("could not run: {e:#}"));
            return Ok(row);
        }
    };
    if stand_in.is_none() {
        row.verified = reference::check(w, &inputs, &output);
    } else if !plausible(w, &output) {
        row.verified.ok = false;
        row.error =
            Some("the whole model's output is not finite or its token is out of range".into());
        return Ok(row);
    }
    drop(output);
    drop(inputs);
    if !row.verified.ok {
        row.error = Some(format!(
            "verification failed: max abs error {:.3e} exceeds tolerance {:.3e}",
            row.verified.max_abs_err, row.verified.tolerance
        ));
        return Ok(row);
    }
    let sampler = state_source.as_ref().and_then(|s| s.start());
    let timed = measure::until_stable(cfg, interrupted, |iters| prepared.time(iters));
    row.extra.device_state = sampler.and_then(|s| s.stop());
    let samples = match timed {
        Ok(s) => s,
        Err(e) if e.is::<Interrupted>() => return Err(e),
        Err(e) => {
            row.error = Some(format!("failed while timing: {e:#}"));
            row.verified.ok = false;
            return Ok(row);
        }
    };
    row.extra.working_set_bytes = Some(w.footprint_bytes().saturating_mul(prepared.copies()));
    drop(prepared);
    let (ns, ci) = measure::summarize(&samples.per_invocation_ns);
    row.samples = samples.per_invocation_ns.len() as u64;
    row.iters_per_sample = samples.iters_per_sample;
    row.ns = ns;
    row.ci95_ns = ci;
    row.gflops = w.flops() as f64 / ns.p50;
    row.gbps = w.bytes() as f64 / ns.p50;
    // Measured for the whole model, not multiplied from one layer.
    if let Kernel::DecodeToken { .. } = &w.kernel {
        row.tokens_per_s = Some(1e9 / ns.p50);
    }
    row.histogram = crate::results::histogram::encode(&samples.per_invocation_ns)?;
    if let Some(o) = measure::outliers(&samples.per_invocation_ns) {
        row.extra.add_note(o.note(samples.per_invocation_ns.len()));
        row.extra.outliers = Some(o);
    }
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
        extra: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::Dtype;

    fn token(model: ModelShape, context: u64) -> Workload {
        Workload::new(Kernel::DecodeToken { model, context }, Dtype::F16)
    }

    fn head_dim(w: &Workload) -> u64 {
        match &w.kernel {
            Kernel::DecodeToken { model, .. } => model.head_dim,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_whole_model_is_verified_at_the_tiny_shape_with_a_head_dim_its_kernels_share() {
        let big = ModelShape::by_name("llama-3.1-8b").unwrap();
        assert_eq!(big.head_dim % 4, 0);
        let s = stand_in(&token(big.clone(), 1024)).expect("a real model has a stand-in");
        assert_eq!(
            head_dim(&s),
            8,
            "a multiple of 4, as the model's: the grouped kernel runs"
        );
        assert!(matches!(
            s.kernel,
            Kernel::DecodeToken {
                context: TINY_CONTEXT,
                ..
            }
        ));
        let mut odd = big;
        odd.head_dim = 126;
        assert_eq!(head_dim(&stand_in(&token(odd, 1024)).unwrap()), 6);
        assert!(
            stand_in(&token(ModelShape::tiny(), 33)).is_none(),
            "tiny verifies itself"
        );
    }
}
