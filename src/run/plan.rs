//! Checking `run`'s options before any work: suite, kernels, --shape, limits, memory.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};

use super::RunOptions;
use crate::model::ModelShape;
use crate::suite;
use crate::workload::{AttentionShape, Kernel, KernelName, Workload};

/// Check every option before any work is done; returns the workloads to run.
pub(super) fn plan(opts: &RunOptions) -> Result<(suite::Suite, Vec<Workload>)> {
    let suite = suite::get(opts.suite);
    if opts.threads == Some(0) {
        bail!("--threads must be at least 1, got 0");
    }
    let hardware = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Some(t) = opts.threads
        && t > MAX_THREADS_PER_HARDWARE_THREAD * hardware
    {
        bail!(
            "--threads {t} is more than {MAX_THREADS_PER_HARDWARE_THREAD} x the {hardware} hardware threads of this machine; choose at most {}",
            MAX_THREADS_PER_HARDWARE_THREAD * hardware
        );
    }
    if let Some(s) = opts.max_time_per_workload_s
        && !(s.is_finite() && s > 0.0)
    {
        bail!("--max-time-per-workload must be a positive number of seconds, got {s}");
    }
    if !(opts.target_rel_ci.is_finite() && opts.target_rel_ci > 0.0 && opts.target_rel_ci < 1.0) {
        bail!(
            "--target-ci must be a fraction between 0 and 1 (e.g. 0.02 for 2%), got {}",
            opts.target_rel_ci
        );
    }
    let model = match &opts.model {
        Some(name) => Some(ModelShape::for_run(name).with_context(|| {
            format!(
                "unknown model '{name}'; expected one of: {}, tiny",
                ModelShape::preset_names().join(", ")
            )
        })?),
        None => None,
    };

    let mut workloads: Vec<Workload> = suite
        .workloads
        .iter()
        .filter(|w| {
            opts.kernels.is_empty() || opts.kernels.iter().any(|k| k.as_str() == w.kernel_name())
        })
        .filter(|w| opts.dtype.is_none_or(|d| d == w.dtype))
        .cloned()
        .collect();
    if let Some(model) = &model {
        for w in &mut workloads {
            if let Kernel::DecodeStep { model: m, .. } | Kernel::DecodeToken { model: m, .. } =
                &mut w.kernel
            {
                *m = model.clone();
            }
        }
        dedup(&mut workloads);
    }
    if let Some(shape) = &opts.shape {
        workloads = apply_shape(&opts.kernels, shape, &workloads)?;
    }
    if workloads.is_empty() {
        bail!(
            "suite '{}' has no workload for kernel(s) {}{}",
            suite.name,
            opts.kernels
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            opts.dtype.map(|d| format!(" in {d}")).unwrap_or_default()
        );
    }
    for w in &workloads {
        w.check_counts()?;
    }
    let available = crate::env::available_memory_bytes();
    for w in &workloads {
        // A whole model that does not fit is skipped by its backend with a note when the run
        // comes to it (a suite row must not stop the run); other shapes are refused here.
        if matches!(w.kernel, Kernel::DecodeToken { .. }) {
            continue;
        }
        let need = w.host_memory_bytes();
        if available > 0 && need > available {
            bail!(
                "workload '{}' needs about {:.1} GiB of memory but only {:.1} GiB is available; choose a smaller --shape",
                w.label(),
                need as f64 / (1u64 << 30) as f64,
                available as f64 / (1u64 << 30) as f64
            );
        }
    }
    Ok((suite, workloads))
}

/// Replace the selected kernel's workloads by one workload of the given shape.
pub(super) fn apply_shape(
    kernels: &[KernelName],
    spec: &str,
    workloads: &[Workload],
) -> Result<Vec<Workload>> {
    let [kernel] = kernels else {
        bail!("--shape needs exactly one --kernel to apply to");
    };
    let mut vals = BTreeMap::new();
    for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            bail!("--shape '{spec}': '{part}' is not KEY=VALUE");
        };
        let n: u64 = v.trim().parse().ok().filter(|&n| n > 0).with_context(|| {
            format!("--shape '{spec}': '{k}' must be a positive integer, got '{v}'")
        })?;
        vals.insert(k.trim().to_string(), n);
    }
    let kernel = kernel.as_str();
    let valid = shape_keys(kernel);
    if let Some(unknown) = vals.keys().find(|k| !valid.contains(&k.as_str())) {
        if valid.is_empty() {
            bail!("--shape does not apply to {kernel}; use --model");
        }
        bail!(
            "--shape '{spec}': unknown key '{unknown}' for kernel '{kernel}'; valid keys: {}",
            valid.join(", ")
        );
    }
    let get = |key: &str| -> Result<u64> {
        vals.get(key)
            .copied()
            .with_context(|| format!("--shape '{spec}' for kernel '{kernel}' is missing '{key}'"))
    };
    if matches!(kernel, "decode_step" | "decode_token") {
        return Ok(reshape_models(&vals, workloads));
    }
    let dtype = workloads
        .first()
        .map(|w| w.dtype)
        .unwrap_or(crate::workload::Dtype::F32);
    let k = match kernel {
        "gemm" => Kernel::Gemm {
            m: get("m")?,
            n: get("n")?,
            k: get("k")?,
        },
        "gemv" => Kernel::Gemv {
            n: get("n")?,
            k: get("k")?,
        },
        "softmax" => Kernel::Softmax {
            rows: get("rows")?,
            cols: get("cols")?,
        },
        "rmsnorm" => Kernel::RmsNorm {
            rows: get("rows")?,
            cols: get("cols")?,
        },
        "decode_attention" => {
            let a = AttentionShape {
                context: get("context")?,
                q_heads: get("q_heads")?,
                kv_heads: get("kv_heads")?,
                head_dim: get("head_dim")?,
            };
            if !a.q_heads.is_multiple_of(a.kv_heads) {
                bail!("--shape '{spec}': q_heads must be a multiple of kv_heads");
            }
            Kernel::DecodeAttention(a)
        }
        "stream_triad" => Kernel::StreamTriad { n: get("n")? },
        other => bail!("unknown kernel '{other}'"),
    };
    Ok(vec![Workload::new(k, dtype)])
}

/// The model workloads with the given `--shape` fields replaced (each dtype kept). A model
/// whose architecture was changed is named `custom`: it is no longer the preset.
fn reshape_models(vals: &BTreeMap<String, u64>, workloads: &[Workload]) -> Vec<Workload> {
    let mut out: Vec<Workload> = workloads.to_vec();
    for w in &mut out {
        let (Kernel::DecodeStep { model, context } | Kernel::DecodeToken { model, context }) =
            &mut w.kernel
        else {
            continue;
        };
        for (key, &v) in vals {
            let field = match key.as_str() {
                "context" => {
                    *context = v;
                    continue;
                }
                "layers" => &mut model.layers,
                "hidden" => &mut model.hidden,
                "q_heads" => &mut model.q_heads,
                "kv_heads" => &mut model.kv_heads,
                "head_dim" => &mut model.head_dim,
                "ffn" => &mut model.ffn,
                "vocab" => &mut model.vocab,
                _ => continue,
            };
            if *field != v {
                *field = v;
                model.name = "custom".into();
            }
        }
    }
    dedup(&mut out);
    out
}

/// Drop repeated workloads, keeping the first of each.
fn dedup(workloads: &mut Vec<Workload>) {
    let mut seen = std::collections::HashSet::new();
    workloads.retain(|w| seen.insert(w.clone()));
}

/// Keys `--shape` accepts for `kernel`.
fn shape_keys(kernel: &str) -> &'static [&'static str] {
    match kernel {
        "gemm" => &["m", "n", "k"],
        "gemv" => &["n", "k"],
        "softmax" | "rmsnorm" => &["rows", "cols"],
        "decode_attention" => &["context", "q_heads", "kv_heads", "head_dim"],
        "stream_triad" => &["n"],
        "decode_step" => &[
            "context", "layers", "hidden", "q_heads", "kv_heads", "head_dim", "ffn",
        ],
        "decode_token" => &[
            "context", "layers", "hidden", "q_heads", "kv_heads", "head_dim", "ffn", "vocab",
        ],
        _ => &[],
    }
}

/// `--threads` above this many per hardware thread is refused: more only adds switching, and a
/// typo such as `--threads 100000` would start that many OS threads.
const MAX_THREADS_PER_HARDWARE_THREAD: usize = 4;
