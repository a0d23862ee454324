//! The devices' state during a run, in words: a note per GPU with the clocks `nvidia-smi` saw
//! (`device_state`), and warnings about rows timed below full clock and a bandwidth probe
//! that moved between a device's first and last workload.

use crate::results::RunResults;

/// A change of more than this fraction between the bandwidth probe before a device's first
/// workload and after its last is reported.
pub const PROBE_DRIFT: f64 = 0.10;

/// Warnings about the devices' state during the run: rows timed at a reduced clock or under
/// a power, thermal or hardware limit (from `device_state`), and a bandwidth probe that
/// changed between the start and the end of a device's workloads.
pub fn state_warnings(run: &RunResults) -> Vec<String> {
    let mut out = Vec::new();
    for d in &run.devices {
        let rows: Vec<(&crate::results::ResultRow, String)> = run
            .results
            .iter()
            .filter(|r| r.device == d.id)
            .filter_map(|r| {
                let c = r.extra.device_state.as_ref()?.concern()?;
                Some((r, c))
            })
            .collect();
        if let Some((first, why)) = rows.first() {
            let timed = run
                .results
                .iter()
                .filter(|r| r.device == d.id && r.extra.device_state.is_some())
                .count();
            out.push(format!(
                "{}: {} of {timed} row(s) were timed below the GPU's full clock, first {} ({why}); their figures are this state's, not the device's best (device_state in the results file)",
                d.id,
                rows.len(),
                first.workload_label(),
            ));
        }
        let before = d
            .peaks
            .as_ref()
            .and_then(|p| p.gbps.measured.as_ref())
            .map(|f| f.value);
        // A software adapter's probe is the host CPU's memory, shared and noisy here; its
        // rows are not GPU figures anyway.
        let software = d.is_software_adapter();
        if let (Some(b), Some(a)) = (before, d.copy_gbps_after.as_ref().map(|f| f.value))
            && !software
            && b > 0.0
            && (a / b - 1.0).abs() > PROBE_DRIFT
        {
            out.push(format!(
                "{}: the bandwidth probe read {b:.1} GB/s before the first workload and {a:.1} GB/s after the last ({:+.0}%): the device's state changed during the run, so rows far apart in it may not be comparable",
                d.id,
                (a / b - 1.0) * 100.0
            ));
        }
    }
    out
}

/// One line per device whose rows had statistical outliers (`outliers`): how many rows, and
/// the one whose slowest sample was furthest from its median. hyperfine says the same of a
/// command whose runs spread so.
pub fn outlier_warnings(run: &RunResults) -> Vec<String> {
    run.devices
        .iter()
        .filter_map(|d| {
            let rows: Vec<&crate::results::ResultRow> = run
                .results
                .iter()
                .filter(|r| r.device == d.id && r.extra.outliers.is_some())
                .collect();
            let worst = rows.iter().max_by(|a, b| {
                let f = |r: &crate::results::ResultRow| {
                    r.extra.outliers.map_or(1.0, |o| o.max_over_median)
                };
                f(a).total_cmp(&f(b))
            })?;
            let o = worst.extra.outliers?;
            Some(format!(
                "{}: {} row(s) had statistical outliers among their samples, most of all {} ({} of {} samples, the slowest {:.2}x the median): something else ran, or the device changed state, while they were timed; their medians stand, but consider re-running on a quiet machine (the rows' notes say more)",
                d.id,
                rows.len(),
                worst.workload_label(),
                o.count(),
                worst.samples,
                o.max_over_median,
            ))
        })
        .collect()
}

/// One line per device with a dispatch probe: what one dependent dispatch costs there, the
/// floor under every row of many small kernels (a decode step, a whole-model decode).
pub fn dispatch_summaries(run: &RunResults) -> Vec<String> {
    run.devices
        .iter()
        .filter_map(|d| {
            let f = d.dispatch_ns.as_ref()?;
            let software = if d.is_software_adapter() {
                "; a software adapter, so the CPU's cost, not a GPU's"
            } else {
                ""
            };
            Some(format!(
                "{}: one dependent dispatch takes {:.1} us ({}){software}",
                d.id,
                f.value / 1e3,
                f.source
            ))
        })
        .collect()
}

/// One line per device whose rows carry a `device_state`: the clocks, performance states,
/// power and temperature seen across its rows.
pub fn state_summaries(run: &RunResults) -> Vec<String> {
    run.devices
        .iter()
        .filter_map(|d| {
            let states: Vec<&crate::telemetry::DeviceState> = run
                .results
                .iter()
                .filter(|r| r.device == d.id)
                .filter_map(|r| r.extra.device_state.as_ref())
                .collect();
            let first = states.first()?;
            let mut sm: Vec<f64> = states.iter().map(|s| s.sm_clock_mhz.p50).collect();
            sm.sort_by(f64::total_cmp);
            let mem_low = states
                .iter()
                .map(|s| s.mem_clock_mhz.min)
                .fold(f64::INFINITY, f64::min);
            let mut pstates: Vec<&str> = Vec::new();
            for p in states.iter().flat_map(|s| &s.pstates) {
                if !pstates.contains(&p.as_str()) {
                    pstates.push(p);
                }
            }
            let top = |v: Option<f64>| v.map_or("unknown".to_string(), |x| format!("{x:.0}"));
            let most = |f: fn(&crate::telemetry::DeviceState) -> Option<f64>| {
                states.iter().filter_map(|s| f(s)).reduce(f64::max)
            };
            Some(format!(
                "{}: while its {} row(s) were timed, nvidia-smi read a median SM clock of {:.0}-{:.0} MHz per row (maximum {}), memory clock at least {mem_low:.0} MHz (maximum {}), performance state {}, up to {} W and {} °C",
                d.id,
                states.len(),
                sm[0],
                sm[sm.len() - 1],
                top(first.max_sm_clock_mhz),
                top(first.max_mem_clock_mhz),
                if pstates.is_empty() { "unknown".to_string() } else { pstates.join("/") },
                top(most(|s| s.power_w_max)),
                top(most(|s| s.temp_c_max)),
            ))
        })
        .collect()
}
