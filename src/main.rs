//! The `accelbench` binary: parse, dispatch, print errors, exit. Nothing else.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use accelbench::cli::{Cli, Command};
use accelbench::{compare, cost, report, run};

fn main() -> ExitCode {
    let runtime_dir = quiet_graphics_stack_on_headless_machines();
    // Errors are reported as sentences; a panic would be a bug, so say so plainly.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error (this is a bug in accelbench, please report it): {info}");
    }));
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        dispatch(cli.command, &mut stdout)
    }));
    let _ = stdout.flush();
    if let Some(dir) = runtime_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    match result {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
        Err(_) => ExitCode::from(2),
    }
}

/// On a headless machine (a server, CI) `XDG_RUNTIME_DIR` is usually unset, and Mesa's
/// drivers print "error: XDG_RUNTIME_DIR is invalid or not set" while wgpu enumerates adapters,
/// which reads as if accelbench had failed. Point it at a private directory instead. This runs
/// first thing in `main`, before any thread exists, which is what `set_var` requires; the
/// directory is removed on the way out.
fn quiet_graphics_stack_on_headless_machines() -> Option<std::path::PathBuf> {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("accelbench-runtime-{}", std::process::id()));
    let made = {
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.recursive(true).create(&dir).is_ok()
    };
    if !made {
        return None;
    }
    // SAFETY: single-threaded at this point (called first in `main`).
    unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
    Some(dir)
}

fn dispatch(command: Command, stdout: &mut dyn Write) -> anyhow::Result<ExitCode> {
    match command {
        Command::Devices(a) => {
            run::devices(a.json, stdout)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(a) => {
            let opts = run::RunOptions {
                device: a.device.unwrap_or(run::DeviceSelector::Auto),
                suite: a.suite,
                kernels: a.kernels,
                shape: a.shape,
                threads: a.threads,
                max_time_per_workload_s: a.max_time_per_workload,
                target_rel_ci: a.target_ci,
                model: a.model,
                dtype: a.dtype,
                out: a.out,
                force: a.force,
                json: a.json,
                tune: !a.no_tune,
            };
            let interrupted = run::ctrl_c_flag();
            let outcome = run::execute(&opts, &run::SystemBackends, &interrupted, stdout)?;
            Ok(if outcome.interrupted {
                ExitCode::from(130)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Report(a) => {
            let opts = report::ReportOptions {
                files: a.files,
                format: a.format,
                transpose: a.transpose,
                out: a.out,
                force: a.force,
            };
            report::execute(&opts, stdout)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Cost(a) => {
            let opts = cost::CostOptions {
                files: a.files,
                model: a.model,
                scenario: a.scenario,
                batch: a.batch,
                prompt_tokens: a.prompt_tokens,
                output_tokens: a.output_tokens,
                precision: a.precision,
                pricing: a.pricing,
                dataset: a.dataset,
                instance: a.instance,
                price_per_hour: a.price_per_hour,
                efficiency_from: a.efficiency_from,
                family: a.family,
                list: a.list,
                validate: a.validate,
                calibrate: a.calibrate,
                format: a.format,
            };
            cost::execute(&opts, stdout)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Compare(a) => {
            let opts = compare::CompareOptions {
                baseline: a.baseline,
                candidate: a.candidate,
                threshold_pct: a.threshold,
                format: a.format,
            };
            let regressed = compare::execute(&opts, stdout)?;
            Ok(if regressed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
