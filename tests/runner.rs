//! The run loop's logic through `run::execute` with a fake backend (deterministic, instant): the
//! partial file an interruption leaves, failed workloads, nothing-could-run. No real kernels,
//! no sleeps.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use accelbench::backend::{Backend, Prepared};
use accelbench::reference::{self, Inputs};
use accelbench::results::{self, DeviceKind, DeviceRecord};
use accelbench::run::{self, DeviceSelector, OpenBackends, RunOptions};
use accelbench::suite::SuiteName;
use accelbench::workload::{KernelName, Workload};
use anyhow::{Result, bail};

/// How the fake misbehaves.
#[derive(Clone, Default)]
struct Script {
    /// Kernels whose `prepare` fails.
    fail_prepare: Vec<&'static str>,
    /// Kernels whose output is wrong (fails verification).
    wrong_output: Vec<&'static str>,
    /// Set this flag while timing the n-th prepared workload (0-based): a Ctrl-C mid-run.
    interrupt_at: Option<(usize, Arc<AtomicBool>)>,
    /// A stand-in `nvidia-smi` the fake reports as its state source.
    nvidia_smi: Option<String>,
    /// What the fake's bandwidth probe reads after the last workload.
    bandwidth_after: Option<f64>,
    /// Kernel choices offered for every workload: name, ns per invocation, wrong output. The
    /// first is the default.
    choices: Vec<(&'static str, u64, bool)>,
    /// Every this-many-th timing call of a prepared workload takes three times as long (a
    /// device that changes state now and then).
    slow_every: Option<u64>,
}

/// A device whose kernels take `1000 + 10 x index` ns, every time, and return the reference's
/// answer.
struct Fake {
    script: Script,
    prepared: Arc<AtomicUsize>,
    /// The choice set with `choose`, if any.
    current: Option<&'static str>,
    /// `choose NAME` / `choose -` / `prepare KERNEL NAME`, in order.
    log: Arc<Mutex<Vec<String>>>,
}

struct FakePrepared {
    output: Vec<f32>,
    ns_per_iter: u64,
    interrupt: Option<Arc<AtomicBool>>,
    slow_every: Option<u64>,
    calls: u64,
}

impl Prepared for FakePrepared {
    fn run_and_read(&mut self) -> Result<Vec<f32>> {
        Ok(self.output.clone())
    }
    fn time(&mut self, iters: u64) -> Result<u64> {
        if let Some(flag) = &self.interrupt {
            flag.store(true, Ordering::SeqCst);
        }
        self.calls += 1;
        let slow = self
            .slow_every
            .is_some_and(|k| self.calls.is_multiple_of(k));
        Ok(iters * self.ns_per_iter * if slow { 3 } else { 1 })
    }
}

impl Backend for Fake {
    fn record(&self) -> DeviceRecord {
        DeviceRecord {
            cooperative_matrix: Vec::new(),
            copy_gbps_after: None,
            dispatch_ns: None,
            id: "cpu".into(),
            kind: DeviceKind::Cpu,
            name: "Fake CPU".into(),
            backend: "fake".into(),
            driver: "-".into(),
            device_type: None,
            peak_gflops: Some(100.0),
            peak_gbps: Some(10.0),
            peak_source: "made up for a test".into(),
            peaks: None,
        }
    }
    fn unsupported(&self, _w: &Workload) -> Option<String> {
        None
    }
    fn state_source(&self) -> Option<accelbench::telemetry::Source> {
        let program = self.script.nvidia_smi.as_deref()?;
        accelbench::telemetry::Source::find_with(program, 0x10de, 0x2335, "0000:01:00.0")
    }
    fn bandwidth_after(&mut self) -> Option<results::PeakFigure> {
        self.script
            .bandwidth_after
            .map(|value| results::PeakFigure {
                value,
                source: "the fake's probe".into(),
            })
    }
    fn choices(&self, _w: &Workload) -> Vec<String> {
        self.script
            .choices
            .iter()
            .map(|c| c.0.to_string())
            .collect()
    }
    fn choose(&mut self, choice: Option<&str>) -> Result<()> {
        self.current = match choice {
            None => None,
            Some(c) => match self.script.choices.iter().find(|x| x.0 == c) {
                Some(x) => Some(x.0),
                None => bail!("no choice {c}"),
            },
        };
        let line = format!("choose {}", choice.unwrap_or("-"));
        self.log.lock().unwrap().push(line);
        Ok(())
    }
    fn prepare<'a>(&'a mut self, w: &Workload, inputs: &Inputs) -> Result<Box<dyn Prepared + 'a>> {
        let n = self.prepared.fetch_add(1, Ordering::SeqCst);
        let kernel = w.kernel_name();
        let choice = self
            .current
            .and_then(|c| self.script.choices.iter().find(|x| x.0 == c))
            .or(self.script.choices.first());
        self.log
            .lock()
            .unwrap()
            .push(format!("prepare {kernel} {}", choice.map_or("-", |c| c.0)));
        if self.script.fail_prepare.contains(&kernel) {
            bail!("the fake refuses {kernel}");
        }
        let mut output: Vec<f32> = reference::compute(w, &inputs.buffers)
            .into_iter()
            .map(|v| v as f32)
            .collect();
        if self.script.wrong_output.contains(&kernel) || choice.is_some_and(|c| c.2) {
            output.iter_mut().for_each(|v| *v += 1.0);
        }
        let interrupt = match &self.script.interrupt_at {
            Some((at, flag)) if *at == n => Some(flag.clone()),
            _ => None,
        };
        Ok(Box::new(FakePrepared {
            output,
            ns_per_iter: choice.map_or(1000 + 10 * n as u64, |c| c.1),
            interrupt,
            slow_every: self.script.slow_every,
            calls: 0,
        }))
    }
}

impl OpenBackends for Script {
    fn open(&self, _: &DeviceSelector, _: usize, _: &str) -> Result<Vec<Box<dyn Backend>>> {
        Ok(vec![Box::new(Fake {
            script: self.clone(),
            prepared: Arc::new(AtomicUsize::new(0)),
            current: None,
            log: LOG.with(|l| l.clone()),
        })])
    }
}

thread_local! {
    /// The fake's log for the test running on this thread.
    static LOG: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
}

/// Small kernels of the quick suite, a short time budget: each workload takes milliseconds.
fn options(out: &Path) -> RunOptions {
    RunOptions {
        device: DeviceSelector::Cpu,
        suite: SuiteName::Quick,
        kernels: vec![
            KernelName::Softmax,
            KernelName::RmsNorm,
            KernelName::StreamTriad,
        ],
        shape: None,
        threads: Some(1),
        max_time_per_workload_s: Some(0.01),
        target_rel_ci: 0.02,
        model: None,
        dtype: None,
        out: Some(out.to_path_buf()),
        force: false,
        json: false,
        tune: true,
    }
}

fn execute(script: &Script, out: &Path, flag: &AtomicBool) -> Result<(run::RunOutcome, String)> {
    let mut stdout = Vec::new();
    let outcome = run::execute(&options(out), script, flag, &mut stdout)?;
    Ok((outcome, String::from_utf8(stdout).unwrap()))
}

#[test]
fn a_fake_run_writes_every_workload_with_its_deterministic_timing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let (outcome, table) = execute(&Script::default(), &out, &AtomicBool::new(false)).unwrap();
    assert!(!outcome.interrupted);
    assert_eq!(outcome.failed, 0);
    let run = results::load(&out).unwrap();
    assert!(!run.partial);
    assert!(run.results.len() >= 3, "{}", run.results.len());
    for (i, r) in run.results.iter().enumerate() {
        assert!(r.is_valid(), "{}: {:?}", r.workload_label(), r.error);
        assert_eq!(r.ns.p50, 1000.0 + 10.0 * i as f64, "{}", r.workload_label());
        assert!(table.contains(&r.workload_label()));
        assert_eq!(r.extra.outliers, None, "steady samples");
    }
    assert!(run::outlier_warnings(&run).is_empty());
}

#[test]
fn samples_from_a_second_state_of_the_device_are_outliers_noted_on_the_row_and_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let script = Script {
        slow_every: Some(5),
        ..Script::default()
    };
    execute(&script, &out, &AtomicBool::new(false)).unwrap();
    let run = results::load(&out).unwrap();
    for (i, r) in run.results.iter().enumerate() {
        let label = r.workload_label();
        // The median is the steady state's; the slow samples are counted, not hidden.
        assert_eq!(r.ns.p50, 1000.0 + 10.0 * i as f64, "{label}");
        assert_eq!(r.ns.max, 3.0 * r.ns.p50, "{label}");
        let o = r.extra.outliers.expect("the slow samples are outliers");
        assert_eq!(o.fast, 0, "{label}");
        assert!(
            o.slow >= 1 && o.slow <= r.samples as usize / 4,
            "{label}: {o:?}"
        );
        assert!((o.max_over_median - 3.0).abs() < 1e-9, "{label}: {o:?}");
        let note = r.extra.note.as_deref().unwrap_or_default();
        assert!(
            note.contains(&format!(
                "{} of {} samples are outliers, {} slower (the slowest 3.00x the median)",
                o.slow, r.samples, o.slow
            )),
            "{label}: {note}"
        );
    }
    let warnings = run::outlier_warnings(&run);
    assert_eq!(
        warnings.len(),
        1,
        "one line for the one device: {warnings:?}"
    );
    assert!(
        warnings[0].starts_with(&format!(
            "cpu: {} row(s) had statistical outliers",
            run.results.len()
        )),
        "{}",
        warnings[0]
    );
}

/// A run interrupted while the `at`-th workload is timed: it says so, and its file is partial.
fn interrupted_run(at: usize) -> results::RunResults {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("partial.json");
    let flag = Arc::new(AtomicBool::new(false));
    let script = Script {
        interrupt_at: Some((at, flag.clone())),
        ..Script::default()
    };
    let (outcome, _) = execute(&script, &out, &flag).unwrap();
    assert!(outcome.interrupted);
    let run = results::load(&out).unwrap();
    assert!(run.partial);
    run
}

#[test]
fn an_interrupt_keeps_the_measured_workloads_in_a_valid_partial_file() {
    let run = interrupted_run(2);
    // The two workloads measured before the interrupt, and not the one it cut short.
    assert_eq!(run.results.len(), 2);
    assert!(run.results.iter().all(|r| r.is_valid()));
}

#[test]
fn an_interrupt_before_anything_was_measured_still_writes_a_partial_file() {
    assert!(interrupted_run(0).results.is_empty());
}

#[test]
fn failed_workloads_are_reported_beside_the_ones_that_ran() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let script = Script {
        fail_prepare: vec!["softmax"],
        wrong_output: vec!["rmsnorm"],
        ..Script::default()
    };
    let (outcome, table) = execute(&script, &out, &AtomicBool::new(false)).unwrap();
    assert!(!outcome.interrupted);
    let run = results::load(&out).unwrap();
    let failed: Vec<&str> = run
        .results
        .iter()
        .filter(|r| !r.is_valid())
        .map(|r| r.kernel.as_str())
        .collect();
    assert_eq!(outcome.failed, failed.len());
    assert!(
        failed.contains(&"softmax") && failed.contains(&"rmsnorm"),
        "{failed:?}"
    );
    assert!(run.results.iter().any(|r| r.is_valid()));
    assert!(table.contains("FAILED: could not prepare: the fake refuses softmax"));
    assert!(table.contains("FAILED: verification failed"));
}

#[test]
fn nothing_could_run_is_an_error_and_writes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let script = Script {
        fail_prepare: vec!["softmax", "rmsnorm", "stream_triad"],
        ..Script::default()
    };
    let err = execute(&script, &out, &AtomicBool::new(false)).unwrap_err();
    assert!(format!("{err:#}").contains("nothing could run"), "{err:#}");
    assert!(!out.exists());
}

/// A stand-in for `nvidia-smi`: one H200-like GPU whose SM clock is half its maximum, under a
/// software power cap.
#[cfg(unix)]
fn fake_nvidia_smi(dir: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("nvidia-smi");
    std::fs::write(
        &path,
        "#!/bin/sh\n\
         case \"$*\" in\n\
         *index,name*) echo '0, NVIDIA Fake, 0x233510DE, 00000000:01:00.0, 1980, 3201' ;;\n\
         *clocks.sm*) echo '990, 3201, 700.50, 80, P0, 0x0000000000000004' ;;\n\
         *) echo '0x0000000000000000' ;;\n\
         esac\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_string_lossy().into_owned()
}

#[cfg(unix)]
#[test]
fn the_device_state_is_sampled_while_each_row_is_timed_and_a_reduced_clock_is_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let script = Script {
        nvidia_smi: Some(fake_nvidia_smi(dir.path())),
        bandwidth_after: Some(5.0),
        ..Script::default()
    };
    let src = accelbench::telemetry::Source::find_with(
        script.nvidia_smi.as_deref().unwrap(),
        0x10de,
        0x2335,
        "0000:01:00.0",
    )
    .expect("the stand-in lists the GPU on that bus");
    assert!(
        src.describe()
            .ends_with("-i 0 (SM clock up to 1980 MHz, memory up to 3201 MHz)"),
        "{}",
        src.describe()
    );
    let out = dir.path().join("r.json");
    let mut opts = options(&out);
    // Long enough that the stand-in prints while each row is timed.
    opts.max_time_per_workload_s = Some(0.3);
    let flag = AtomicBool::new(false);
    run::execute(&opts, &script, &flag, &mut Vec::new()).unwrap();
    let mut r = results::load(&out).unwrap();
    let n = r.results.len();
    assert!(n >= 3, "{n} rows");
    for row in &r.results {
        let s = row.extra.device_state.as_ref().expect("every row sampled");
        assert!(s.samples >= 1, "{s:?}");
        assert_eq!(s.sm_clock_mhz.p50, 990.0);
        assert_eq!(s.max_sm_clock_mhz, Some(1980.0));
        assert_eq!(s.power_w_max, Some(700.5));
        assert_eq!(s.limit_reasons, vec!["sw_power_cap"]);
        assert_eq!(s.pstates, vec!["P0"]);
        assert_eq!(s.max_mem_clock_mhz, Some(3201.0));
        assert!(s.source.contains("-i 0"), "{}", s.source);
    }
    assert_eq!(
        r.devices[0].copy_gbps_after.as_ref().map(|f| f.value),
        Some(5.0)
    );

    let sums = run::state_summaries(&r);
    assert_eq!(sums.len(), 1, "{sums:?}");
    assert!(
        sums[0].contains(&format!("{n} row(s)"))
            && sums[0].contains("990-990 MHz")
            && sums[0].contains("P0")
            && sums[0].contains("700 W")
            && sums[0].contains("80 °C"),
        "{}",
        sums[0]
    );
    let w = run::state_warnings(&r);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains(&format!("{n} of {n} row(s)")), "{}", w[0]);
    assert!(
        w[0].contains("990 MHz") && w[0].contains("sw_power_cap"),
        "{}",
        w[0]
    );

    // The probe after the last workload at half the one before it is a changed state.
    r.devices[0].peaks = Some(results::DevicePeaks {
        gbps: results::PeakPair {
            measured: Some(results::PeakFigure {
                value: 10.0,
                source: "before".into(),
            }),
            ..Default::default()
        },
        ..Default::default()
    });
    let w = run::state_warnings(&r);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[1].contains("10.0 GB/s before") && w[1].contains("-50%"),
        "{}",
        w[1]
    );
}

#[test]
fn without_a_state_source_rows_carry_no_device_state_and_no_warning() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let flag = AtomicBool::new(false);
    execute(&Script::default(), &out, &flag).unwrap();
    let r = results::load(&out).unwrap();
    assert!(r.results.iter().all(|row| row.extra.device_state.is_none()));
    assert!(run::state_warnings(&r).is_empty());
    assert!(run::state_summaries(&r).is_empty());
}

/// The fake with three choices: `slow` (the default), `fast`, and `fastest` whose output is
/// wrong.
fn tuning_script() -> Script {
    Script {
        choices: vec![
            ("slow", 3000, false),
            ("fast", 1000, false),
            ("fastest", 500, true),
        ],
        ..Script::default()
    }
}

#[test]
fn each_choice_is_verified_and_timed_and_the_fastest_that_verified_is_measured() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    LOG.with(|l| l.lock().unwrap().clear());
    let (outcome, _) = execute(&tuning_script(), &out, &AtomicBool::new(false)).unwrap();
    assert_eq!(
        outcome.failed, 0,
        "a choice that fails verification is not measured"
    );
    let run = results::load(&out).unwrap();
    assert_eq!(run.settings.as_ref().unwrap().tune, Some(true));
    for r in &run.results {
        let t = r.extra.tuning.as_ref().expect("tuning recorded");
        assert_eq!(t.chosen, "fast", "{}", r.workload_label());
        assert_eq!(r.ns.p50, 1000.0, "the row measured the chosen kernel");
        assert_eq!(t.timed_on, r.workload_label());
        let times: Vec<Option<f64>> = t.trials.iter().map(|x| x.p50_ns).collect();
        assert_eq!(times, [Some(3000.0), Some(1000.0), None]);
        assert!(t.trials[2].error.as_deref().unwrap().contains("verif"));
        let note = r.extra.note.as_deref().unwrap();
        assert!(note.contains("fast 1.00 µs (chosen)"), "{note}");
        assert!(note.contains("fastest failed"), "{note}");
    }
    let log = LOG.with(|l| l.lock().unwrap().clone());
    // Per workload: three trials, back to the default, the chosen one measured, default again.
    let first: Vec<&str> = log.iter().take(9).map(String::as_str).collect();
    let k = run.results[0].kernel.as_str();
    assert_eq!(
        first,
        [
            "choose slow".to_string(),
            format!("prepare {k} slow"),
            "choose fast".into(),
            format!("prepare {k} fast"),
            "choose fastest".into(),
            format!("prepare {k} fastest"),
            "choose -".into(),
            "choose fast".into(),
            format!("prepare {k} fast"),
        ]
    );
    assert_eq!(log.last().map(String::as_str), Some("choose -"));
}

#[test]
fn no_tune_measures_the_default_and_never_chooses() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    LOG.with(|l| l.lock().unwrap().clear());
    let mut opts = options(&out);
    opts.tune = false;
    run::execute(
        &opts,
        &tuning_script(),
        &AtomicBool::new(false),
        &mut Vec::new(),
    )
    .unwrap();
    let run = results::load(&out).unwrap();
    assert_eq!(run.settings.as_ref().unwrap().tune, Some(false));
    for r in &run.results {
        assert!(r.extra.tuning.is_none());
        assert_eq!(r.ns.p50, 3000.0, "the default, slow");
    }
    let log = LOG.with(|l| l.lock().unwrap().clone());
    assert!(log.iter().all(|l| !l.starts_with("choose")), "{log:?}");
}

#[test]
fn a_whole_model_is_decided_on_its_decode_step_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    LOG.with(|l| l.lock().unwrap().clear());
    let mut opts = options(&out);
    opts.kernels = vec![KernelName::DecodeStep, KernelName::DecodeToken];
    opts.model = Some("tiny".into());
    opts.dtype = Some(accelbench::workload::Dtype::F32);
    let script = Script {
        choices: vec![("slow", 3000, false), ("fast", 1000, false)],
        ..Script::default()
    };
    run::execute(&opts, &script, &AtomicBool::new(false), &mut Vec::new()).unwrap();
    let run = results::load(&out).unwrap();
    let step = run
        .results
        .iter()
        .find(|r| r.kernel == "decode_step")
        .unwrap();
    let token = run
        .results
        .iter()
        .find(|r| r.kernel == "decode_token")
        .unwrap();
    let (ts, tt) = (
        step.extra.tuning.as_ref().unwrap(),
        token.extra.tuning.as_ref().unwrap(),
    );
    assert_eq!(ts, tt, "the decode step's decision, reused");
    assert_eq!(tt.timed_on, step.workload_label());
    assert!(
        token
            .extra
            .note
            .as_deref()
            .unwrap()
            .contains(&step.workload_label())
    );
    let log = LOG.with(|l| l.lock().unwrap().clone());
    let trials = log
        .iter()
        .filter(|l| l.starts_with("prepare decode_step"))
        .count();
    let tokens = log
        .iter()
        .filter(|l| l.starts_with("prepare decode_token"))
        .count();
    assert_eq!(
        (trials, tokens),
        (3, 1),
        "two trials and the measurement; no trial of the whole model: {log:?}"
    );
}
