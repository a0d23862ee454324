//! Fitting the serving model's parameters to the published-measurement dataset: a pooled fit
//! over every case, then one fit per accelerator family pulled toward the pooled one, and the
//! fitted table that ships in the binary (`fitted.toml`, written by `cost --calibrate`).
//!
//! The fit is deterministic: least squares on the log ratio of projected to published speed,
//! plus a quadratic penalty on each log-parameter's distance from its prior (the pooled fit for
//! a family; a nominal point, weakly, for the pooled fit), minimised by coordinate descent with
//! a grid scan and golden-section refinement inside fixed bounds. Efficiencies stay in (0, 1].

use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use super::dataset::{Case, Metric};
use super::pricing::Pricing;
use super::serving::{self, Hardware, Params};

/// The embedded fitted table's text.
pub const EMBEDDED_TOML: &str = include_str!("fitted.toml");

/// Weight of the pull toward the prior, per log-parameter, in units of squared log ratio.
/// A family fit with few cases stays near the pooled fit; many cases move it.
const FAMILY_PRIOR_WEIGHT: f64 = 0.5;
/// The pooled fit is pulled only weakly toward the nominal point, so that parameters no case
/// constrains (a link nobody measured) stay finite and sensible.
const POOLED_PRIOR_WEIGHT: f64 = 0.02;
/// Pull of each engine's log factor toward 1: an engine seen in one family only cannot take
/// that family's whole difference from the pool.
const ENGINE_PRIOR_WEIGHT: f64 = 1.0;

/// Nominal point for the pooled fit's prior: the middle of what tuned stacks publish.
const NOMINAL: Params = Params {
    compute: 0.5,
    memory: 0.7,
    link: 0.5,
    allreduce_latency_us: 10.0,
    layer_overhead_us: 5.0,
};

/// Bounds of each parameter: (low, high); then of every engine factor.
const BOUNDS: [(f64, f64); N] = [
    (0.02, 1.0),
    (0.02, 1.0),
    (0.02, 1.0),
    (0.5, 2000.0),
    (0.1, 2000.0),
];
/// Parameters per family.
const N: usize = 5;
const ENGINE_BOUNDS: (f64, f64) = (0.25, 4.0);

fn to_x(p: &Params) -> Vec<f64> {
    vec![
        p.compute.ln(),
        p.memory.ln(),
        p.link.ln(),
        p.allreduce_latency_us.ln(),
        p.layer_overhead_us.ln(),
    ]
}

fn from_x(x: &[f64]) -> Params {
    Params {
        compute: x[0].exp(),
        memory: x[1].exp(),
        link: x[2].exp(),
        allreduce_latency_us: x[3].exp(),
        layer_overhead_us: x[4].exp(),
    }
}

/// The hardware a case (or a query) runs on.
pub fn hardware(
    pricing: &Pricing,
    family: &str,
    chips: u64,
    precision: super::Precision,
) -> Result<Hardware> {
    let acc = pricing
        .accelerator(family)
        .ok_or_else(|| anyhow!("accelerator '{family}' is not in the pricing table"))?;
    Ok(Hardware::new(
        acc,
        chips,
        precision,
        pricing.usable_memory_fraction,
        pricing.max_batch,
    ))
}

/// The case's figure as the model projects it at `p` with engine factor `engine` (a speed
/// multiplier), in the case's own metric.
pub fn predict(case: &Case, hw: &Hardware, p: &Params, engine: f64) -> f64 {
    let proj = serving::project(&case.workload(), hw, p);
    match case.metric {
        Metric::OutputTokensPerS => proj.output_tokens_per_s * engine,
        Metric::TotalTokensPerS => proj.total_tokens_per_s * engine,
        Metric::MsPerOutputToken => proj.ms_per_output_token / engine,
    }
}

/// Projected over published speed (above 1: the model is optimistic). For a time per token
/// the ratio is published time over projected time, so every ratio reads the same way.
pub fn speed_ratio(case: &Case, projected: f64) -> f64 {
    if case.metric.higher_is_faster() {
        projected / case.value
    } else {
        case.value / projected
    }
}

/// A case with its hardware, ready to project many times.
struct Prepared<'a> {
    case: &'a Case,
    hw: Hardware,
    /// Index of the case's engine in the fit's engine list.
    engine: usize,
}

/// Minimise `f` over `x` inside `bounds` by coordinate descent: per coordinate a 17-point grid
/// over its bounds, then golden-section search around the best grid point.
fn minimise(mut x: Vec<f64>, bounds: &[(f64, f64)], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    for (k, (lo, hi)) in bounds.iter().enumerate() {
        x[k] = x[k].clamp(lo.ln(), hi.ln());
    }
    let mut best = f(&x);
    for _sweep in 0..12 {
        let before = best;
        for k in 0..x.len() {
            let (lo, hi) = (bounds[k].0.ln(), bounds[k].1.ln());
            let mut y = x.clone();
            let mut at = |v: f64| {
                y[k] = v;
                f(&y)
            };
            let steps = 16;
            let h = (hi - lo) / steps as f64;
            let mut center = x[k];
            let mut center_f = best;
            for s in 0..=steps {
                let v = lo + h * s as f64;
                let fv = at(v);
                if fv < center_f {
                    center = v;
                    center_f = fv;
                }
            }
            let (mut a, mut b) = ((center - h).max(lo), (center + h).min(hi));
            let g = (5f64.sqrt() - 1.0) / 2.0;
            let mut c = b - g * (b - a);
            let mut d = a + g * (b - a);
            let (mut fc, mut fd) = (at(c), at(d));
            for _ in 0..30 {
                if fc < fd {
                    b = d;
                    d = c;
                    fd = fc;
                    c = b - g * (b - a);
                    fc = at(c);
                } else {
                    a = c;
                    c = d;
                    fc = fd;
                    d = a + g * (b - a);
                    fd = at(d);
                }
            }
            let (v, fv) = if fc < fd { (c, fc) } else { (d, fd) };
            if fv < center_f {
                center = v;
                center_f = fv;
            }
            x[k] = center;
            best = center_f;
        }
        if before - best < 1e-10 {
            break;
        }
    }
    x
}

/// Round to four significant digits, so the shipped table reads cleanly and a fit at run
/// time gives the same figures as the table.
fn round4(v: f64) -> f64 {
    format!("{v:.3e}").parse().unwrap_or(v)
}

fn round(p: Params) -> Params {
    Params {
        compute: round4(p.compute).min(1.0),
        memory: round4(p.memory).min(1.0),
        link: round4(p.link).min(1.0),
        allreduce_latency_us: round4(p.allreduce_latency_us),
        layer_overhead_us: round4(p.layer_overhead_us),
    }
}

/// Parameters of the pooled fit, of every engine and of every family that has cases.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub pooled: Params,
    /// Speed factor of each engine (1: the pooled fit's engine).
    pub engines: BTreeMap<String, f64>,
    pub families: BTreeMap<String, FamilyFit>,
    pub cases: usize,
}

/// One family's fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyFit {
    pub params: Params,
    pub cases: usize,
    /// The fastest engine measured on the family: projections assume it.
    pub engine: String,
    pub engine_factor: f64,
}

impl Fit {
    /// Parameters and engine factor that project `family`: its own fit with its fastest
    /// measured engine, or the pooled fit at factor 1.
    pub fn params(&self, family: &str) -> (Params, f64) {
        match self.families.get(family) {
            Some(f) => (f.params, f.engine_factor),
            None => (self.pooled, 1.0),
        }
    }
}

/// Fit `cases`. The result does not depend on their order.
pub fn fit(cases: &[&Case], pricing: &Pricing) -> Result<Fit> {
    let engines: Vec<String> = cases
        .iter()
        .map(|c| c.engine.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let prepared: Vec<Prepared> = cases
        .iter()
        .map(|c| {
            Ok(Prepared {
                case: c,
                hw: hardware(pricing, &c.family, c.chips, c.precision)
                    .with_context(|| format!("dataset case '{}'", c.id))?,
                engine: engines.iter().position(|e| *e == c.engine).unwrap_or(0),
            })
        })
        .collect::<Result<_>>()?;
    let residuals = |members: &[&Prepared], p: &Params, factors: &[f64]| -> f64 {
        members
            .iter()
            .map(|c| {
                speed_ratio(c.case, predict(c.case, &c.hw, p, factors[c.engine]))
                    .ln()
                    .powi(2)
            })
            .sum()
    };

    // Pooled: the four parameters and one log factor per engine.
    let nominal = to_x(&NOMINAL);
    let mut bounds = BOUNDS.to_vec();
    bounds.extend(std::iter::repeat_n(ENGINE_BOUNDS, engines.len()));
    let mut start = nominal.clone();
    start.extend(std::iter::repeat_n(0.0, engines.len()));
    let all: Vec<&Prepared> = prepared.iter().collect();
    let x = minimise(start, &bounds, |x| {
        let factors: Vec<f64> = x[N..].iter().map(|v| v.exp()).collect();
        let pull: f64 = x[..N]
            .iter()
            .zip(&nominal)
            .map(|(a, b)| (a - b).powi(2))
            .sum();
        let engine_pull: f64 = x[N..].iter().map(|v| v * v).sum();
        residuals(&all, &from_x(&x[..N]), &factors)
            + POOLED_PRIOR_WEIGHT * pull
            + ENGINE_PRIOR_WEIGHT * engine_pull
    });
    let pooled = round(from_x(&x[..N]));
    let factors: Vec<f64> = x[N..].iter().map(|v| round4(v.exp())).collect();

    // Families, with the engine factors held.
    let prior = to_x(&pooled);
    let mut families = BTreeMap::new();
    let mut by_family: BTreeMap<&str, Vec<&Prepared>> = BTreeMap::new();
    for p in &prepared {
        by_family.entry(&p.case.family).or_default().push(p);
    }
    for (family, members) in &by_family {
        let x = minimise(prior.clone(), &BOUNDS, |x| {
            let pull: f64 = x.iter().zip(&prior).map(|(a, b)| (a - b).powi(2)).sum();
            residuals(members, &from_x(x), &factors) + FAMILY_PRIOR_WEIGHT * pull
        });
        let fastest = members
            .iter()
            .map(|m| m.engine)
            .max_by(|a, b| factors[*a].total_cmp(&factors[*b]).then(b.cmp(a)))
            .unwrap_or(0);
        families.insert(
            family.to_string(),
            FamilyFit {
                params: round(from_x(&x)),
                cases: members.len(),
                engine: engines[fastest].clone(),
                engine_factor: factors[fastest],
            },
        );
    }
    Ok(Fit {
        pooled,
        engines: engines.into_iter().zip(factors).collect(),
        families,
        cases: cases.len(),
    })
}

/// The fitted entry a projection uses, and how the row names it.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyChoice {
    pub entry: FamilyEntry,
    pub label: String,
}

/// One family's row of the fitted table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyEntry {
    /// Accelerator id, or `pooled`.
    pub family: String,
    pub cases: usize,
    /// The engine projections assume (the fastest measured on the family) and its factor.
    pub engine: String,
    pub engine_factor: f64,
    #[serde(flatten)]
    pub params: Params,
    /// Smallest and largest leave-one-out ratio (projected / published speed) of the family's
    /// cases; the projection's range divides by these.
    pub loo_ratio_low: f64,
    pub loo_ratio_high: f64,
}

/// The fitted table that ships in the binary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedTable {
    /// Cases of the dataset the table was fitted to.
    pub dataset_cases: usize,
    /// Speed factor of each engine, relative to the pooled fit.
    pub engines: BTreeMap<String, f64>,
    pub pooled: FamilyEntry,
    #[serde(default)]
    pub family: Vec<FamilyEntry>,
}

impl FittedTable {
    /// The table shipped in the binary.
    pub fn embedded() -> Result<FittedTable> {
        toml::from_str(EMBEDDED_TOML).map_err(|e| anyhow!("<embedded fitted.toml>: {e}"))
    }

    /// The entry that projects `family`: its own, or the pooled one.
    pub fn entry(&self, family: &str) -> (&FamilyEntry, bool) {
        match self.family.iter().find(|f| f.family == family) {
            Some(f) => (f, true),
            None => (&self.pooled, false),
        }
    }

    /// What projects `family`: its own fit and fastest engine; for a family without a
    /// published case, the pooled parameters with the median engine factor (and that engine)
    /// of the validated families of the same kind (GPU or custom silicon), so an unmeasured
    /// GPU is assumed to be served as the measured GPUs are.
    pub fn choice(&self, pricing: &Pricing, family: &str) -> FamilyChoice {
        if let (e, true) = self.entry(family) {
            return FamilyChoice {
                label: format!("{family} fit, as with {} (x{})", e.engine, e.engine_factor),
                entry: e.clone(),
            };
        }
        let kind = pricing.accelerator(family).map(|a| a.kind);
        let mut peers: Vec<&FamilyEntry> = self
            .family
            .iter()
            .filter(|f| pricing.accelerator(&f.family).map(|a| a.kind) == kind)
            .collect();
        peers.sort_by(|a, b| a.engine_factor.total_cmp(&b.engine_factor));
        let mut entry = self.pooled.clone();
        let mut label =
            "pooled fit (unvalidated: no published case for this accelerator)".to_string();
        if let Some(mid) = peers.get(peers.len() / 2) {
            entry.engine = mid.engine.clone();
            entry.engine_factor = mid.engine_factor;
            label = format!(
                "{label}, as with {} (x{}, the median of the measured {} families)",
                mid.engine,
                mid.engine_factor,
                kind.map_or("", |k| k.name())
            );
        }
        FamilyChoice { entry, label }
    }

    /// The table as the TOML file that ships in the binary.
    pub fn to_toml(&self) -> Result<String> {
        let body = toml::to_string(self).context("could not write the fitted table")?;
        Ok(format!(
            "# Fitted serving-model parameters, generated by `accelbench cost --calibrate` from\n\
             # src/cost/dataset.toml; do not edit by hand (a test checks that a fresh fit matches).\n\
             # compute / memory / link: fractions of peak FLOP/s, memory bandwidth and link bandwidth;\n\
             # engine_factor: speed of the family's fastest measured engine relative to the pool;\n\
             # allreduce_latency_us: fixed cost of one all-reduce; layer_overhead_us: fixed cost per layer\n\
             # per step; loo_ratio_low/high: range of the\n\
             # family's leave-one-out ratios (projected / published speed).\n\n{body}"
        ))
    }

    /// Checks the table's numbers (the embedded one, or one built at run time).
    pub fn check(&self) -> Result<()> {
        for e in std::iter::once(&self.pooled).chain(&self.family) {
            let p = &e.params;
            for (name, v) in [
                ("compute", p.compute),
                ("memory", p.memory),
                ("link", p.link),
            ] {
                if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                    bail!(
                        "fitted table: family '{}' field '{name}' is {v}; expected a fraction in (0, 1]",
                        e.family
                    );
                }
            }
            if !(e.engine_factor.is_finite() && e.engine_factor > 0.0) {
                bail!(
                    "fitted table: family '{}' field 'engine_factor' is {}; expected a positive number",
                    e.family,
                    e.engine_factor
                );
            }
            for (name, v) in [
                ("allreduce_latency_us", p.allreduce_latency_us),
                ("layer_overhead_us", p.layer_overhead_us),
            ] {
                if !(v.is_finite() && v > 0.0) {
                    bail!(
                        "fitted table: family '{}' field '{name}' is {v}; expected a positive number of microseconds",
                        e.family
                    );
                }
            }
        }
        Ok(())
    }
}
