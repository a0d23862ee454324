//! Measured rows and efficiency calibration from results files.
//!
//! A local device's decode tokens/s comes from its `decode_token` row (the whole model, measured),
//! or, in files written before that workload existed, from its `decode_step` row (one layer's
//! time x layers, the LM head left out); its prefill tokens/s from the achieved GFLOP/s of the
//! GEMM row nearest the prefill shape. A measured efficiency goes to
//! a cloud family only when the user names it. Never runs a kernel.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::model::{ElemBytes, ModelShape};
use crate::results::{DeviceKind, DeviceRecord, ResultRow, RunResults};

use super::serving::Workload;

/// One local device as measured in one results file.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredDevice {
    pub file: PathBuf,
    pub hostname: String,
    pub device_id: String,
    pub device_name: String,
    pub decode_tokens_per_s: Option<f64>,
    pub prefill_tokens_per_s: Option<f64>,
    /// What was measured and how it was turned into tokens/s for the requested model.
    pub notes: Vec<String>,
}

fn shape_u64(row: &ResultRow, key: &str) -> Option<u64> {
    row.shape.get(key).and_then(|v| v.as_u64())
}

fn dtype_bytes(dtype: &str) -> u64 {
    match dtype {
        "f16" | "bf16" => 2,
        _ => 4,
    }
}

/// Model of a decode_step row: the preset named in it, else the shape fields themselves.
fn row_model(row: &ResultRow) -> Option<ModelShape> {
    let name = row.shape.get("model").and_then(|v| v.as_str())?;
    ModelShape::by_name(name)
}

/// Measured rows for every hardware device of `run`, for `model` with prompts of
/// `prompt_tokens` and `output_tokens` generated.
/// Where a run measured the decode step in several dtypes, the one nearest the serving
/// precision's weight bytes is used (f16 for bf16).
pub fn measured_devices(
    run: &RunResults,
    file: &Path,
    model: &ModelShape,
    shape: &Workload,
) -> Vec<MeasuredDevice> {
    let (prompt_tokens, output_tokens) = (shape.prompt_tokens, shape.output_tokens);
    let weight_bytes = shape.elem_bytes().weight;
    let mut out = Vec::new();
    for dev in &run.devices {
        if dev.is_software_adapter() {
            continue;
        }
        let rows: Vec<&ResultRow> = run
            .results
            .iter()
            .filter(|r| r.device == dev.id && r.is_valid())
            .collect();
        let mut notes = Vec::new();
        let mean_context = prompt_tokens + output_tokens / 2;
        let decode = decode_rate(&rows, model, mean_context, weight_bytes, &mut notes);
        let prefill = prefill_rate(&rows, model, prompt_tokens, &mut notes);
        if decode.is_none() && prefill.is_none() {
            continue;
        }
        out.push(MeasuredDevice {
            file: file.to_path_buf(),
            hostname: run.host.hostname.clone(),
            device_id: dev.id.clone(),
            device_name: dev.name.clone(),
            decode_tokens_per_s: decode,
            prefill_tokens_per_s: prefill,
            notes,
        });
    }
    out
}

/// Decode tokens/s from the device's `decode_token` rows when the run has any; else (a file
/// from before decode_token) from its `decode_step` rows, with a note saying so.
fn decode_rate(
    rows: &[&ResultRow],
    model: &ModelShape,
    mean_context: u64,
    weight_bytes: u64,
    notes: &mut Vec<String>,
) -> Option<f64> {
    if let Some(t) = decode_rate_from(
        rows,
        "decode_token",
        model,
        mean_context,
        weight_bytes,
        notes,
    ) {
        return Some(t);
    }
    let t = decode_rate_from(
        rows,
        "decode_step",
        model,
        mean_context,
        weight_bytes,
        notes,
    )?;
    notes.push(
        "decode: this file has no decode_token row (written before it existed), so tokens/s is its decode_step figure: one layer's time x layers, the LM head and final norm left out (optimistic)".into(),
    );
    Some(t)
}

/// Decode tokens/s from `kernel` rows: the row of the requested model nearest the mean
/// context, else another model's row scaled by the ratio of bytes per token (decode is
/// bandwidth-bound).
fn decode_rate_from(
    rows: &[&ResultRow],
    kernel: &str,
    model: &ModelShape,
    mean_context: u64,
    weight_bytes: u64,
    notes: &mut Vec<String>,
) -> Option<f64> {
    // (row, its model, its context, its tokens/s)
    type Candidate<'a> = (&'a ResultRow, ModelShape, u64, f64);
    let candidates: Vec<Candidate> = rows
        .iter()
        .filter(|r| r.kernel == kernel)
        .filter_map(|r| Some((*r, row_model(r)?, shape_u64(r, "context")?, r.tokens_per_s?)))
        .filter(|(_, _, _, t)| t.is_finite() && *t > 0.0)
        .collect();
    let distance = |c: u64| (c as f64 / mean_context.max(1) as f64).ln().abs();
    // Nearest dtype to the serving precision first (f16 rows stand for bf16), then context.
    let dtype_gap = |r: &ResultRow| dtype_bytes(&r.dtype).abs_diff(weight_bytes);
    let nearer = |a: &&(&ResultRow, ModelShape, u64, f64),
                  b: &&(&ResultRow, ModelShape, u64, f64)| {
        dtype_gap(a.0)
            .cmp(&dtype_gap(b.0))
            .then(distance(a.2).total_cmp(&distance(b.2)))
    };
    let same: Option<&Candidate> = candidates
        .iter()
        .filter(|(_, m, _, _)| m.name == model.name)
        .min_by(nearer);
    if let Some((row, _, context, tps)) = same {
        notes.push(format!(
            "decode: measured {kernel} {} context {context} {}, batch 1",
            model.name, row.dtype
        ));
        return Some(*tps);
    }
    // Else scale from the largest measured model (in the nearest dtype): its bytes per token
    // are the nearest in kind.
    let (row, measured_model, context, tps) = candidates
        .iter()
        .max_by_key(|(r, m, c, _)| (std::cmp::Reverse(dtype_gap(r)), m.total_params(), *c))?;
    let eb = dtype_bytes(&row.dtype);
    let elem = ElemBytes {
        weight: eb,
        kv: eb,
        activation: eb,
    };
    let measured_bytes = measured_model.decode_step_work(1, *context, elem).bytes() as f64;
    let wanted_bytes = model.decode_step_work(1, mean_context, elem).bytes() as f64;
    notes.push(format!(
        "decode: scaled from measured {} context {context} {} by bytes per token ({:.3}x), batch 1",
        measured_model.name,
        row.dtype,
        measured_bytes / wanted_bytes
    ));
    Some(tps * measured_bytes / wanted_bytes)
}

/// Prefill tokens/s: achieved GFLOP/s of the GEMM row nearest the prefill shape (m = prompt
/// tokens; ties go to the larger matrix), divided by prefill FLOPs per prompt token.
fn prefill_rate(
    rows: &[&ResultRow],
    model: &ModelShape,
    prompt_tokens: u64,
    notes: &mut Vec<String>,
) -> Option<f64> {
    let distance = |m: u64| (m as f64 / prompt_tokens.max(1) as f64).ln().abs();
    let row = rows
        .iter()
        .filter(|r| r.kernel == "gemm" && r.gflops.is_finite() && r.gflops > 0.0)
        .filter_map(|r| {
            Some((
                *r,
                shape_u64(r, "m")?,
                shape_u64(r, "n")? * shape_u64(r, "k")?,
            ))
        })
        .min_by(|a, b| distance(a.1).total_cmp(&distance(b.1)).then(b.2.cmp(&a.2)))?;
    let flops_per_token = model
        .prefill_work(
            1,
            prompt_tokens,
            ElemBytes {
                weight: 2,
                kv: 2,
                activation: 2,
            },
        )
        .flops as f64
        / prompt_tokens.max(1) as f64;
    notes.push(format!(
        "prefill: measured {} at {:.1} GFLOP/s",
        row.0.workload_label(),
        row.0.gflops
    ));
    Some(row.0.gflops * 1e9 / flops_per_token)
}

/// Efficiencies measured on a local device, applied to one cloud family because the user
/// asked for it by name (`--efficiency-from RUN.json --family ID`).
#[derive(Debug, Clone, PartialEq)]
pub struct OptInEfficiency {
    pub family: String,
    pub compute: f64,
    pub memory: f64,
    /// In words, for the row: what was measured where.
    pub source: String,
}

/// The best achieved fraction of peak in GEMM (compute) and in GEMV/decode_step (memory) of
/// the first hardware device in `run` that has both, a GPU before the CPU. A fraction outside
/// (0, 1] is an error naming the row and the peak it was divided by: it is never clamped.
pub fn efficiency_from(run: &RunResults, file: &Path, family: &str) -> Result<OptInEfficiency> {
    let mut devices: Vec<&DeviceRecord> = run
        .devices
        .iter()
        .filter(|d| !d.is_software_adapter())
        .collect();
    devices.sort_by_key(|d| d.kind != DeviceKind::Gpu);
    for dev in devices {
        let best = |kernels: &[&str], flops: bool| -> Result<Option<f64>> {
            let mut best: Option<f64> = None;
            for r in run.results.iter().filter(|r| {
                r.device == dev.id && r.is_valid() && kernels.contains(&r.kernel.as_str())
            }) {
                let (pct, peak, unit) = if flops {
                    (r.pct_peak_flops, dev.peak_gflops, "GFLOP/s")
                } else {
                    (r.pct_peak_bw, dev.peak_gbps, "GB/s")
                };
                let Some(pct) = pct else { continue };
                let f = pct / 100.0;
                if !(f.is_finite() && f > 0.0 && f <= 1.0) {
                    bail!(
                        "'{}': row '{}' on {} reached {pct:.1}% of its peak ({} {unit}, {}); an efficiency must be a fraction in (0, 1], so it cannot stand for a cloud accelerator",
                        file.display(),
                        r.workload_label(),
                        dev.id,
                        peak.map_or("unknown".to_string(), |p| format!("{p:.1}")),
                        dev.peak_source
                    );
                }
                best = Some(best.map_or(f, |b: f64| b.max(f)));
            }
            Ok(best)
        };
        let (Some(compute), Some(memory)) = (
            best(&["gemm"], true)?,
            best(&["gemv", "decode_step", "decode_token"], false)?,
        ) else {
            continue;
        };
        return Ok(OptInEfficiency {
            family: family.to_string(),
            compute,
            memory,
            source: format!(
                "efficiency measured on {} ({}): GEMM {:.0}% of peak FLOP/s, GEMV/decode {:.0}% of peak bandwidth",
                dev.name,
                file.display(),
                100.0 * compute,
                100.0 * memory
            ),
        });
    }
    bail!(
        "'{}': no hardware device has both a GEMM row with a percentage of peak FLOP/s and a GEMV or decode_step row with a percentage of peak bandwidth; expected a run of the standard suite",
        file.display()
    )
}
