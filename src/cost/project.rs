//! Roofline projection of tokens/s for an accelerator that is not local.
//!
//! Per step: time = max(FLOPs / (peak FLOP/s x compute efficiency),
//! bytes / (peak bandwidth x memory efficiency), all-reduce bytes / link bandwidth)
//! + 2 all-reduce latencies per layer when the model is split over several chips (tensor
//! parallelism over all chips of the instance). Prefill is one step over the whole batch of
//! prompts; decode is one step per output token, with the KV cache growing every step.

use serde::Serialize;

use crate::model::{ElemBytes, ModelShape};

use super::Precision;
use super::pricing::{Accelerator, Efficiency};

/// What is being served.
#[derive(Debug, Clone)]
pub struct ServingShape {
    pub model: ModelShape,
    /// Concurrent sequences.
    pub batch: u64,
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    pub precision: Precision,
}

impl ServingShape {
    /// Bytes per element of weights, KV cache and activations at this precision. fp8 and int8
    /// store weights and the KV cache in one byte (as the MLPerf FP8 submissions do); activations
    /// and all-reduces stay 16-bit.
    pub fn elem_bytes(&self) -> ElemBytes {
        match self.precision {
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

    /// Bytes resident at the end of generation: weights plus the full KV cache.
    pub fn resident_bytes(&self) -> u64 {
        self.model.resident_bytes(
            self.batch,
            self.prompt_tokens + self.output_tokens,
            self.elem_bytes(),
        )
    }
}

/// Hardware an instance brings to the projection.
#[derive(Debug, Clone, Copy)]
pub struct Hardware {
    pub chips: u64,
    /// Dense peak per chip at the precision used, FLOP/s.
    pub peak_flops_per_chip: f64,
    pub hbm_bytes_per_chip: f64,
    pub hbm_bytes_per_s_per_chip: f64,
    /// Unidirectional chip-to-chip bandwidth, bytes/s; None when the chips have no fast link.
    pub link_bytes_per_s: Option<f64>,
    pub allreduce_latency_s: f64,
    pub usable_memory_fraction: f64,
}

impl Hardware {
    /// From a pricing-table accelerator.
    pub fn from_accelerator(
        acc: &Accelerator,
        chips: u64,
        precision: Precision,
        allreduce_latency_us: f64,
        usable_memory_fraction: f64,
    ) -> Hardware {
        Hardware {
            chips,
            peak_flops_per_chip: acc.peak_tflops(precision).0 * 1e12,
            hbm_bytes_per_chip: acc.hbm_gb * 1e9,
            hbm_bytes_per_s_per_chip: acc.hbm_gbps * 1e9,
            link_bytes_per_s: acc.link_gbps.map(|g| g * 1e9),
            allreduce_latency_s: allreduce_latency_us * 1e-6,
            usable_memory_fraction,
        }
    }

    /// Memory that can hold weights and KV cache, bytes.
    pub fn usable_memory_bytes(&self) -> f64 {
        self.chips as f64 * self.hbm_bytes_per_chip * self.usable_memory_fraction
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

/// Outcome of one projection at one pair of efficiencies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Projection {
    /// Weights and KV cache fit in usable memory.
    pub fits: bool,
    pub resident_bytes: f64,
    pub usable_memory_bytes: f64,
    pub prefill_s: f64,
    pub decode_s: f64,
    /// Input tokens per second while prefilling.
    pub prefill_tokens_per_s: f64,
    /// Output tokens per second while decoding.
    pub decode_tokens_per_s: f64,
    /// Output tokens per second over the whole request (prefill and decode).
    pub output_tokens_per_s: f64,
    /// What dominated decode time.
    pub decode_bound: Bound,
    /// Share of decode time spent on all-reduce latency and bandwidth not hidden by the
    /// roofline maximum.
    pub decode_comm_share: f64,
}

/// Time of one step and what bound it.
struct StepTime {
    seconds: f64,
    bound: Bound,
    comm_s: f64,
}

fn step_time(
    hw: &Hardware,
    eff_compute: f64,
    eff_memory: f64,
    flops: f64,
    bytes: f64,
    allreduce_bytes: f64,
    allreduces: f64,
) -> StepTime {
    let n = hw.chips as f64;
    let compute = flops / (n * hw.peak_flops_per_chip * eff_compute);
    let memory = bytes / (n * hw.hbm_bytes_per_s_per_chip * eff_memory);
    let (comm_bw, latency) = if hw.chips > 1 {
        // Ring all-reduce: each chip sends and receives 2 (n-1)/n of the message. Without a
        // fast link the host PCIe path is assumed at a conservative 16 GB/s.
        let link = hw.link_bytes_per_s.unwrap_or(16e9);
        (
            allreduces * 2.0 * (n - 1.0) / n * allreduce_bytes / link,
            allreduces * hw.allreduce_latency_s,
        )
    } else {
        (0.0, 0.0)
    };
    let (top, bound) = if compute >= memory && compute >= comm_bw {
        (compute, Bound::Compute)
    } else if memory >= comm_bw {
        (memory, Bound::Memory)
    } else {
        (comm_bw, Bound::Communication)
    };
    // Bandwidth time of the all-reduces counts as communication only when it is the maximum.
    let comm_s = latency
        + if bound == Bound::Communication {
            top
        } else {
            0.0
        };
    StepTime {
        seconds: top + latency,
        bound: if latency > top {
            Bound::Communication
        } else {
            bound
        },
        comm_s,
    }
}

/// Project prefill and decode throughput of `shape` on `hw` at the given efficiencies.
pub fn project_tokens_per_second(
    shape: &ServingShape,
    hw: &Hardware,
    eff_compute: f64,
    eff_memory: f64,
) -> Projection {
    let m = &shape.model;
    let eb = shape.elem_bytes();
    let allreduces = 2.0 * m.layers as f64;
    let act = eb.activation as f64 * m.hidden as f64;

    let pre = m.prefill_work(shape.batch, shape.prompt_tokens, eb);
    let prefill = step_time(
        hw,
        eff_compute,
        eff_memory,
        pre.flops as f64,
        pre.bytes() as f64,
        act * (shape.batch * shape.prompt_tokens) as f64,
        allreduces,
    );

    let mut decode_s = 0.0;
    let mut comm_s = 0.0;
    let mut time_by_bound = [0.0f64; 3];
    for step in 1..=shape.output_tokens {
        let context = shape.prompt_tokens + step;
        let w = m.decode_step_work(shape.batch, context, eb);
        let t = step_time(
            hw,
            eff_compute,
            eff_memory,
            w.flops as f64,
            w.bytes() as f64,
            act * shape.batch as f64,
            allreduces,
        );
        decode_s += t.seconds;
        comm_s += t.comm_s;
        time_by_bound[t.bound as usize] += t.seconds;
    }
    let decode_bound = [Bound::Compute, Bound::Memory, Bound::Communication]
        .into_iter()
        .max_by(|a, b| time_by_bound[*a as usize].total_cmp(&time_by_bound[*b as usize]))
        .unwrap_or(Bound::Memory);

    let resident = shape.resident_bytes() as f64;
    let usable = hw.usable_memory_bytes();
    let input_tokens = (shape.batch * shape.prompt_tokens) as f64;
    let output_tokens = (shape.batch * shape.output_tokens) as f64;
    Projection {
        fits: resident <= usable,
        resident_bytes: resident,
        usable_memory_bytes: usable,
        prefill_s: prefill.seconds,
        decode_s,
        prefill_tokens_per_s: input_tokens / prefill.seconds,
        decode_tokens_per_s: output_tokens / decode_s,
        output_tokens_per_s: output_tokens / (prefill.seconds + decode_s),
        decode_bound,
        decode_comm_share: if decode_s > 0.0 {
            comm_s / decode_s
        } else {
            0.0
        },
    }
}

/// A projection at the point efficiencies and at both ends of their range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProjectionRange {
    pub point: Projection,
    pub low: Projection,
    pub high: Projection,
}

/// Project at the point, low and high efficiencies of `eff`.
pub fn project_range(shape: &ServingShape, hw: &Hardware, eff: &Efficiency) -> ProjectionRange {
    ProjectionRange {
        point: project_tokens_per_second(shape, hw, eff.compute, eff.memory),
        low: project_tokens_per_second(shape, hw, eff.compute_low, eff.memory_low),
        high: project_tokens_per_second(shape, hw, eff.compute_high, eff.memory_high),
    }
}

/// $ per 1M tokens at `usd_per_hour` and `tokens_per_s`.
pub fn usd_per_million(usd_per_hour: f64, tokens_per_s: f64) -> f64 {
    usd_per_hour / (tokens_per_s * 3600.0) * 1e6
}
