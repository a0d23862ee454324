//! Peaks of a finished run: measured bandwidth peaks and every row's % of peak.

use crate::results::{DeviceRecord, RunResults};

/// Fill each device's measured bandwidth peak (from its STREAM triad row when the backend did
/// not supply one) and every row's % of peak.
pub(super) fn fill_peaks(run: &mut RunResults) {
    for dev in &mut run.devices {
        let best = run
            .results
            .iter()
            .filter(|r| r.device == dev.id && r.kernel == "stream_triad" && r.is_valid())
            .map(|r| r.gbps)
            .fold(0.0, f64::max);
        // The bandwidth peak is the best bandwidth measured on the device: the backend's own
        // probe (a copy kernel on GPUs) or this run's STREAM triad, whichever is higher.
        match dev.peak_gbps {
            None if best > 0.0 => {
                dev.peak_gbps = Some(best);
                dev.peak_source
                    .push_str("; bandwidth: measured STREAM triad in this run");
            }
            Some(probe) if best > probe => {
                dev.peak_gbps = Some(best);
                dev.peak_source.push_str(&format!(
                    "; bandwidth raised to this run's STREAM triad, {best:.0} GB/s (the probe gave {probe:.0} GB/s)"
                ));
            }
            _ => {}
        }
    }
    let devices: Vec<DeviceRecord> = run.devices.clone();
    for row in &mut run.results {
        if !row.is_valid() {
            continue;
        }
        if let Some(d) = devices.iter().find(|d| d.id == row.device) {
            row.pct_peak_flops = d.peak_gflops.map(|p| 100.0 * row.gflops / p);
            row.pct_peak_bw = d.peak_gbps.map(|p| 100.0 * row.gbps / p);
        }
    }
}
