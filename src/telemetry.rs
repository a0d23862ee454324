//! The device's own state while a workload is timed: clocks, power, temperature and the
//! reasons the driver gives for holding clocks down. On NVIDIA GPUs this comes from
//! `nvidia-smi`, queried about every [`SAMPLE_MS`] ms by a thread for as long as the
//! workload's timing loop runs, so a row that ran at a reduced clock (power cap, thermal or
//! hardware slowdown, a lower performance state) says so in the results file, beside its
//! timing. Samples taken while the GPU was idle (between the timing loop's submissions) are
//! left out of the clocks.
//!
//! Nothing here is required: without `nvidia-smi` (or on other vendors' GPUs, and on the
//! CPU) rows simply carry no `device_state`. `ACCELBENCH_NVIDIA_SMI` names the program
//! (default `nvidia-smi` on the PATH); `ACCELBENCH_NVIDIA_SMI=off` turns sampling off.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Pause between two `nvidia-smi` queries.
pub const SAMPLE_MS: u32 = 100;

/// A row whose median SM clock is below this fraction of the GPU's maximum is flagged.
pub const LOW_CLOCK_FRACTION: f64 = 0.9;

/// NVIDIA PCI vendor id.
pub const NVIDIA_VENDOR: u32 = 0x10de;

/// The device state over one workload's timing, as recorded in the row's `device_state`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceState {
    /// How the state was read, in words (program, GPU index, sampling period).
    pub source: String,
    /// Samples the clocks below are taken from: those taken while the workload was timed in
    /// which the GPU was busy (all of them if it was idle in every one).
    pub samples: u32,
    /// Samples in which the driver reported the GPU idle (between two of the timing loop's
    /// submissions); left out of the clocks unless every sample was idle.
    #[serde(default)]
    pub idle_samples: u32,
    /// SM (graphics) clock, MHz.
    pub sm_clock_mhz: Spread,
    /// The highest SM clock the GPU allows, MHz (`clocks.max.sm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_sm_clock_mhz: Option<f64>,
    /// Memory clock, MHz.
    pub mem_clock_mhz: Spread,
    /// The highest memory clock the GPU allows, MHz (`clocks.max.mem`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_mem_clock_mhz: Option<f64>,
    /// Performance states seen (`P0` is the highest), in order of first appearance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pstates: Vec<String>,
    /// Highest board power seen, W (absent where the driver does not report it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_w_max: Option<f64>,
    /// Highest GPU temperature seen, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_c_max: Option<f64>,
    /// Every clock-limiting reason the driver reported in any sample (NVML's
    /// clocks-event reasons: `sw_power_cap`, `hw_slowdown`, `sw_thermal_slowdown`, ...),
    /// `gpu_idle` left out: a GPU between submissions is idle by design.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limit_reasons: Vec<String>,
}

/// Minimum, median and maximum of a sampled quantity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub min: f64,
    pub p50: f64,
    pub max: f64,
}

impl Spread {
    fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        Some(Spread {
            min: v[0],
            p50: v[v.len() / 2],
            max: v[v.len() - 1],
        })
    }
}

impl DeviceState {
    /// What held this row below the device's full speed: the median SM clock and the median
    /// memory clock where below [`LOW_CLOCK_FRACTION`] of their maxima (with the maxima), and
    /// the power, thermal or hardware limits reported while it ran.
    fn findings(&self) -> Findings<'_> {
        let low = |s: &Spread, max: Option<f64>| {
            max.filter(|m| s.p50 < LOW_CLOCK_FRACTION * m)
                .map(|m| (s.p50, m))
        };
        Findings {
            sm: low(&self.sm_clock_mhz, self.max_sm_clock_mhz),
            mem: low(&self.mem_clock_mhz, self.max_mem_clock_mhz),
            limits: self
                .limit_reasons
                .iter()
                .map(String::as_str)
                .filter(|r| LIMITING.contains(r))
                .collect(),
        }
    }

    /// Why this row may not show the device at its full speed, in words, or `None`: a
    /// median SM or memory clock below [`LOW_CLOCK_FRACTION`] of the maximum, or a power,
    /// thermal or hardware limit reported while it ran.
    pub fn concern(&self) -> Option<String> {
        let f = self.findings();
        let mut parts = Vec::new();
        if let Some((clock, max)) = f.sm {
            parts.push(format!(
                "SM clock {clock:.0} MHz (median of {} samples; maximum {max:.0})",
                self.samples
            ));
        }
        if let Some((clock, max)) = f.mem {
            parts.push(format!(
                "memory clock {clock:.0} MHz (maximum {max:.0}; performance state {})",
                self.pstates.join("/")
            ));
        }
        if !f.limits.is_empty() {
            parts.push(format!("clocks limited by {}", f.limits.join(", ")));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// [`DeviceState::concern`] in a few words for a table cell: `clock 990/1980 MHz`,
    /// `memory 1600/3201 MHz`, the limiting reasons, or several of them.
    pub fn cell_note(&self) -> Option<String> {
        let f = self.findings();
        let mut parts = Vec::new();
        if let Some((clock, max)) = f.sm {
            parts.push(format!("clock {clock:.0}/{max:.0} MHz"));
        }
        if let Some((clock, max)) = f.mem {
            parts.push(format!("memory {clock:.0}/{max:.0} MHz"));
        }
        parts.extend(f.limits.iter().map(|r| r.to_string()));
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// What [`DeviceState::findings`] found: (median, maximum) of a low clock, and the limits.
struct Findings<'a> {
    sm: Option<(f64, f64)>,
    mem: Option<(f64, f64)>,
    limits: Vec<&'a str>,
}

/// NVML's "GPU idle" clocks-event reason.
const IDLE: u64 = 0x1;

/// NVML clocks-event reason bits (`nvmlClocksEventReason*`), in bit order.
const REASONS: [(u64, &str); 9] = [
    (0x1, "gpu_idle"),
    (0x2, "applications_clocks_setting"),
    (0x4, "sw_power_cap"),
    (0x8, "hw_slowdown"),
    (0x10, "sync_boost"),
    (0x20, "sw_thermal_slowdown"),
    (0x40, "hw_thermal_slowdown"),
    (0x80, "hw_power_brake_slowdown"),
    (0x100, "display_clock_setting"),
];

/// The reasons that mean the GPU was held below the clock it would otherwise run at.
const LIMITING: [&str; 6] = [
    "sw_power_cap",
    "hw_slowdown",
    "sw_thermal_slowdown",
    "hw_thermal_slowdown",
    "hw_power_brake_slowdown",
    "applications_clocks_setting",
];

/// Reason names of a `clocks_event_reasons.active` bitmask (`0x...`); unknown bits as
/// `bit_N`.
pub fn reason_names(mask: u64) -> Vec<String> {
    let mut out: Vec<String> = REASONS
        .iter()
        .filter(|(bit, _)| mask & bit != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    let known = REASONS.iter().fold(0, |a, (b, _)| a | b);
    for bit in 0..64 {
        if mask & !known & (1 << bit) != 0 {
            out.push(format!("bit_{bit}"));
        }
    }
    out
}

/// One GPU as `nvidia-smi` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct SmiGpu {
    pub index: u32,
    pub name: String,
    /// `pci.device_id`: device id in the high 16 bits, vendor id in the low 16.
    pub pci_device_id: u32,
    /// `pci.bus_id` as (domain, bus, device, function).
    pub bus: Option<(u32, u32, u32, u32)>,
    pub max_sm_clock_mhz: Option<f64>,
    pub max_mem_clock_mhz: Option<f64>,
}

/// Parse a PCI bus id, `0000:01:00.0` (Vulkan) or `00000000:01:00.0` (nvidia-smi).
pub fn parse_bus_id(s: &str) -> Option<(u32, u32, u32, u32)> {
    let s = s.trim();
    let (domain, rest) = s.split_once(':')?;
    let (bus, rest) = rest.split_once(':')?;
    let (dev, func) = rest.split_once('.')?;
    let hex = |t: &str| u32::from_str_radix(t, 16).ok();
    Some((hex(domain)?, hex(bus)?, hex(dev)?, hex(func)?))
}

fn number(field: &str) -> Option<f64> {
    field.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn hex_u64(field: &str) -> Option<u64> {
    let t = field.trim();
    let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X"))?;
    u64::from_str_radix(t, 16).ok()
}

/// The query that lists GPUs, and the parser of its output.
const LIST_QUERY: &str = "index,name,pci.device_id,pci.bus_id,clocks.max.sm,clocks.max.mem";

/// Parse `nvidia-smi --query-gpu=LIST_QUERY --format=csv,noheader,nounits`.
pub fn parse_list(out: &str) -> Vec<SmiGpu> {
    out.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            if f.len() != 6 {
                return None;
            }
            Some(SmiGpu {
                index: f[0].parse().ok()?,
                name: f[1].to_string(),
                pci_device_id: hex_u64(f[2]).and_then(|v| u32::try_from(v).ok())?,
                bus: parse_bus_id(f[3]),
                max_sm_clock_mhz: number(f[4]),
                max_mem_clock_mhz: number(f[5]),
            })
        })
        .collect()
}

/// Which listed GPU is the wgpu adapter with this vendor, device id and PCI bus id: the one
/// on the same bus where the adapter reports its bus, else the only one with the same
/// device id. `None` when nothing matches or the match is ambiguous.
pub fn match_gpu<'a>(
    gpus: &'a [SmiGpu],
    vendor: u32,
    device: u32,
    bus_id: &str,
) -> Option<&'a SmiGpu> {
    if vendor != NVIDIA_VENDOR {
        return None;
    }
    if let Some(bus) = parse_bus_id(bus_id) {
        // Domains are 16 bits in Vulkan's string and 32 in nvidia-smi's; compare the low 16.
        let same = |g: &&SmiGpu| {
            g.bus.is_some_and(|b| {
                (b.0 & 0xffff, b.1, b.2, b.3) == (bus.0 & 0xffff, bus.1, bus.2, bus.3)
            })
        };
        if let Some(g) = gpus.iter().find(same) {
            return Some(g);
        }
    }
    let mut same_id = gpus.iter().filter(|g| g.pci_device_id >> 16 == device);
    match (same_id.next(), same_id.next()) {
        (Some(g), None) => Some(g),
        _ => None,
    }
}

/// Where a GPU's state can be read: the `nvidia-smi` program and the GPU's index there.
#[derive(Debug, Clone)]
pub struct Source {
    program: String,
    index: u32,
    max_sm_clock_mhz: Option<f64>,
    max_mem_clock_mhz: Option<f64>,
    /// The clock-reason field this driver knows (`clocks_event_reasons.active`, or
    /// `clocks_throttle_reasons.active` before driver 535).
    reasons_field: &'static str,
}

/// The `nvidia-smi` program to use, or `None` when sampling is turned off.
fn program() -> Option<String> {
    match std::env::var("ACCELBENCH_NVIDIA_SMI") {
        Ok(v) if v == "off" || v.is_empty() => None,
        Ok(v) => Some(v),
        Err(_) => Some("nvidia-smi".into()),
    }
}

/// Longest wait for one `nvidia-smi` query: a GPU in a bad state can leave it hanging, and
/// a run must not hang with it.
const QUERY_TIMEOUT: Duration = Duration::from_secs(3);

/// Run `program args` and return its stdout, or `None` when it cannot start, fails, or has
/// not finished within [`QUERY_TIMEOUT`] (it is killed then).
fn query(program: &str, args: &[&str]) -> Option<String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let start = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() < QUERY_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(5))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    };
    if !status.success() {
        return None;
    }
    // The query's few lines fit in the pipe's buffer, so the child could exit before they
    // were read.
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take()?, &mut out).ok()?;
    Some(out)
}

impl Source {
    /// Find the GPU with this PCI vendor, device and bus id in `nvidia-smi`'s list. `None`
    /// (silently) where there is no such program, the adapter is not NVIDIA's, or no single
    /// listed GPU matches.
    pub fn find(vendor: u32, device: u32, bus_id: &str) -> Option<Source> {
        if vendor != NVIDIA_VENDOR {
            return None;
        }
        Source::find_with(&program()?, vendor, device, bus_id)
    }

    /// [`Source::find`] with the program named.
    pub fn find_with(program: &str, vendor: u32, device: u32, bus_id: &str) -> Option<Source> {
        let program = program.to_string();
        let list = query(
            &program,
            &[
                &format!("--query-gpu={LIST_QUERY}"),
                "--format=csv,noheader,nounits",
            ],
        )?;
        let gpus = parse_list(&list);
        let gpu = match_gpu(&gpus, vendor, device, bus_id)?;
        let index = gpu.index.to_string();
        let reasons_field = [
            "clocks_event_reasons.active",
            "clocks_throttle_reasons.active",
        ]
        .into_iter()
        .find(|f| {
            query(
                &program,
                &[
                    &format!("--query-gpu={f}"),
                    "--format=csv,noheader,nounits",
                    "-i",
                    &index,
                ],
            )
            .is_some()
        })?;
        Some(Source {
            program,
            index: gpu.index,
            max_sm_clock_mhz: gpu.max_sm_clock_mhz,
            max_mem_clock_mhz: gpu.max_mem_clock_mhz,
            reasons_field,
        })
    }

    /// `nvidia-smi -i N (SM up to X MHz, memory up to Y MHz)`.
    pub fn describe(&self) -> String {
        let top = |v: Option<f64>| v.map_or("unknown".to_string(), |x| format!("{x:.0} MHz"));
        format!(
            "{} -i {} (SM clock up to {}, memory up to {})",
            self.program,
            self.index,
            top(self.max_sm_clock_mhz),
            top(self.max_mem_clock_mhz)
        )
    }

    fn sample_query(&self) -> String {
        format!(
            "--query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu,pstate,{}",
            self.reasons_field
        )
    }

    /// Start sampling; [`Sampler::stop`] ends it and summarises. A thread runs one
    /// `nvidia-smi` query, waits [`SAMPLE_MS`], and repeats until stopped: each query exits
    /// normally, so no sample is lost in a pipe's buffer, and at least one is always taken.
    pub fn start(&self) -> Option<Sampler> {
        let (stop, stopped) = mpsc::channel::<()>();
        let program = self.program.clone();
        let args = [
            self.sample_query(),
            "--format=csv,noheader,nounits".to_string(),
            "-i".to_string(),
            self.index.to_string(),
        ];
        let worker = std::thread::Builder::new()
            .name("nvidia-smi sampler".into())
            .spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let mut lines = Vec::new();
                loop {
                    if let Some(out) = query(&program, &args) {
                        lines.extend(out.lines().map(str::to_string));
                    }
                    match stopped.recv_timeout(Duration::from_millis(SAMPLE_MS.into())) {
                        Err(mpsc::RecvTimeoutError::Timeout) => continue,
                        _ => break lines,
                    }
                }
            })
            .ok()?;
        Some(Sampler {
            stop,
            worker,
            source: self.clone(),
        })
    }
}

/// A thread querying `nvidia-smi` until stopped.
pub struct Sampler {
    stop: mpsc::Sender<()>,
    worker: JoinHandle<Vec<String>>,
    source: Source,
}

impl Sampler {
    /// Stop sampling (after the query in flight) and summarise; `None` when no query
    /// succeeded.
    pub fn stop(self) -> Option<DeviceState> {
        let _ = self.stop.send(());
        let lines = self.worker.join().ok()?;
        summarise(
            &lines,
            format!(
                "{} -i {}, queried every {SAMPLE_MS} ms or as fast as it answers, while the workload was timed",
                self.source.program, self.source.index
            ),
            self.source.max_sm_clock_mhz,
            self.source.max_mem_clock_mhz,
        )
    }
}

/// Summarise sample lines `clocks.sm, clocks.mem, power.draw, temperature.gpu, pstate,
/// reasons`. Lines that do not parse (a header, `[N/A]` clocks) are skipped; `[N/A]` power,
/// temperature or performance state only leaves that figure out.
pub fn summarise(
    lines: &[String],
    source: String,
    max_sm: Option<f64>,
    max_mem: Option<f64>,
) -> Option<DeviceState> {
    let mut pstates: Vec<String> = Vec::new();
    // (SM, memory, idle) per sample.
    let mut clocks: Vec<(f64, f64, bool)> = Vec::new();
    let (mut power, mut temp) = (Vec::new(), Vec::new());
    let mut mask = 0u64;
    for line in lines {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() != 6 {
            continue;
        }
        let (Some(s), Some(m)) = (number(f[0]), number(f[1])) else {
            continue;
        };
        let reasons = hex_u64(f[5]).unwrap_or(0);
        clocks.push((s, m, reasons & IDLE != 0));
        power.extend(number(f[2]));
        temp.extend(number(f[3]));
        if f[4].starts_with('P') && !pstates.iter().any(|p| p == f[4]) {
            pstates.push(f[4].to_string());
        }
        mask |= reasons;
    }
    // A sample between two of the timing loop's submissions sees an idle GPU and its resting
    // clocks: the clocks are those of the busy samples where there are any.
    let idle = clocks.iter().filter(|c| c.2).count();
    if idle < clocks.len() {
        clocks.retain(|c| !c.2);
    }
    let sm: Vec<f64> = clocks.iter().map(|c| c.0).collect();
    let mem: Vec<f64> = clocks.iter().map(|c| c.1).collect();
    let max = |v: &[f64]| v.iter().copied().reduce(f64::max);
    Some(DeviceState {
        source,
        samples: u32::try_from(sm.len()).unwrap_or(u32::MAX),
        idle_samples: u32::try_from(idle).unwrap_or(u32::MAX),
        sm_clock_mhz: Spread::of(&sm)?,
        max_sm_clock_mhz: max_sm,
        mem_clock_mhz: Spread::of(&mem)?,
        max_mem_clock_mhz: max_mem,
        pstates,
        power_w_max: max(&power),
        temp_c_max: max(&temp),
        limit_reasons: reason_names(mask & !IDLE),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_query_that_hangs_is_given_up_and_one_that_fails_is_none() {
        let t = std::time::Instant::now();
        assert_eq!(query("sleep", &["30"]), None);
        // Not a timing figure: only that the 30 s child was not waited for.
        assert!(t.elapsed() < Duration::from_secs(20));
        assert_eq!(query("false", &[]), None);
        assert_eq!(query("echo", &["a, b"]).as_deref(), Some("a, b\n"));
        assert_eq!(query("/no/such/program", &[]), None);
    }

    #[test]
    fn bus_ids_of_both_spellings_parse_to_the_same_numbers() {
        assert_eq!(parse_bus_id("0000:1b:00.0"), Some((0, 0x1b, 0, 0)));
        assert_eq!(parse_bus_id("00000000:1B:00.0"), Some((0, 0x1b, 0, 0)));
        assert_eq!(parse_bus_id("garbage"), None);
    }

    #[test]
    fn reason_bits_are_named_and_unknown_bits_kept() {
        assert_eq!(reason_names(0x0), Vec::<String>::new());
        assert_eq!(reason_names(0x5), vec!["gpu_idle", "sw_power_cap"]);
        assert_eq!(
            reason_names(0x80 | 0x1000),
            vec!["hw_power_brake_slowdown", "bit_12"]
        );
    }

    fn list() -> Vec<SmiGpu> {
        parse_list(
            "0, NVIDIA H100 80GB HBM3, 0x233010DE, 00000000:18:00.0, 1980, 2619\n\
             1, NVIDIA H100 80GB HBM3, 0x233010DE, 00000000:2A:00.0, 1980, 2619\n\
             2, NVIDIA L4, 0x27B810DE, 00000000:3A:00.0, [N/A], [N/A]\n",
        )
    }

    #[test]
    fn the_list_parses_every_field() {
        let l = list();
        assert_eq!(l.len(), 3);
        assert_eq!(l[1].index, 1);
        assert_eq!(l[1].pci_device_id >> 16, 0x2330);
        assert_eq!(l[1].bus, Some((0, 0x2a, 0, 0)));
        assert_eq!(l[0].max_sm_clock_mhz, Some(1980.0));
        assert_eq!(l[0].max_mem_clock_mhz, Some(2619.0));
        assert_eq!(l[2].max_sm_clock_mhz, None);
    }

    #[test]
    fn a_gpu_is_matched_by_bus_then_by_a_unique_device_id() {
        let l = list();
        // Two identical H100s: the bus decides.
        assert_eq!(
            match_gpu(&l, NVIDIA_VENDOR, 0x2330, "0000:2a:00.0").map(|g| g.index),
            Some(1)
        );
        // No bus from the adapter: ambiguous between the two H100s, unique for the L4.
        assert_eq!(match_gpu(&l, NVIDIA_VENDOR, 0x2330, ""), None);
        assert_eq!(
            match_gpu(&l, NVIDIA_VENDOR, 0x27b8, "").map(|g| g.index),
            Some(2)
        );
        // Another vendor's adapter is never matched.
        assert_eq!(match_gpu(&l, 0x1002, 0x27b8, ""), None);
    }

    #[test]
    fn samples_are_summarised_and_idle_is_not_a_limit() {
        let lines: Vec<String> = [
            "1980, 3201, 650.10, 55, P0, 0x0000000000000000",
            "1410, 3201, 699.90, 61, P0, 0x0000000000000004",
            "345, 3201, [N/A], 58, P0, 0x0000000000000001",
            "[N/A], [N/A], [N/A], [N/A], [N/A], [N/A]",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let s =
            summarise(&lines, "test".into(), Some(1980.0), Some(3201.0)).expect("three samples");
        assert_eq!(s.pstates, vec!["P0"]);
        // The idle sample's resting clock is left out.
        assert_eq!((s.samples, s.idle_samples), (2, 1));
        assert_eq!(
            s.sm_clock_mhz,
            Spread {
                min: 1410.0,
                p50: 1980.0,
                max: 1980.0
            }
        );
        assert_eq!(s.power_w_max, Some(699.9));
        assert_eq!(s.temp_c_max, Some(61.0));
        assert_eq!(s.limit_reasons, vec!["sw_power_cap"]);
        assert_eq!(s.cell_note().as_deref(), Some("sw_power_cap"));
        let c = s.concern().expect("a power cap is a concern");
        assert!(c.contains("sw_power_cap"), "{c}");
        assert!(!c.contains("SM clock"), "median at the maximum: {c}");
    }

    #[test]
    fn a_low_median_clock_is_a_concern_and_a_full_one_is_not() {
        let at = |mhz: &str| {
            summarise(
                &[format!("{mhz}, 3201, 300, 40, P0, 0x0")],
                "test".into(),
                Some(1980.0),
                Some(3201.0),
            )
            .expect("one sample")
        };
        assert!(at("1980").concern().is_none());
        let c = at("990").concern().expect("half the maximum clock");
        assert!(c.contains("990 MHz"), "{c}");
        assert_eq!(at("990").cell_note().as_deref(), Some("clock 990/1980 MHz"));
        assert_eq!(at("1980").cell_note(), None);
        assert!(summarise(&[], "test".into(), None, None).is_none());
        // Idle in every sample: the clocks are the idle ones, and say so.
        let idle = summarise(
            &["345, 3201, 80, 40, P0, 0x1".to_string()],
            "test".into(),
            Some(1980.0),
            Some(3201.0),
        )
        .expect("one sample");
        assert_eq!((idle.samples, idle.idle_samples), (1, 1));
        assert!(idle.limit_reasons.is_empty());
        // A lower performance state with the memory clock at half its maximum.
        let p2 = summarise(
            &["1980, 1600, 300, 40, P2, 0x0".to_string()],
            "test".into(),
            Some(1980.0),
            Some(3201.0),
        )
        .expect("one sample");
        assert_eq!(p2.cell_note().as_deref(), Some("memory 1600/3201 MHz"));
        assert!(p2.concern().unwrap().contains("performance state P2"));
    }
}
