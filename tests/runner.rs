//! The run loop's logic through `run::execute` with a fake backend (deterministic, instant): the
//! partial file an interruption leaves, failed workloads, nothing-could-run. No real kernels,
//! no sleeps.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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
}

/// A device whose kernels take `1000 + 10 x index` ns, every time, and return the reference's
/// answer.
struct Fake {
    script: Script,
    prepared: Arc<AtomicUsize>,
}

struct FakePrepared {
    output: Vec<f32>,
    ns_per_iter: u64,
    interrupt: Option<Arc<AtomicBool>>,
}

impl Prepared for FakePrepared {
    fn run_and_read(&mut self) -> Result<Vec<f32>> {
        Ok(self.output.clone())
    }
    fn time(&mut self, iters: u64) -> Result<u64> {
        if let Some(flag) = &self.interrupt {
            flag.store(true, Ordering::SeqCst);
        }
        Ok(iters * self.ns_per_iter)
    }
}

impl Backend for Fake {
    fn record(&self) -> DeviceRecord {
        DeviceRecord {
            cooperative_matrix: Vec::new(),
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
    fn prepare<'a>(&'a mut self, w: &Workload, inputs: &Inputs) -> Result<Box<dyn Prepared + 'a>> {
        let n = self.prepared.fetch_add(1, Ordering::SeqCst);
        let kernel = w.kernel_name();
        if self.script.fail_prepare.contains(&kernel) {
            bail!("the fake refuses {kernel}");
        }
        let mut output: Vec<f32> = reference::compute(w, &inputs.buffers)
            .into_iter()
            .map(|v| v as f32)
            .collect();
        if self.script.wrong_output.contains(&kernel) {
            output.iter_mut().for_each(|v| *v += 1.0);
        }
        let interrupt = match &self.script.interrupt_at {
            Some((at, flag)) if *at == n => Some(flag.clone()),
            _ => None,
        };
        Ok(Box::new(FakePrepared {
            output,
            ns_per_iter: 1000 + 10 * n as u64,
            interrupt,
        }))
    }
}

impl OpenBackends for Script {
    fn open(&self, _: &DeviceSelector, _: usize, _: &str) -> Result<Vec<Box<dyn Backend>>> {
        Ok(vec![Box::new(Fake {
            script: self.clone(),
            prepared: Arc::new(AtomicUsize::new(0)),
        })])
    }
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
    }
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
