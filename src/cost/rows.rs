//! Priced rows: a projected row per cloud instance (fitted parameters, range from the family's
//! leave-one-out ratios), a measured row per local device, their order, and the best custom
//! silicon against the best GPU.

use anyhow::{Result, bail};
use serde::Serialize;

use super::fit::{self, FittedTable};
use super::measured::{MeasuredDevice, OptInEfficiency};
use super::pricing::{AcceleratorKind, Instance, Pricing};
use super::serving::{self, Params, Scenario, Workload, usd_per_million};

/// One priced row: a local device (measured) or a cloud instance (projected).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostRow {
    /// Instance name as the provider names it, or `host:device` for a local device.
    pub instance: String,
    pub provider: String,
    /// Chip name (local devices: the device name).
    pub accelerator: String,
    /// `gpu`, `custom` or `local`.
    pub kind: String,
    /// `measured` or `projected`.
    pub basis: String,
    /// `offline` or `latency`; local devices are measured at batch 1 (`latency`).
    pub scenario: String,
    pub chips: u64,
    /// Tensor-parallel degree x replicas, e.g. `tp2 x 4` (projected rows).
    pub layout: Option<String>,
    /// Concurrent sequences on the whole instance.
    pub batch: u64,
    /// Weights and KV cache fit in the instance's memory (always true for measured rows).
    pub fits: bool,
    pub usd_per_hour: Option<f64>,
    /// Sustained output tokens/s of the instance for the scenario (prompts included).
    pub output_tokens_per_s: Option<f64>,
    /// The same at the ends of the family's leave-one-out range.
    pub output_tokens_per_s_low: Option<f64>,
    pub output_tokens_per_s_high: Option<f64>,
    /// Time between output tokens of one sequence.
    pub ms_per_output_token: Option<f64>,
    /// Decode tokens/s of one stream as measured (local rows).
    pub decode_tokens_per_s: Option<f64>,
    /// Prompt tokens/s when the instance only prefills.
    pub prefill_tokens_per_s: Option<f64>,
    /// Instance cost per 1M prompt tokens, prefill alone.
    pub usd_per_m_input: Option<f64>,
    /// Instance cost per 1M output tokens, with the prompts' processing included.
    pub usd_per_m_output: Option<f64>,
    /// $/1M output tokens at the fast and slow ends of the range (cheapest first).
    pub usd_per_m_output_low: Option<f64>,
    pub usd_per_m_output_high: Option<f64>,
    /// Output tokens per US dollar.
    pub output_tokens_per_usd: Option<f64>,
    /// What dominated the step (projected rows).
    pub bound: Option<String>,
    /// Which fit projected the row and how many published cases it rests on.
    pub fit: String,
    pub fit_cases: usize,
    pub price_source: String,
    pub price_date: String,
    pub notes: Vec<String>,
}

/// Project `inst` for `w` with the family's fitted parameters (or the opt-in efficiencies).
pub fn projected_row(
    inst: &Instance,
    pricing: &Pricing,
    fitted: &FittedTable,
    w: &Workload,
    opt_in: Option<&OptInEfficiency>,
) -> Result<CostRow> {
    let Some(acc) = pricing.accelerator(&inst.accelerator) else {
        bail!(
            "instance '{}' names accelerator '{}', which is not in the pricing table",
            inst.name,
            inst.accelerator
        );
    };
    let choice = fitted.choice(pricing, &acc.id);
    let entry = &choice.entry;
    let mut params: Params = entry.params;
    let mut fit_label = choice.label.clone();
    let mut notes = Vec::new();
    if let Some(o) = opt_in.filter(|o| o.family == acc.id) {
        params.compute = o.compute;
        params.memory = o.memory;
        fit_label = format!("{} (opt-in) + {fit_label} for communication", o.source);
    }
    let hw = fit::hardware(pricing, &acc.id, inst.chips, w.precision)?;
    let w = &family_workload(w, &entry.engine);
    let scale = entry.engine_factor;
    let p = serving::project(w, &hw, &params);
    let usd = inst.usd_per_hour();
    if acc.peak_tflops(w.precision).1 {
        notes.push(format!(
            "no {} matmul peak published: bf16 peak used with {}-byte weights",
            w.precision.name(),
            w.elem_bytes().weight
        ));
    }
    if usd.is_none() {
        notes.push("price unknown: supply one with --pricing FILE".to_string());
    }
    if inst.chips > 1 && acc.link_gbps.is_none() {
        notes.push("no chip-to-chip bandwidth in the table: 16 GB/s PCIe assumed".to_string());
    }
    let mut row = CostRow {
        instance: inst.name.clone(),
        provider: inst.provider.clone(),
        accelerator: acc.name.clone(),
        kind: acc.kind.name().to_string(),
        basis: "projected".to_string(),
        scenario: w.scenario.name().to_string(),
        chips: inst.chips,
        layout: Some(format!("tp{} x {}", p.tensor_parallel, p.replicas)),
        batch: p.batch,
        fits: p.fits,
        usd_per_hour: usd,
        output_tokens_per_s: None,
        output_tokens_per_s_low: None,
        output_tokens_per_s_high: None,
        ms_per_output_token: None,
        decode_tokens_per_s: None,
        prefill_tokens_per_s: None,
        usd_per_m_input: None,
        usd_per_m_output: None,
        usd_per_m_output_low: None,
        usd_per_m_output_high: None,
        output_tokens_per_usd: None,
        bound: None,
        fit: fit_label,
        fit_cases: entry.cases,
        price_source: inst.price_source.clone(),
        price_date: inst.price_date.clone(),
        notes,
    };
    if !p.fits {
        row.notes.push(format!(
            "does not fit: needs {:.0} GB for weights and KV cache, {:.0} GB usable",
            p.resident_bytes / 1e9,
            p.usable_memory_bytes / 1e9
        ));
        return Ok(row);
    }
    if p.tensor_parallel > 1 && p.comm_share > 0.2 {
        row.notes.push(format!(
            "tensor parallel over {} chips: {:.0}% of step time is all-reduce",
            p.tensor_parallel,
            100.0 * p.comm_share
        ));
    }
    // The range: the point divided by the family's largest and smallest leave-one-out ratio
    // (projected / published), so it spans what the model did on cases it had not seen.
    let out = p.output_tokens_per_s * scale;
    let (slow, fast) = (out / entry.loo_ratio_high, out / entry.loo_ratio_low);
    let per_m = |tps: f64| usd.map(|u| usd_per_million(u, tps));
    row.output_tokens_per_s = Some(out);
    row.output_tokens_per_s_low = Some(slow);
    row.output_tokens_per_s_high = Some(fast);
    row.ms_per_output_token = Some(p.ms_per_output_token / scale);
    row.prefill_tokens_per_s = Some(p.prefill_tokens_per_s * scale);
    row.usd_per_m_input = per_m(p.prefill_tokens_per_s * scale);
    row.usd_per_m_output = per_m(out);
    row.usd_per_m_output_low = per_m(fast);
    row.usd_per_m_output_high = per_m(slow);
    row.output_tokens_per_usd = usd.map(|u| out * 3600.0 / u);
    row.bound = Some(p.bound.name().to_string());
    Ok(row)
}

/// The query as the family's engine serves it: Neuron engines never mix prompt chunks with
/// decode tokens in one step.
fn family_workload(w: &Workload, engine: &str) -> Workload {
    Workload {
        overlap_prefill: serving::overlaps_prefill(engine),
        ..w.clone()
    }
}

/// A local device's row: batch-1 throughput as measured, at the price given for it.
pub fn measured_row(
    dev: &MeasuredDevice,
    pricing: &Pricing,
    price_per_hour: Option<f64>,
    w: &Workload,
) -> CostRow {
    let (usd, price_source, price_date) =
        match (price_per_hour, pricing.local_price(&dev.device_name)) {
            (Some(p), _) => (
                Some(p),
                "given with --price-per-hour".to_string(),
                "given".to_string(),
            ),
            (None, Some(l)) => (
                Some(l.usd_per_hour),
                l.price_source.clone(),
                "given".to_string(),
            ),
            (None, None) => (
                None,
                "no price: pass --price-per-hour".to_string(),
                "n/a".to_string(),
            ),
        };
    let per_m = |tps: Option<f64>| match (usd, tps) {
        (Some(u), Some(t)) => Some(usd_per_million(u, t)),
        _ => None,
    };
    let output_tps = match (dev.prefill_tokens_per_s, dev.decode_tokens_per_s) {
        (Some(p), Some(d)) => {
            // Batch 1 as measured: one prompt, then one token per decode step.
            let secs = w.prompt_tokens as f64 / p + w.output_tokens as f64 / d;
            Some(w.output_tokens as f64 / secs)
        }
        _ => None,
    };
    let mut notes = dev.notes.clone();
    if w.scenario == Scenario::Offline {
        notes.push("measured at batch 1, not under a saturated server".to_string());
    }
    notes.push(format!("from {}", dev.file.display()));
    CostRow {
        instance: format!("{}:{}", dev.hostname, dev.device_id),
        provider: "local".to_string(),
        accelerator: dev.device_name.clone(),
        kind: "local".to_string(),
        basis: "measured".to_string(),
        scenario: Scenario::Latency.name().to_string(),
        chips: 1,
        layout: None,
        batch: 1,
        fits: true,
        usd_per_hour: usd,
        output_tokens_per_s: output_tps,
        output_tokens_per_s_low: output_tps,
        output_tokens_per_s_high: output_tps,
        ms_per_output_token: dev.decode_tokens_per_s.map(|d| 1e3 / d),
        decode_tokens_per_s: dev.decode_tokens_per_s,
        prefill_tokens_per_s: dev.prefill_tokens_per_s,
        usd_per_m_input: per_m(dev.prefill_tokens_per_s),
        usd_per_m_output: per_m(output_tps),
        usd_per_m_output_low: per_m(output_tps),
        usd_per_m_output_high: per_m(output_tps),
        output_tokens_per_usd: match (usd, output_tps) {
            (Some(u), Some(d)) => Some(d * 3600.0 / u),
            _ => None,
        },
        bound: None,
        fit: "measured".to_string(),
        fit_cases: 0,
        price_source,
        price_date,
        notes,
    }
}

/// The instance with the fewest chips whose memory holds weights and KV cache (cheapest known
/// price among equals); the largest one when none does, so the row can say it does not fit.
pub fn smallest_fitting_instance<'a>(
    pricing: &'a Pricing,
    fitted: &FittedTable,
    accelerator: &str,
    w: &Workload,
) -> Option<&'a Instance> {
    let mut candidates: Vec<&Instance> = pricing
        .instances
        .iter()
        .filter(|i| i.accelerator == accelerator)
        .collect();
    let price_key = |i: &Instance| i.usd_per_hour().unwrap_or(f64::INFINITY);
    candidates.sort_by(|a, b| {
        a.chips
            .cmp(&b.chips)
            .then(price_key(a).total_cmp(&price_key(b)))
    });
    let entry = fitted.choice(pricing, accelerator).entry;
    let w = &family_workload(w, &entry.engine);
    candidates
        .iter()
        .find(|i| {
            fit::hardware(pricing, accelerator, i.chips, w.precision)
                .map(|hw| serving::project(w, &hw, &entry.params).fits)
                .unwrap_or(false)
        })
        .or_else(|| candidates.last())
        .copied()
}

/// Local rows first; then priced rows cheapest per output token first; then unpriced rows by
/// throughput; rows that do not fit last.
pub fn sort_rows(rows: &mut [CostRow]) {
    let key = |r: &CostRow| {
        let group = match (r.kind.as_str(), r.fits, r.usd_per_m_output) {
            ("local", _, _) => 0,
            (_, false, _) => 3,
            (_, true, Some(_)) => 1,
            (_, true, None) => 2,
        };
        let value = match group {
            1 => r.usd_per_m_output.unwrap_or(0.0),
            2 => -r.output_tokens_per_s.unwrap_or(0.0),
            _ => 0.0,
        };
        (group, value)
    };
    rows.sort_by(|a, b| {
        let (ga, va) = key(a);
        let (gb, vb) = key(b);
        ga.cmp(&gb)
            .then(va.total_cmp(&vb))
            .then(a.instance.cmp(&b.instance))
    });
}

/// Best custom-silicon row against the best GPU row, by $/1M output tokens.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub custom_instance: String,
    pub custom_accelerator: String,
    pub custom_usd_per_m_output: f64,
    pub custom_usd_per_hour: f64,
    pub gpu_instance: String,
    pub gpu_accelerator: String,
    pub gpu_usd_per_m_output: f64,
    /// GPU $/1M output over custom $/1M output: above 1, custom silicon is cheaper.
    pub gpu_over_custom: f64,
    /// $/hour at which the custom instance would cost the same per output token as the GPU.
    pub custom_break_even_usd_per_hour: f64,
}

pub fn compare_best(rows: &[CostRow]) -> Option<Comparison> {
    let best = |kind: AcceleratorKind| {
        rows.iter()
            .filter(|r| r.kind == kind.name() && r.fits)
            .filter(|r| r.usd_per_m_output.is_some() && r.usd_per_hour.is_some())
            .min_by(|a, b| {
                a.usd_per_m_output
                    .unwrap_or(0.0)
                    .total_cmp(&b.usd_per_m_output.unwrap_or(0.0))
            })
    };
    let custom = best(AcceleratorKind::Custom)?;
    let gpu = best(AcceleratorKind::Gpu)?;
    let c = custom.usd_per_m_output?;
    let g = gpu.usd_per_m_output?;
    let out = custom.output_tokens_per_s?;
    Some(Comparison {
        custom_instance: custom.instance.clone(),
        custom_accelerator: custom.accelerator.clone(),
        custom_usd_per_m_output: c,
        custom_usd_per_hour: custom.usd_per_hour?,
        gpu_instance: gpu.instance.clone(),
        gpu_accelerator: gpu.accelerator.clone(),
        gpu_usd_per_m_output: g,
        gpu_over_custom: g / c,
        custom_break_even_usd_per_hour: g * out * 3600.0 / 1e6,
    })
}
