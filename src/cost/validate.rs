//! The model's own validation: every dataset case projected in-sample and leave-one-out (the
//! whole fit redone without the case), leave-one-family-out for families with 3 or more cases,
//! and the fitted table built from these (`cost --calibrate`).

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use super::dataset::Case;
use super::fit::{self, FamilyEntry, Fit, FittedTable};
use super::pricing::Pricing;

/// One case checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseCheck {
    pub id: String,
    pub family: String,
    pub chips: u64,
    pub model: String,
    pub precision: String,
    pub scenario: String,
    pub batch: Option<u64>,
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    pub metric: String,
    pub published: f64,
    /// Projected with the fit of the whole dataset.
    pub projected: f64,
    /// Projected over published speed, in-sample.
    pub ratio: f64,
    /// Projected without the case in the fit, over published speed.
    pub loo_projected: f64,
    pub loo_ratio: f64,
    pub source: String,
}

/// One family left out of the fit altogether, its cases projected with the pooled fit of the
/// others.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilyCheck {
    pub family: String,
    pub cases: usize,
    /// Geometric-mean error (a factor, at least 1) of the family's cases in-sample and LOO.
    pub gm_error: f64,
    pub loo_gm_error: f64,
    /// With the whole family left out; None below 3 cases.
    pub lofo_gm_error: Option<f64>,
    pub lofo_worst: Option<f64>,
}

/// Everything `cost --validate` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Validation {
    pub cases: Vec<CaseCheck>,
    pub families: Vec<FamilyCheck>,
    pub gm_error: f64,
    pub loo_gm_error: f64,
    /// The largest LOO error, as a factor (at least 1).
    pub loo_worst: f64,
}

/// Geometric-mean error of ratios, as a factor: exp(mean |ln r|).
pub fn gm_error(ratios: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, n) = ratios
        .into_iter()
        .fold((0.0, 0usize), |(s, n), r| (s + r.ln().abs(), n + 1));
    if n == 0 { 1.0 } else { (sum / n as f64).exp() }
}

/// A ratio as an error factor: 0.5 and 2.0 are both 2.0.
pub fn factor(r: f64) -> f64 {
    if r >= 1.0 { r } else { 1.0 / r }
}

/// A case as the fit projects it: its family's parameters, and the factor of the engine the
/// case was measured with (the pooled fit and factor 1 for an engine or family the fit lacks).
fn project_case(case: &Case, fit: &Fit, pricing: &Pricing) -> Result<f64> {
    let hw = fit::hardware(pricing, &case.family, case.chips, case.precision)?;
    let (params, _) = fit.params(&case.family);
    let engine = fit.engines.get(&case.engine).copied().unwrap_or(1.0);
    Ok(fit::predict(case, &hw, &params, engine))
}

/// Validate the model on `cases`, fitting as `cost` does.
pub fn validate(cases: &[Case], pricing: &Pricing) -> Result<Validation> {
    let all: Vec<&Case> = cases.iter().collect();
    let full = fit::fit(&all, pricing)?;
    let mut checks = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let projected = project_case(case, &full, pricing)?;
        let others: Vec<&Case> = cases
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, c)| c)
            .collect();
        let loo = fit::fit(&others, pricing)?;
        let loo_projected = project_case(case, &loo, pricing)?;
        checks.push(CaseCheck {
            id: case.id.clone(),
            family: case.family.clone(),
            chips: case.chips,
            model: case.model.name.clone(),
            precision: case.precision.name().to_string(),
            scenario: case.scenario.name().to_string(),
            batch: case.batch,
            prompt_tokens: case.prompt_tokens,
            output_tokens: case.output_tokens,
            metric: case.metric.name().to_string(),
            published: case.value,
            projected,
            ratio: fit::speed_ratio(case, projected),
            loo_projected,
            loo_ratio: fit::speed_ratio(case, loo_projected),
            source: case.source.clone(),
        });
    }
    let mut by_family: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in cases.iter().enumerate() {
        by_family.entry(&c.family).or_default().push(i);
    }
    let mut families = Vec::new();
    for (family, idx) in &by_family {
        let (lofo_gm_error, lofo_worst) = if idx.len() >= 3 {
            let others: Vec<&Case> = cases.iter().filter(|c| c.family != *family).collect();
            let without = fit::fit(&others, pricing)?;
            let mut ratios = Vec::new();
            for &i in idx {
                let c = &cases[i];
                let hw = fit::hardware(pricing, &c.family, c.chips, c.precision)?;
                let engine = without.engines.get(&c.engine).copied().unwrap_or(1.0);
                ratios.push(fit::speed_ratio(
                    c,
                    fit::predict(c, &hw, &without.pooled, engine),
                ));
            }
            (
                Some(gm_error(ratios.iter().copied())),
                Some(ratios.iter().map(|r| factor(*r)).fold(1.0, f64::max)),
            )
        } else {
            (None, None)
        };
        families.push(FamilyCheck {
            family: family.to_string(),
            cases: idx.len(),
            gm_error: gm_error(idx.iter().map(|&i| checks[i].ratio)),
            loo_gm_error: gm_error(idx.iter().map(|&i| checks[i].loo_ratio)),
            lofo_gm_error,
            lofo_worst,
        });
    }
    Ok(Validation {
        gm_error: gm_error(checks.iter().map(|c| c.ratio)),
        loo_gm_error: gm_error(checks.iter().map(|c| c.loo_ratio)),
        loo_worst: checks
            .iter()
            .map(|c| factor(c.loo_ratio))
            .fold(1.0, f64::max),
        cases: checks,
        families,
    })
}

/// The fitted table for `cases`: the fit of all of them, with each family's range of
/// leave-one-out ratios (the pooled entry takes the range over every case).
pub fn calibrate(cases: &[Case], pricing: &Pricing) -> Result<(FittedTable, Validation)> {
    let all: Vec<&Case> = cases.iter().collect();
    let full = fit::fit(&all, pricing)?;
    let v = validate(cases, pricing)?;
    let range = |ratios: Vec<f64>| {
        let lo = ratios.iter().copied().fold(1.0, f64::min);
        let hi = ratios.iter().copied().fold(1.0, f64::max);
        (round3(lo), round3(hi))
    };
    let (lo, hi) = range(v.cases.iter().map(|c| c.loo_ratio).collect());
    let pooled = FamilyEntry {
        family: "pooled".to_string(),
        cases: cases.len(),
        engine: "pooled".to_string(),
        engine_factor: 1.0,
        params: full.pooled,
        loo_ratio_low: lo,
        loo_ratio_high: hi,
    };
    let family = full
        .families
        .iter()
        .map(|(name, f)| {
            let (lo, hi) = range(
                v.cases
                    .iter()
                    .filter(|c| &c.family == name)
                    .map(|c| c.loo_ratio)
                    .collect(),
            );
            FamilyEntry {
                family: name.clone(),
                cases: f.cases,
                engine: f.engine.clone(),
                engine_factor: f.engine_factor,
                params: f.params,
                loo_ratio_low: lo,
                loo_ratio_high: hi,
            }
        })
        .collect();
    Ok((
        FittedTable {
            dataset_cases: cases.len(),
            engines: full.engines.clone(),
            pooled,
            family,
        },
        v,
    ))
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
