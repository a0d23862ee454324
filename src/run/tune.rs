//! Choosing among a backend's kernels for a workload by timing them: where the backend offers
//! several choices (`Backend::choices`: the cooperative-matrix GEMM variants, the fused or
//! unfused decode layer, the grouped or per-query-head attention), each is verified and timed
//! briefly, and the fastest that verified is measured in full. The row records every trial
//! (`tuning`) and its note says which ran and why. A whole-model decode is decided on its
//! decode step (the same layer), once per device and shape in a run. `--no-tune` turns it off.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Result;

use super::verify::measure_one;
use crate::backend::Backend;
use crate::measure::{Interrupted, MeasureConfig};
use crate::render::units::format_ns;
use crate::results::{ResultRow, Tuning, TuningTrial};
use crate::workload::{Kernel, Workload};

/// Longest measuring time of one trial.
pub const TRIAL_MAX: Duration = Duration::from_millis(500);
/// Shortest measuring time of one trial.
pub const TRIAL_MIN: Duration = Duration::from_millis(50);

/// The decisions of a run, so that a workload timed on another (a whole model on its decode
/// step) and repeated shapes are decided once per device.
pub(super) struct Tuner {
    enabled: bool,
    decided: HashMap<String, Tuning>,
}

impl Tuner {
    pub(super) fn new(enabled: bool) -> Self {
        Tuner {
            enabled,
            decided: HashMap::new(),
        }
    }

    /// [`measure_one`], with the backend's fastest choice for `w` when it has several.
    pub(super) fn measure(
        &mut self,
        backend: &mut dyn Backend,
        device_id: &str,
        w: &Workload,
        cfg: &MeasureConfig,
        interrupted: &AtomicBool,
    ) -> Result<ResultRow> {
        let choices = if self.enabled {
            backend.choices(w)
        } else {
            Vec::new()
        };
        if choices.len() < 2 {
            return measure_one(backend, device_id, w, cfg, interrupted);
        }
        let on = timed_on(w);
        let key = format!("{device_id}\n{}", on.label());
        let tuning = match self.decided.get(&key) {
            Some(t) if choices.contains(&t.chosen) => t.clone(),
            _ => {
                let t = trials(backend, device_id, &on, &choices, cfg, interrupted)?;
                self.decided.insert(key, t.clone());
                t
            }
        };
        let measured = backend
            .choose(Some(&tuning.chosen))
            .and_then(|()| measure_one(backend, device_id, w, cfg, interrupted));
        backend.choose(None)?;
        let mut row = measured?;
        row.extra.add_note(describe(&tuning, &on == w));
        row.extra.tuning = Some(tuning);
        Ok(row)
    }
}

/// What the choices for `w` are timed on: a whole-model decode on its decode step (the same
/// layer: one layer's weights to build instead of every layer's, per choice), anything else
/// on itself.
fn timed_on(w: &Workload) -> Workload {
    match &w.kernel {
        Kernel::DecodeToken { model, context } => Workload::new(
            Kernel::DecodeStep {
                model: model.clone(),
                context: *context,
            },
            w.dtype,
        ),
        _ => w.clone(),
    }
}

/// The measuring config of a trial: a quarter of the row's time, within [`TRIAL_MIN`] and
/// [`TRIAL_MAX`].
fn trial_config(cfg: &MeasureConfig) -> MeasureConfig {
    MeasureConfig {
        max_time: (cfg.max_time / 4).clamp(TRIAL_MIN, TRIAL_MAX),
        warmup: cfg.warmup.min(TRIAL_MIN),
        min_samples: cfg.min_samples.min(5),
        ..cfg.clone()
    }
}

/// Verify and time each choice briefly on `on`; the fastest that verified is chosen, else the
/// first (the default), whose full measurement will then report the failure.
fn trials(
    backend: &mut dyn Backend,
    device_id: &str,
    on: &Workload,
    choices: &[String],
    cfg: &MeasureConfig,
    interrupted: &AtomicBool,
) -> Result<Tuning> {
    let short = trial_config(cfg);
    let mut out = Vec::with_capacity(choices.len());
    for c in choices {
        let row = backend
            .choose(Some(c))
            .and_then(|()| measure_one(backend, device_id, on, &short, interrupted));
        let trial = match row {
            Ok(r) if r.is_valid() => TuningTrial {
                choice: c.clone(),
                p50_ns: Some(r.ns.p50),
                error: None,
            },
            Ok(r) => TuningTrial {
                choice: c.clone(),
                p50_ns: None,
                error: Some(r.error.unwrap_or_else(|| "did not verify".into())),
            },
            Err(e) if e.is::<Interrupted>() => {
                backend.choose(None)?;
                return Err(e);
            }
            Err(e) => TuningTrial {
                choice: c.clone(),
                p50_ns: None,
                error: Some(format!("{e:#}")),
            },
        };
        out.push(trial);
    }
    backend.choose(None)?;
    let chosen = out
        .iter()
        .filter_map(|t| t.p50_ns.map(|ns| (ns, &t.choice)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map_or_else(|| choices[0].clone(), |(_, c)| c.clone());
    Ok(Tuning {
        chosen,
        timed_on: on.label(),
        trial_s: short.max_time.as_secs_f64(),
        trials: out,
    })
}

/// The row's note: which choice ran, and every trial's median or failure.
fn describe(t: &Tuning, on_itself: bool) -> String {
    let trials: Vec<String> = t
        .trials
        .iter()
        .map(|x| match (x.p50_ns, &x.error) {
            (Some(ns), _) if x.choice == t.chosen => {
                format!("{} {} (chosen)", x.choice, format_ns(ns))
            }
            (Some(ns), _) => format!("{} {}", x.choice, format_ns(ns)),
            (None, e) => format!(
                "{} failed ({})",
                x.choice,
                e.as_deref().unwrap_or("no time")
            ),
        })
        .collect();
    let any = t.trials.iter().any(|x| x.p50_ns.is_some());
    let on = if on_itself {
        "this workload".to_string()
    } else {
        t.timed_on.clone()
    };
    if any {
        format!(
            "kernel chosen by timing {} choices for up to {:.2} s each on {on}: {}",
            t.trials.len(),
            t.trial_s,
            trials.join(", ")
        )
    } else {
        format!(
            "no kernel choice verified on {on}, so the default {} ran: {}",
            t.chosen,
            trials.join(", ")
        )
    }
}
