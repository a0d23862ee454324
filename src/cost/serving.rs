//! The serving model: tokens/s of a model on N chips of one accelerator, for a scenario, at given
//! efficiencies (FLOPs, bytes, capacity and communication; no published figure is looked up).
//!
//! - **offline** (max throughput): continuous (in-flight) batching. In steady state each step
//!   decodes one token for each of `B` running sequences and prefills a chunk of new prompts,
//!   `B x P / O` tokens, so that sequences finish and start at the same rate. Prefill compute
//!   and memory-bound decode share the step: its time is the larger of the compute and memory
//!   times, plus the all-reduces of tensor parallelism, which do not overlap. Throughput is
//!   `B / step`. The layout (tensor-parallel degree x replicas) that serves the most tokens is
//!   chosen, as a tuned deployment would.
//! - **latency** (static batch, 1 by default): the batch is prefilled in one step, then decodes
//!   in lockstep, one token per step, each step including its collectives. Tensor parallelism
//!   over the layout with the shortest step.
//!
//! Time per step = max(FLOPs / (chips x peak x e_compute), bytes / (chips x bandwidth x
//! e_memory)) + layers x overhead + 2 x layers x (all-reduce latency + ring bytes / (link x
//! e_link)).

use serde::Serialize;

use crate::model::{ElemBytes, ModelShape, StepWork};

use super::Precision;
use super::pricing::Accelerator;

/// What the figure describes: a saturated server or one stream.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// Sustained throughput of many sequences with continuous batching.
    Offline,
    /// One static batch (1 by default): time per output token.
    Latency,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Offline => "offline",
            Scenario::Latency => "latency",
        }
    }
}

/// Fitted parameters of one accelerator family (or the pooled fit).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Fraction of dense peak FLOP/s reached, (0, 1].
    pub compute: f64,
    /// Fraction of peak memory bandwidth reached, (0, 1].
    pub memory: f64,
    /// Fraction of the chip-to-chip link bandwidth an all-reduce reaches, (0, 1].
    pub link: f64,
    /// Fixed cost of one all-reduce inside the instance, microseconds.
    pub allreduce_latency_us: f64,
    /// Fixed cost per layer per step whatever the work (kernel launches, synchronisation),
    /// microseconds.
    pub layer_overhead_us: f64,
}

/// What is served.
#[derive(Debug, Clone)]
pub struct Workload {
    pub model: ModelShape,
    pub precision: Precision,
    pub scenario: Scenario,
    /// Concurrent sequences on the whole instance; None: offline takes the largest batch that
    /// fits (up to `max_batch` per replica), latency takes 1.
    pub batch: Option<u64>,
    /// Tensor-parallel degree as deployed; None: the layout that serves best.
    pub tensor_parallel: Option<u64>,
    /// The engine runs prompt chunks in the same steps as decode tokens (offline). False for
    /// engines with separate prefill and decode graphs: then the two take turns.
    pub overlap_prefill: bool,
    pub prompt_tokens: u64,
    pub output_tokens: u64,
}

impl Workload {
    /// Bytes per element of weights, KV cache and activations at this precision. fp8 and int8
    /// store weights and the KV cache in one byte; activations and all-reduces stay 16-bit.
    pub fn elem_bytes(&self) -> ElemBytes {
        elem_bytes(self.precision)
    }
}

/// Bytes per element at `precision`.
pub fn elem_bytes(precision: Precision) -> ElemBytes {
    match precision {
        Precision::Bf16 => ElemBytes {
            weight: 2,
            kv: 2,
            activation: 2,
        },
        Precision::Fp8 | Precision::Int8 => ElemBytes {
            weight: 1,
            kv: 1,
            activation: 2,
        },
    }
}

/// The chips an instance brings.
#[derive(Debug, Clone, Copy)]
pub struct Hardware {
    pub chips: u64,
    /// Dense peak per chip at the precision used, FLOP/s.
    pub peak_flops_per_chip: f64,
    pub memory_bytes_per_chip: f64,
    pub memory_bytes_per_s_per_chip: f64,
    /// Unidirectional chip-to-chip bandwidth per chip, bytes/s.
    pub link_bytes_per_s: f64,
    /// Share of memory that holds weights and KV cache (a stated default).
    pub usable_memory_fraction: f64,
    /// Most sequences one replica runs at once when the batch is not given (a stated default).
    pub max_batch: u64,
}

/// Engines that compile prefill (context encoding) and decode (token generation) as separate
/// graphs and so never run them in the same step: the AWS Neuron engines (NxD Inference docs,
/// "context encoding model" and "token generation model").
pub const SEPARATE_PREFILL_ENGINES: [&str; 3] =
    ["transformers-neuronx", "nxd-inference", "optimum-neuron"];

/// Whether `engine` runs prompt chunks in the same steps as decode tokens.
pub fn overlaps_prefill(engine: &str) -> bool {
    !SEPARATE_PREFILL_ENGINES.contains(&engine)
}

/// Link bandwidth assumed for chips without a fast link: PCIe 4.0 x16, one direction.
pub const PCIE_LINK_BYTES_PER_S: f64 = 16e9;

impl Hardware {
    pub fn new(
        acc: &Accelerator,
        chips: u64,
        precision: Precision,
        usable_memory_fraction: f64,
        max_batch: u64,
    ) -> Hardware {
        Hardware {
            chips,
            peak_flops_per_chip: acc.peak_tflops(precision).0 * 1e12,
            memory_bytes_per_chip: acc.hbm_gb * 1e9,
            memory_bytes_per_s_per_chip: acc.hbm_gbps * 1e9,
            link_bytes_per_s: acc.link_gbps.map_or(PCIE_LINK_BYTES_PER_S, |g| g * 1e9),
            usable_memory_fraction,
            max_batch,
        }
    }

    fn usable_bytes(&self, chips: u64) -> f64 {
        chips as f64 * self.memory_bytes_per_chip * self.usable_memory_fraction
    }
}

/// Which term set the step time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    Compute,
    Memory,
    Communication,
}

impl Bound {
    pub fn name(self) -> &'static str {
        match self {
            Bound::Compute => "compute",
            Bound::Memory => "memory",
            Bound::Communication => "communication",
        }
    }
}

/// Outcome of one projection.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Projection {
    /// Weights and the KV cache of the batch fit in usable memory.
    pub fits: bool,
    /// Bytes one replica must hold, and what it can hold.
    pub resident_bytes: f64,
    pub usable_memory_bytes: f64,
    /// Tensor-parallel degree and number of replicas (tp x replicas = chips).
    pub tensor_parallel: u64,
    pub replicas: u64,
    /// Concurrent sequences on the whole instance.
    pub batch: u64,
    /// Output tokens/s of the whole instance for the scenario, prompts included.
    pub output_tokens_per_s: f64,
    /// Input plus output tokens/s.
    pub total_tokens_per_s: f64,
    /// Time between output tokens of one sequence, milliseconds.
    pub ms_per_output_token: f64,
    /// Time to first token (prefill of the batch; latency scenario), milliseconds.
    pub ms_to_first_token: f64,
    /// Prompt tokens/s of the whole instance when it only prefills (batched prompts).
    pub prefill_tokens_per_s: f64,
    /// What dominated the step.
    pub bound: Bound,
    /// Share of step time spent in all-reduces.
    pub comm_share: f64,
}

#[derive(Clone, Copy)]
struct StepTime {
    seconds: f64,
    bound: Bound,
    comm_s: f64,
}

/// One step of one replica over `tp` chips that moves `tokens` tokens through every layer.
fn step_time(
    hw: &Hardware,
    p: &Params,
    tp: u64,
    model: &ModelShape,
    act_bytes: u64,
    work: &StepWork,
    tokens: f64,
) -> StepTime {
    let n = tp as f64;
    let compute = work.flops as f64 / (n * hw.peak_flops_per_chip * p.compute);
    let memory = work.bytes() as f64 / (n * hw.memory_bytes_per_s_per_chip * p.memory);
    let comm_s = if tp > 1 {
        // Two all-reduces per layer (attention output, MLP output); a ring moves 2(n-1)/n of
        // the message through each chip's link.
        let message = tokens * model.hidden as f64 * act_bytes as f64;
        let ring = 2.0 * (n - 1.0) / n * message / (hw.link_bytes_per_s * p.link);
        2.0 * model.layers as f64 * (p.allreduce_latency_us * 1e-6 + ring)
    } else {
        0.0
    };
    let top = compute.max(memory) + model.layers as f64 * p.layer_overhead_us * 1e-6;
    let bound = if comm_s > top {
        Bound::Communication
    } else if compute >= memory {
        Bound::Compute
    } else {
        Bound::Memory
    };
    StepTime {
        seconds: top + comm_s,
        bound,
        comm_s,
    }
}

/// Sum of two steps' work.
fn add(a: StepWork, b: StepWork) -> StepWork {
    StepWork {
        flops: a.flops + b.flops,
        weight_bytes: a.weight_bytes.max(b.weight_bytes),
        kv_read_bytes: a.kv_read_bytes + b.kv_read_bytes,
        kv_write_bytes: a.kv_write_bytes + b.kv_write_bytes,
        activation_bytes: a.activation_bytes + b.activation_bytes,
    }
}

/// Work of `tokens` prompt tokens, as a share of whole prompts (FLOPs, KV writes and
/// activations scale with the tokens; the weights are read once per step either way).
fn prompt_chunk(model: &ModelShape, prompt: u64, tokens: f64, eb: ElemBytes) -> StepWork {
    let whole = model.prefill_work(1, prompt, eb);
    let share = tokens / prompt as f64;
    let scale = |x: u64| (x as f64 * share).round() as u64;
    StepWork {
        flops: scale(whole.flops),
        weight_bytes: whole.weight_bytes,
        kv_read_bytes: 0,
        kv_write_bytes: scale(whole.kv_write_bytes),
        activation_bytes: scale(whole.activation_bytes),
    }
}

/// Tensor-parallel degrees to try on `chips`: powers of two that divide it, and `chips`.
fn layouts(chips: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..7)
        .map(|k| 1u64 << k)
        .filter(|d| *d <= chips && chips.is_multiple_of(*d))
        .collect();
    if !v.contains(&chips) {
        v.push(chips);
    }
    v
}

/// Project `w` on `hw` at parameters `p`: the best layout for the scenario.
pub fn project(w: &Workload, hw: &Hardware, p: &Params) -> Projection {
    let mut best: Option<Projection> = None;
    let fixed = w
        .tensor_parallel
        .filter(|tp| *tp >= 1 && hw.chips.is_multiple_of(*tp));
    for tp in fixed.map_or_else(|| layouts(hw.chips), |tp| vec![tp]) {
        let candidate = project_layout(w, hw, p, tp);
        let better = match &best {
            None => true,
            Some(b) => match (candidate.fits, b.fits) {
                (true, false) => true,
                (false, true) => false,
                // Among layouts that do not fit, the one with most memory says by how much.
                (false, false) => candidate.usable_memory_bytes > b.usable_memory_bytes,
                (true, true) => match w.scenario {
                    Scenario::Offline => candidate.output_tokens_per_s > b.output_tokens_per_s,
                    Scenario::Latency => candidate.ms_per_output_token < b.ms_per_output_token,
                },
            },
        };
        if better {
            best = Some(candidate);
        }
    }
    best.expect("layouts() is never empty")
}

/// Project `w` with tensor parallelism over `tp` chips and `chips / tp` replicas.
pub fn project_layout(w: &Workload, hw: &Hardware, p: &Params, tp: u64) -> Projection {
    let m = &w.model;
    let eb = w.elem_bytes();
    let replicas = hw.chips / tp;
    let (prompt, output) = (w.prompt_tokens as f64, w.output_tokens as f64);
    let weights = (eb.weight * m.total_params()) as f64;
    let kv_per_seq =
        (eb.kv * (w.prompt_tokens + w.output_tokens) * m.kv_elems_per_position()) as f64;
    let usable = hw.usable_bytes(tp);

    // Sequences per replica.
    let per_replica = match (w.batch, w.scenario) {
        (Some(b), _) => b.div_ceil(replicas).max(1),
        (None, Scenario::Latency) => 1,
        (None, Scenario::Offline) => {
            let room = ((usable - weights) / kv_per_seq).floor();
            if room >= 1.0 {
                (room as u64).min(hw.max_batch)
            } else {
                1
            }
        }
    };
    let b = per_replica as f64;
    let resident = weights + b * kv_per_seq;
    let fits = resident <= usable;

    // Prefill-only rate: the replica's batch of prompts in one step.
    let pre = m.prefill_work(per_replica, w.prompt_tokens, eb);
    let pre_t = step_time(hw, p, tp, m, eb.activation, &pre, b * prompt);
    let prefill_tokens_per_s = replicas as f64 * b * prompt / pre_t.seconds;

    let mean_context = w.prompt_tokens + w.output_tokens.div_ceil(2);
    let decode = m.decode_step_work(per_replica, mean_context, eb);
    let (step, output_per_s, total_per_s, tpot, ttft) = match w.scenario {
        Scenario::Offline => {
            // Steady state: B decode tokens and B x P / O prompt tokens per step, in one step
            // or, for engines that cannot mix them, in two.
            let chunk = b * prompt / output;
            let prompts = prompt_chunk(m, w.prompt_tokens, chunk, eb);
            let t = if w.overlap_prefill {
                step_time(
                    hw,
                    p,
                    tp,
                    m,
                    eb.activation,
                    &add(decode, prompts),
                    b + chunk,
                )
            } else {
                let d = step_time(hw, p, tp, m, eb.activation, &decode, b);
                let c = step_time(hw, p, tp, m, eb.activation, &prompts, chunk);
                StepTime {
                    seconds: d.seconds + c.seconds,
                    bound: if c.seconds > d.seconds {
                        c.bound
                    } else {
                        d.bound
                    },
                    comm_s: d.comm_s + c.comm_s,
                }
            };
            let out = replicas as f64 * b / t.seconds;
            (
                t,
                out,
                out * (prompt + output) / output,
                t.seconds,
                pre_t.seconds,
            )
        }
        Scenario::Latency => {
            let t = step_time(hw, p, tp, m, eb.activation, &decode, b);
            let request_s = pre_t.seconds + output * t.seconds;
            let out = replicas as f64 * b * output / request_s;
            (
                t,
                out,
                out * (prompt + output) / output,
                t.seconds,
                pre_t.seconds,
            )
        }
    };
    Projection {
        fits,
        resident_bytes: resident,
        usable_memory_bytes: usable,
        tensor_parallel: tp,
        replicas,
        batch: per_replica * replicas,
        output_tokens_per_s: output_per_s,
        total_tokens_per_s: total_per_s,
        ms_per_output_token: tpot * 1e3,
        ms_to_first_token: ttft * 1e3,
        prefill_tokens_per_s,
        bound: step.bound,
        comm_share: step.comm_s / step.seconds,
    }
}

/// $ per 1M tokens at `usd_per_hour` and `tokens_per_s`.
pub fn usd_per_million(usd_per_hour: f64, tokens_per_s: f64) -> f64 {
    usd_per_hour / (tokens_per_s * 3600.0) * 1e6
}
