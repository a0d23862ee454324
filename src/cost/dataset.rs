//! The dataset of published measurements the projection is fitted to (`dataset.toml`, embedded)
//! and the user's extra cases (`--dataset FILE`), each checked field by field.

use std::path::Path;

use anyhow::{Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::model::ModelShape;

use super::Precision;
use super::pricing::Pricing;
use super::serving::{Scenario, Workload};

/// The embedded dataset's text.
pub const EMBEDDED_TOML: &str = include_str!("dataset.toml");

/// Name used for the embedded dataset in messages.
pub const EMBEDDED_NAME: &str = "<embedded dataset.toml>";

/// What a published figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Output (generated) tokens per second of the whole system.
    OutputTokensPerS,
    /// Input plus output tokens per second of the whole system.
    TotalTokensPerS,
    /// Time per output token of one sequence, milliseconds.
    MsPerOutputToken,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::OutputTokensPerS => "output tok/s",
            Metric::TotalTokensPerS => "total tok/s",
            Metric::MsPerOutputToken => "ms/output token",
        }
    }

    /// True when a larger figure means a faster system.
    pub fn higher_is_faster(self) -> bool {
        !matches!(self, Metric::MsPerOutputToken)
    }
}

/// How the measurement was taken, as the source names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseScenario {
    /// Continuous batching at the stated concurrency.
    Offline,
    /// One fixed batch, prefilled then decoded in lockstep.
    Static,
    /// Batch 1.
    Latency,
    /// A server under latency constraints; projected as offline (its upper bound).
    Server,
}

impl CaseScenario {
    pub fn serving(self) -> Scenario {
        match self {
            CaseScenario::Offline | CaseScenario::Server => Scenario::Offline,
            CaseScenario::Static | CaseScenario::Latency => Scenario::Latency,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CaseScenario::Offline => "offline",
            CaseScenario::Static => "static",
            CaseScenario::Latency => "latency",
            CaseScenario::Server => "server",
        }
    }
}

/// One published measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    pub id: String,
    /// Accelerator id in the pricing table.
    pub family: String,
    pub chips: u64,
    /// Copies of the model over the chips, as run (tensor parallel over chips / replicas).
    pub replicas: u64,
    pub instance: String,
    pub stack: String,
    /// Serving engine, a short key shared across families (its throughput factor is fitted).
    pub engine: String,
    pub model: ModelShape,
    pub model_published: String,
    pub precision: Precision,
    pub scenario: CaseScenario,
    /// Concurrent sequences as published; None when the source does not say.
    pub batch: Option<u64>,
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    pub metric: Metric,
    pub value: f64,
    pub source: String,
    pub date: String,
    pub notes: String,
}

impl Case {
    /// The case as a serving workload.
    pub fn workload(&self) -> Workload {
        Workload {
            model: self.model.clone(),
            precision: self.precision,
            scenario: self.scenario.serving(),
            batch: self.batch,
            tensor_parallel: Some(self.chips / self.replicas),
            overlap_prefill: super::serving::overlaps_prefill(&self.engine),
            prompt_tokens: self.prompt_tokens,
            output_tokens: self.output_tokens,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDataset {
    #[serde(default)]
    case: Vec<RawCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    id: Option<String>,
    family: Option<String>,
    chips: Option<i64>,
    replicas: Option<i64>,
    instance: Option<String>,
    stack: Option<String>,
    engine: Option<String>,
    model: Option<String>,
    model_published: Option<String>,
    precision: Option<String>,
    scenario: Option<String>,
    batch: Option<i64>,
    prompt_tokens: Option<i64>,
    output_tokens: Option<i64>,
    metric: Option<String>,
    value: Option<f64>,
    source: Option<String>,
    date: Option<String>,
    notes: Option<String>,
}

/// The embedded dataset, then the cases of `user` (if any) appended; ids must be unique.
pub fn load(user: Option<&Path>, pricing: &Pricing) -> Result<Vec<Case>> {
    let mut cases = parse(EMBEDDED_TOML, EMBEDDED_NAME, pricing)?;
    if let Some(path) = user {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("could not read dataset file '{name}': {e}"))?;
        let extra = parse(&text, &name, pricing)?;
        for c in extra {
            if cases.iter().any(|k| k.id == c.id) {
                bail!(
                    "'{name}': case id '{}' is already in the dataset; expected a new id",
                    c.id
                );
            }
            cases.push(c);
        }
    }
    Ok(cases)
}

/// Parse and check one dataset file.
pub fn parse(text: &str, file: &str, pricing: &Pricing) -> Result<Vec<Case>> {
    let raw: RawDataset = toml::from_str(text).map_err(|e| {
        let msg = e.message().trim_end_matches('\n').to_string();
        match e.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                anyhow!("'{file}' line {line}: {msg}")
            }
            None => anyhow!("'{file}': {msg}"),
        }
    })?;
    let mut out: Vec<Case> = Vec::new();
    for (i, c) in raw.case.into_iter().enumerate() {
        let case = check(c, file, i, pricing)?;
        if out.iter().any(|k| k.id == case.id) {
            bail!(
                "'{file}': field 'case[{i}].id' is '{}', which an earlier case already uses; expected a unique id",
                case.id
            );
        }
        out.push(case);
    }
    Ok(out)
}

fn check(c: RawCase, file: &str, i: usize, pricing: &Pricing) -> Result<Case> {
    let at = |f: &str| format!("case[{i}].{f}");
    let text = |v: Option<String>, f: &str, what: &str| -> Result<String> {
        match v {
            Some(s) if !s.trim().is_empty() => Ok(s),
            Some(_) => bail!("'{file}': field '{}' is empty; expected {what}", at(f)),
            None => bail!("'{file}': missing field '{}' ({what})", at(f)),
        }
    };
    let count = |v: Option<i64>, f: &str, min: i64, what: &str| -> Result<u64> {
        match v {
            Some(x) if x >= min && x <= 1 << 24 => Ok(x as u64),
            Some(x) => bail!(
                "'{file}': field '{}' is {x}; expected {what} between {min} and {}",
                at(f),
                1 << 24
            ),
            None => bail!("'{file}': missing field '{}' ({what})", at(f)),
        }
    };
    let id = text(c.id, "id", "a unique name for the case")?;
    let family = text(c.family, "family", "an accelerator id of the pricing table")?;
    if pricing.accelerator(&family).is_none() {
        let known: Vec<&str> = pricing.accelerators.iter().map(|a| a.id.as_str()).collect();
        bail!(
            "'{file}': field '{}' is '{family}', which is not a known accelerator id (known: {})",
            at("family"),
            known.join(", ")
        );
    }
    let model_name = text(c.model, "model", "a model preset")?;
    let Some(model) = ModelShape::by_name(&model_name) else {
        bail!(
            "'{file}': field '{}' is '{model_name}', which is not a known model; expected one of: {}",
            at("model"),
            ModelShape::preset_names().join(", ")
        );
    };
    let precision = match text(c.precision, "precision", "bf16, fp8 or int8")?.as_str() {
        "bf16" => Precision::Bf16,
        "fp8" => Precision::Fp8,
        "int8" => Precision::Int8,
        other => bail!(
            "'{file}': field '{}' is '{other}'; expected bf16, fp8 or int8",
            at("precision")
        ),
    };
    let scenario =
        match text(c.scenario, "scenario", "offline, static, latency or server")?.as_str() {
            "offline" => CaseScenario::Offline,
            "static" => CaseScenario::Static,
            "latency" => CaseScenario::Latency,
            "server" => CaseScenario::Server,
            other => bail!(
                "'{file}': field '{}' is '{other}'; expected offline, static, latency or server",
                at("scenario")
            ),
        };
    let metric = match text(
        c.metric,
        "metric",
        "output_tokens_per_s, total_tokens_per_s or ms_per_output_token",
    )?
    .as_str()
    {
        "output_tokens_per_s" => Metric::OutputTokensPerS,
        "total_tokens_per_s" => Metric::TotalTokensPerS,
        "ms_per_output_token" => Metric::MsPerOutputToken,
        other => bail!(
            "'{file}': field '{}' is '{other}'; expected output_tokens_per_s, total_tokens_per_s or ms_per_output_token",
            at("metric")
        ),
    };
    let value = match c.value {
        Some(v) if v.is_finite() && v > 0.0 => v,
        Some(v) => bail!(
            "'{file}': field '{}' is {v}; expected the published figure, a positive number",
            at("value")
        ),
        None => bail!(
            "'{file}': missing field '{}' (the published figure)",
            at("value")
        ),
    };
    let batch = match c.batch {
        None | Some(0) => None,
        Some(_) => Some(count(c.batch, "batch", 1, "concurrent sequences")?),
    };
    let chips = count(c.chips, "chips", 1, "the number of chips measured")?;
    let replicas = match c.replicas {
        None => 1,
        Some(_) => count(c.replicas, "replicas", 1, "copies of the model")?,
    };
    if !chips.is_multiple_of(replicas) {
        bail!(
            "'{file}': field '{}' is {replicas}, which does not divide chips ({chips}); expected each replica to span the same number of chips",
            at("replicas")
        );
    }
    Ok(Case {
        id,
        family,
        chips,
        replicas,
        instance: text(c.instance, "instance", "the instance or system measured")?,
        stack: text(c.stack, "stack", "the software stack")?,
        engine: engine(c.engine, file, &at("engine"))?,
        model,
        model_published: text(
            c.model_published,
            "model_published",
            "the model's name as published",
        )?,
        precision,
        scenario,
        batch,
        prompt_tokens: count(
            c.prompt_tokens,
            "prompt_tokens",
            1,
            "input tokens per request",
        )?,
        output_tokens: count(
            c.output_tokens,
            "output_tokens",
            1,
            "output tokens per request",
        )?,
        metric,
        value,
        source: text(
            c.source,
            "source",
            "where the figure is published (repository and path, or URL)",
        )?,
        date: text(c.date, "date", "the publication date")?,
        notes: c.notes.unwrap_or_default(),
    })
}

fn engine(v: Option<String>, file: &str, at: &str) -> Result<String> {
    match v {
        Some(e)
            if !e.is_empty()
                && e.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') =>
        {
            Ok(e)
        }
        Some(e) => bail!(
            "'{file}': field '{at}' is '{e}'; expected a short lowercase key such as \"vllm\" or \"tensorrt-llm\""
        ),
        None => bail!(
            "'{file}': missing field '{at}' (the serving engine as a short key, e.g. \"vllm\")"
        ),
    }
}
