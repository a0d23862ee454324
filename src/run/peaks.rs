//! Peaks of a finished run: each row's working set against the device's cache (`in_cache`), and
//! % of peak against the higher of the specification and measured peaks, with a reason in the
//! row when a percentage reads above 100.

use crate::results::{
    DeviceRecord, PeakFigure, ResultRow, RunResults, describe_peaks, fits_in_cache,
};

/// Raise each device's measured bandwidth to its STREAM triad row when that is higher, then
/// fill every row's `in_cache` and % of peak.
pub(super) fn fill_peaks(run: &mut RunResults) {
    for dev in &mut run.devices {
        let best = run
            .results
            .iter()
            .filter(|r| r.device == dev.id && r.kernel == "stream_triad" && r.is_valid())
            .filter(|r| !r.extra.in_cache)
            .map(|r| r.gbps)
            .fold(0.0, f64::max);
        raise_measured_bandwidth(dev, best);
    }
    let devices: Vec<DeviceRecord> = run.devices.clone();
    for row in &mut run.results {
        if !row.is_valid() {
            continue;
        }
        if let Some(d) = devices.iter().find(|d| d.id == row.device) {
            fill_row(row, d);
        }
    }
}

/// A STREAM triad row faster than the bandwidth probes raises the measured figure (it is a
/// measurement too); the device's peak and its source follow.
fn raise_measured_bandwidth(dev: &mut DeviceRecord, triad_gbps: f64) {
    if triad_gbps <= 0.0 {
        return;
    }
    let Some(peaks) = dev.peaks.as_mut() else {
        // A backend without both peaks (tests' fakes): the old rule.
        match dev.peak_gbps {
            None => {
                dev.peak_gbps = Some(triad_gbps);
                dev.peak_source
                    .push_str("; bandwidth: measured STREAM triad in this run");
            }
            Some(p) if triad_gbps > p => dev.peak_gbps = Some(triad_gbps),
            _ => {}
        }
        return;
    };
    let probe = peaks.gbps.measured.as_ref().map_or(0.0, |m| m.value);
    if triad_gbps > probe {
        peaks.gbps.measured = Some(PeakFigure {
            value: triad_gbps,
            source: format!(
                "this run's STREAM triad row ({triad_gbps:.1} GB/s, above the probes' {probe:.1}); 3 array passes counted"
            ),
        });
        dev.peak_gbps = peaks.gbps.best();
        let software = dev.peak_source.contains("software adapter");
        dev.peak_source = describe_peaks(peaks);
        if software {
            dev.peak_source
                .push_str(" | software adapter: CPU emulation, not GPU performance");
        }
    }
}

/// `in_cache` from the row's working set and the device's cache; % of peak (no bandwidth
/// percentage for an in-cache row); a reason for any percentage above 100.
pub(super) fn fill_row(row: &mut ResultRow, d: &DeviceRecord) {
    let cache = d.peaks.as_ref().and_then(|p| p.cache_bytes);
    if let (Some(ws), Some(cache)) = (row.extra.working_set_bytes, cache) {
        row.extra.in_cache = fits_in_cache(ws, cache);
    }
    let tensor = d
        .peaks
        .as_ref()
        .and_then(|p| p.f16_tensor.as_ref())
        .filter(|_| row.kernel == "gemm" && row.dtype == "f16")
        .map(|f| f.value);
    row.pct_peak_flops = match tensor {
        // A GPU with tensor cores: an f16 GEMM is read against what they can do.
        Some(t) => Some(100.0 * row.gflops / t),
        None => d.peak_gflops.map(|p| 100.0 * row.gflops / p),
    };
    row.pct_peak_bw = if row.extra.in_cache {
        None
    } else {
        d.peak_gbps.map(|p| 100.0 * row.gbps / p)
    };
    let spec_known =
        |pick: fn(&crate::results::DevicePeaks) -> bool| d.peaks.as_ref().is_some_and(pick);
    let mut notes = Vec::new();
    if let Some(pct) = row.pct_peak_bw.filter(|p| *p > 100.0) {
        notes.push(if spec_known(|p| p.gbps.spec.is_some()) {
            format!("bandwidth at {pct:.0}% of the higher of the datasheet and measured peaks: faster than the specification, so check the byte count or the timer")
        } else {
            format!("bandwidth at {pct:.0}% of peak: the only peak is a measurement (probes at the start of the run) and this host's memory bandwidth varies from moment to moment, so the probe is not a bound; this row ran at a faster moment")
        });
    }
    if let Some(pct) = row.pct_peak_flops.filter(|p| *p > 100.0) {
        notes.push(if spec_known(|p| p.gflops.spec.is_some()) {
            format!("FLOP/s at {pct:.0}% of the higher of the specification and measured peaks: the cores ran faster than both (a boost above the specified clock)")
        } else {
            format!("FLOP/s at {pct:.0}% of the measured peak: the cores ran faster than during the FMA probe")
        });
    }
    notes.extend(dispatch_floor(row, d));
    for n in notes {
        row.extra.add_note(n);
    }
}

/// A row's dependent dispatches take at least this fraction of its median before it is said.
pub const DISPATCH_FLOOR_NOTED: f64 = 0.2;

/// What the row's dependent dispatches cost at the device's probed time per dispatch, when
/// that is a sizeable part of the row's median ([`DISPATCH_FLOOR_NOTED`]): a bound from
/// dispatching rather than from bytes or FLOPs.
fn dispatch_floor(row: &ResultRow, d: &DeviceRecord) -> Option<String> {
    let n = row.extra.dispatches?;
    let per = d.dispatch_ns.as_ref()?.value;
    let floor = n as f64 * per;
    if !(row.ns.p50 > 0.0 && floor >= DISPATCH_FLOOR_NOTED * row.ns.p50) {
        return None;
    }
    let pct = 100.0 * floor / row.ns.p50;
    let slower = if pct > 100.0 {
        " (the probe ran slower than these dispatches did)"
    } else {
        ""
    };
    Some(format!(
        "{n} dependent dispatch(es) an invocation: at the device's probed {:.1} us each that alone is {:.1} us, {pct:.0}% of this row's median{slower}",
        per / 1e3,
        floor / 1e3
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{DeviceKind, DevicePeaks, PeakPair};
    use crate::workload::{Dtype, Kernel, Workload};

    fn device(cache: u64, gbps: f64, spec: bool) -> DeviceRecord {
        let fig = |value| PeakFigure {
            value,
            source: "test".into(),
        };
        let peaks = DevicePeaks {
            f16_tensor: None,
            gflops: PeakPair {
                spec: Some(fig(100.0)),
                measured: Some(fig(80.0)),
                note: None,
            },
            gbps: PeakPair {
                spec: spec.then(|| fig(gbps / 2.0)),
                measured: Some(fig(gbps)),
                note: None,
            },
            cache_bytes: Some(cache),
            cache_source: "test".into(),
        };
        DeviceRecord {
            cooperative_matrix: Vec::new(),
            copy_gbps_after: None,
            dispatch_ns: None,
            id: "cpu".into(),
            kind: DeviceKind::Cpu,
            name: "test".into(),
            backend: "native".into(),
            driver: String::new(),
            device_type: None,
            peak_gflops: peaks.gflops.best(),
            peak_gbps: peaks.gbps.best(),
            peak_source: describe_peaks(&peaks),
            peaks: Some(peaks),
        }
    }

    fn row(working_set: u64, gbps: f64) -> ResultRow {
        let w = Workload::new(Kernel::Gemv { n: 4, k: 4 }, Dtype::F32);
        let mut r = super::super::verify::empty_row("cpu", &w);
        r.verified.ok = true;
        r.samples = 10;
        r.gbps = gbps;
        r.gflops = 1.0;
        r.extra.working_set_bytes = Some(working_set);
        r
    }

    #[test]
    fn a_working_set_that_fits_the_cache_exactly_is_in_cache_and_one_byte_more_is_not() {
        let d = device(32 << 20, 20.0, false);
        let mut at = row(32 << 20, 10.0);
        fill_row(&mut at, &d);
        assert!(at.extra.in_cache);
        assert_eq!(
            at.pct_peak_bw, None,
            "no memory percentage for an in-cache row"
        );
        assert_eq!(at.pct_peak_flops, Some(1.0), "the higher FLOP/s peak: 100");
        let mut over = row((32 << 20) + 1, 10.0);
        fill_row(&mut over, &d);
        assert!(!over.extra.in_cache);
        assert_eq!(over.pct_peak_bw, Some(50.0));
        assert!(over.extra.note.is_none());
    }

    #[test]
    fn f16_gemm_rows_read_against_the_tensor_peak_and_other_rows_do_not() {
        let mut d = device(1 << 20, 20.0, true);
        d.peaks.as_mut().unwrap().f16_tensor = Some(PeakFigure {
            value: 1000.0,
            source: "test".into(),
        });
        let gemm = |dtype| {
            let w = Workload::new(Kernel::Gemm { m: 4, n: 4, k: 4 }, dtype);
            let mut r = super::super::verify::empty_row("cpu", &w);
            r.verified.ok = true;
            r.samples = 10;
            r.gflops = 50.0;
            r
        };
        let mut f16 = gemm(Dtype::F16);
        fill_row(&mut f16, &d);
        assert_eq!(
            f16.pct_peak_flops,
            Some(5.0),
            "50 of the tensor peak's 1000"
        );
        let mut f32 = gemm(Dtype::F32);
        fill_row(&mut f32, &d);
        assert_eq!(f32.pct_peak_flops, Some(50.0), "50 of the FP32 peak's 100");
        let mut gemv = row(1 << 30, 10.0);
        gemv.dtype = "f16".into();
        fill_row(&mut gemv, &d);
        assert_eq!(gemv.pct_peak_flops, Some(1.0), "not a GEMM: the FP32 peak");
    }

    #[test]
    fn a_percentage_above_100_carries_a_reason_and_uses_the_higher_peak() {
        let d = device(1 << 20, 20.0, true);
        assert_eq!(d.peak_gbps, Some(20.0), "measured 20 beats spec 10");
        let mut r = row(1 << 30, 30.0);
        fill_row(&mut r, &d);
        assert_eq!(r.pct_peak_bw, Some(150.0));
        let note = r.extra.note.unwrap();
        assert!(
            note.contains("150%") && note.contains("specification"),
            "{note}"
        );
        let d = device(1 << 20, 20.0, false);
        let mut r = row(1 << 30, 30.0);
        fill_row(&mut r, &d);
        assert!(r.extra.note.unwrap().contains("not a bound"));
    }

    #[test]
    fn dependent_dispatches_are_noted_when_they_bound_the_row_and_not_otherwise() {
        let mut d = device(1 << 20, 20.0, true);
        d.dispatch_ns = Some(PeakFigure {
            value: 5_000.0,
            source: "test".into(),
        });
        let timed = |dispatches, p50| {
            let mut r = row(1 << 30, 10.0);
            r.extra.dispatches = Some(dispatches);
            r.ns.p50 = p50;
            fill_row(&mut r, &d);
            r.extra.note
        };
        let note = timed(100, 1_000_000.0).expect("100 x 5 us of a 1 ms median is half of it");
        assert!(
            note.contains("100 dependent") && note.contains("500.0 us"),
            "{note}"
        );
        assert!(note.contains("50% of this row's median"), "{note}");
        assert_eq!(
            timed(10, 1_000_000.0),
            None,
            "50 us of 1 ms is not worth a word"
        );
        let over = timed(1, 2_000.0).unwrap();
        assert!(
            over.contains("250%") && over.contains("probe ran slower"),
            "{over}"
        );
        let mut unprobed = row(1 << 30, 10.0);
        unprobed.extra.dispatches = Some(1000);
        unprobed.ns.p50 = 1.0;
        fill_row(&mut unprobed, &device(1 << 20, 20.0, true));
        assert_eq!(unprobed.extra.note, None, "no probe, no floor");
    }
}
