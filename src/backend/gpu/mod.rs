//! GPU backend: every adapter wgpu finds (Vulkan, Metal, DX12, GL). The only module that
//! imports wgpu. Kernels come from `kernels/*.wgsl`, embedded with `include_str!` so the binary
//! is self-contained.
//!
//! Buffers, pipelines and bind groups are built once in `prepare`; the timed loop only encodes
//! dispatches, submits and waits. Device errors (validation, out of memory, device lost) are
//! collected by an uncaptured-error handler and returned as `Err`, never as a panic.
//!
//! Layout convention shared with the kernels: matrices whose rows are read as `vec4` have their
//! rows padded with zeros to a multiple of 4 elements, so that shapes that are not multiples of
//! 4 (or of a tile) are handled by the same kernel; padding is stripped when reading back.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{Result, bail};

mod adapters;
mod choices;
mod datasheet;
mod device;
mod emulate;
mod layout;
mod plan;
mod poison;
mod probes;
mod timing;

pub use adapters::{AdapterInfo, enumerate};
pub use datasheet::{known_f16_tensor_peak, known_fp32_peak, known_memory};
pub use emulate::emulate_coop;
pub use plan::{
    COOP_CONFIG, COOP_GEMMS, CoopGemm, GEMM_F32_KERNELS, SPLITK_MAX, SPLITK_REDUCE, SplitK,
    coop_fallback, coop_grid, coop_variant, split_k, unsplit, workgroup_memory_fallback,
};
pub use poison::poison_workgroup;

use layout::pad4;
use timing::GpuPrepared;

use super::{Backend, Prepared};
use crate::reference::Inputs;
use crate::results::{DeviceKind, DevicePeaks, DeviceRecord, PeakFigure, PeakPair};
use crate::workload::{Dtype, Kernel, Workload};

/// One embedded WGSL kernel file.
#[derive(Debug, Clone, Copy)]
pub struct KernelSource {
    /// File stem in `kernels/`, e.g. `gemm_f32_tiled`.
    pub name: &'static str,
    pub source: &'static str,
    /// Uses `f16` (needs SHADER_F16).
    pub needs_f16: bool,
    /// Uses subgroup operations (needs SUBGROUP).
    pub needs_subgroup: bool,
    /// Uses cooperative matrices (needs EXPERIMENTAL_COOPERATIVE_MATRIX and a configuration the
    /// adapter lists; see `plan/gemm.rs`).
    pub needs_coop: bool,
}

macro_rules! kernel {
    ($name:literal, $f16:expr, $sg:expr) => {
        kernel!($name, $f16, $sg, false)
    };
    ($name:literal, $f16:expr, $sg:expr, $coop:expr) => {
        KernelSource {
            name: $name,
            source: include_str!(concat!("../../../kernels/", $name, ".wgsl")),
            needs_f16: $f16,
            needs_subgroup: $sg,
            needs_coop: $coop,
        }
    };
}

/// Every WGSL file in `kernels/`. A test checks that this list and the folder agree.
pub const KERNELS: &[KernelSource] = &[
    kernel!("gemm_f32_tiled", false, false),
    kernel!("gemm_f32_tile128", false, false),
    kernel!("gemm_f16_tiled", true, false),
    kernel!("gemm_f16_coop_k64", true, false, true),
    kernel!("gemm_f16_coop_k64x2", true, false, true),
    kernel!("gemm_f16_coop_w64", true, false, true),
    kernel!("gemm_f16_coop_k32x2", true, false, true),
    kernel!("gemm_f16_coop_k64_splitk", true, false, true),
    kernel!("gemm_f16_coop_t128", true, false, true),
    kernel!("gemm_f16_coop_t128_splitk", true, false, true),
    kernel!("gemm_f16_splitk_reduce", true, false),
    kernel!("gemv_f32_subgroup", false, true),
    kernel!("gemv_f32_shared", false, false),
    kernel!("gemv_f16_subgroup", true, true),
    kernel!("gemv_f16_shared", true, false),
    kernel!("gemv_norm_f32_subgroup", false, true),
    kernel!("gemv_norm_f32_shared", false, false),
    kernel!("gemv_norm_f16_subgroup", true, true),
    kernel!("gemv_norm_f16_shared", true, false),
    kernel!("gemv_gate_up_silu_f32_subgroup", false, true),
    kernel!("gemv_gate_up_silu_f32_shared", false, false),
    kernel!("gemv_gate_up_silu_f16_subgroup", true, true),
    kernel!("gemv_gate_up_silu_f16_shared", true, false),
    kernel!("softmax_f32", false, false),
    kernel!("rmsnorm_f32", false, false),
    kernel!("attention_decode_split", false, false),
    kernel!("attention_decode_reduce", false, false),
    kernel!("attention_decode_split_f16_gqa", true, false),
    kernel!("stream_triad", false, false),
    kernel!("copy_bandwidth", false, false),
    kernel!("fma_peak", false, false),
    kernel!("dispatch_chain", false, false),
    kernel!("kv_append", false, false),
    kernel!("silu_mul", false, false),
    kernel!("argmax_f32", false, false),
    kernel!("softmax_f16", true, false),
    kernel!("rmsnorm_f16", true, false),
    kernel!("attention_decode_split_f16", true, false),
    kernel!("attention_decode_reduce_f16", true, false),
    kernel!("kv_append_f16", true, false),
    kernel!("silu_mul_f16", true, false),
    kernel!("argmax_f16", true, false),
];

/// Largest head dimension the attention kernel holds in workgroup memory.
pub const MAX_HEAD_DIM: u64 = 256;
/// Largest whole model (weights) a software adapter is asked to run: lavapipe is the CPU
/// running a GPU's work, far slower than the CPU backend.
const SOFTWARE_MAX_MODEL_PARAMS: u64 = 1 << 24;
/// Cache positions per split of the decode-attention kernel (its workgroup size).
const ATTENTION_CHUNK: u64 = 64;

/// One wgpu adapter and device, opened for measuring.
pub struct GpuBackend {
    info: AdapterInfo,
    device: wgpu::Device,
    queue: wgpu::Queue,
    features: wgpu::Features,
    limits: wgpu::Limits,
    /// Errors reported by wgpu's uncaptured-error handler and the device-lost callback.
    errors: Arc<Mutex<Vec<String>>>,
    /// Pipelines built so far, by kernel name: lavapipe takes seconds per pipeline.
    pipelines: RefCell<HashMap<&'static str, wgpu::ComputePipeline>>,
    use_subgroups: bool,
    use_timestamps: bool,
    /// f16 decode attention through attention_decode_split_f16_gqa where it applies
    /// (`ACCELBENCH_ATTENTION=gqa`, or chosen by `run`'s timing; not yet measured on a GPU).
    attention_gqa: bool,
    /// The cooperative-matrix GEMM f16 GEMMs run where one runs, when set
    /// ([`GpuBackend::set_coop_variant`], or chosen by `run`'s timing through
    /// [`GpuBackend::choose_kernel`]); else `ACCELBENCH_GEMM_F16` decides.
    coop_variant: Option<&'static CoopGemm>,
    /// The f32 GEMM kernel, when chosen ([`GpuBackend::choose_kernel`]); else the tile-count
    /// rule picks it.
    gemm_f32: Option<&'static str>,
    /// Test only ([`GpuBackend::set_coop_emulation`]): that kernel runs with its
    /// cooperative-matrix operations emulated in plain WGSL, on any adapter.
    coop_emulation: bool,
    /// `nvidia-smi` and this GPU's index there, when both are found (see `crate::telemetry`).
    state_source: Option<crate::telemetry::Source>,
    /// The decode layer as 7 dispatches, RMSNorm fused into the QKV GEMV and into a fused
    /// gate/up/SiLU GEMV (`ACCELBENCH_DECODE=fused`, or chosen by `run`'s timing; not yet
    /// measured on a GPU).
    decode_fused: bool,
    /// wgpu's shader runtime checks (clamped array indices, bounded loops, guarded integer
    /// division) and workgroup-memory zero-fill (`ACCELBENCH_SHADER_CHECKS=off` turns them
    /// off; see [`GpuBackend::set_shader_checks`]).
    shader_checks: bool,
    /// Test only ([`GpuBackend::set_workgroup_poison`]): kernels fill their workgroup memory
    /// with a poison value first ([`poison_workgroup`]).
    workgroup_poison: bool,
}

/// L2 assumed for an adapter that is not in the datasheet table: larger than most GPUs', so
/// rows are marked in-cache rather than read as memory bandwidth when in doubt.
const ASSUMED_L2_BYTES: u64 = 64 << 20;

impl GpuBackend {
    /// The adapter's L2 (datasheet table; a software adapter's is the CPU's last-level cache;
    /// else [`ASSUMED_L2_BYTES`]) and where that figure came from.
    fn l2(&self) -> (u64, String) {
        match (known_memory(&self.info.name), self.info.software) {
            (Some((_, l2, src)), _) => (l2, format!("L2: {src}")),
            (None, true) => match crate::backend::cpu::last_level_cache() {
                Some(b) => (
                    b as u64,
                    "software adapter: the CPU's last-level cache, from sysfs".into(),
                ),
                None => (
                    ASSUMED_L2_BYTES,
                    format!(
                        "software adapter, CPU cache unknown: {} MiB assumed",
                        ASSUMED_L2_BYTES >> 20
                    ),
                ),
            },
            (None, false) => (
                ASSUMED_L2_BYTES,
                format!(
                    "L2 unknown for this adapter: {} MiB assumed",
                    ASSUMED_L2_BYTES >> 20
                ),
            ),
        }
    }

    /// Copies of `bytes` of weights that make one pass over all of them at least twice the L2
    /// (memory-bound plans rotate through them, as the CPU backend does).
    pub(in crate::backend::gpu) fn rotation_copies(&self, bytes: u64) -> usize {
        crate::backend::cpu::copies_to_defeat_cache(bytes as usize, self.l2().0 as usize)
    }

    /// Both peaks of each kind (specification: the datasheet table; measured: the FMA and copy
    /// kernels) and the cache that decides `in_cache` (L2; a software adapter's is the CPU's).
    pub fn peaks(&self) -> DevicePeaks {
        let spec_flops = known_fp32_peak(&self.info.name).map(|(g, src)| PeakFigure {
            value: g,
            source: src.to_string(),
        });
        let (measured_flops, flops_err) = match self.measure_fma_gflops() {
            Ok((g, how)) => (
                Some(PeakFigure {
                    value: g,
                    source: how,
                }),
                None,
            ),
            Err(e) => (None, Some(format!("FMA kernel failed: {e:#}"))),
        };
        let memory = known_memory(&self.info.name);
        let spec_bw = memory.map(|(g, _, src)| PeakFigure {
            value: g,
            source: src.to_string(),
        });
        let (measured_bw, bw_err) = match self.measure_copy_gbps() {
            Ok((g, how)) => (
                Some(PeakFigure {
                    value: g,
                    source: format!(
                        "{how}; read + write bytes counted, no write-allocate (GPU L2 writes whole sectors)"
                    ),
                }),
                None,
            ),
            Err(e) => (None, Some(format!("copy kernel failed: {e:#}"))),
        };
        let not_in_table = || "not in the datasheet table".to_string();
        let (cache_bytes, cache_source) = self.l2();
        DevicePeaks {
            f16_tensor: known_f16_tensor_peak(&self.info.name).map(|(g, src)| PeakFigure {
                value: g,
                source: src.to_string(),
            }),
            gflops: PeakPair {
                note: flops_err.or_else(|| spec_flops.is_none().then(not_in_table)),
                spec: spec_flops,
                measured: measured_flops,
            },
            gbps: PeakPair {
                note: bw_err.or_else(|| spec_bw.is_none().then(not_in_table)),
                spec: spec_bw,
                measured: measured_bw,
            },
            cache_bytes: Some(cache_bytes),
            cache_source,
        }
    }
}

impl GpuBackend {
    /// Buffers, bind groups and dispatches of `w` (what `prepare` times).
    fn plan(&self, w: &Workload, inputs: &Inputs) -> Result<plan::Plan> {
        let plan = match &w.kernel {
            Kernel::Gemm { m, n, k } => self.plan_gemm(*m, *n, *k, w.dtype, inputs)?,
            Kernel::Gemv { n, k } => self.plan_gemv(*n, *k, w.dtype, inputs)?,
            Kernel::Softmax { rows, cols } => self.plan_softmax(*rows, *cols, w.dtype, inputs)?,
            Kernel::RmsNorm { rows, cols } => self.plan_rmsnorm(*rows, *cols, w.dtype, inputs)?,
            Kernel::DecodeAttention(a) => self.plan_attention(a, w.dtype, inputs)?,
            Kernel::StreamTriad { n } => self.plan_triad(*n, inputs)?,
            Kernel::DecodeStep { model, context } => {
                self.plan_decode_step(model, *context, w.dtype, inputs)?
            }
            Kernel::DecodeToken { .. } => self.plan_decode_token(w, inputs)?,
        };
        self.check(&format!("preparing {}", w.label()))?;
        Ok(plan)
    }
}

impl Backend for GpuBackend {
    fn state_source(&self) -> Option<crate::telemetry::Source> {
        self.state_source.clone()
    }

    fn choices(&self, w: &Workload) -> Vec<String> {
        if self.info.software {
            return Vec::new();
        }
        self.kernel_choices(w)
    }

    fn choose(&mut self, choice: Option<&str>) -> Result<()> {
        self.choose_kernel(choice)
    }

    fn bandwidth_after(&mut self) -> Option<PeakFigure> {
        self.measure_copy_gbps()
            .ok()
            .map(|(value, how)| PeakFigure { value, source: how })
    }

    fn record(&self) -> DeviceRecord {
        let peaks = self.peaks();
        let mut source = crate::results::describe_peaks(&peaks);
        let dispatch_ns = match self.measure_dispatch_ns() {
            Ok((value, source)) => Some(PeakFigure { value, source }),
            Err(e) => {
                source.push_str(&format!(" | dispatch probe failed: {e:#}"));
                None
            }
        };
        if self.info.software {
            source.push_str(" | software adapter: CPU emulation, not GPU performance");
        }
        DeviceRecord {
            id: format!("gpu{}", self.info.index),
            kind: DeviceKind::Gpu,
            name: self.info.name.clone(),
            backend: self.info.backend.clone(),
            driver: self.info.driver.clone(),
            device_type: Some(self.info.device_type.clone()),
            peak_gflops: peaks.gflops.best(),
            peak_gbps: peaks.gbps.best(),
            peak_source: source,
            peaks: Some(peaks),
            cooperative_matrix: self.info.cooperative_matrix.clone(),
            copy_gbps_after: None,
            dispatch_ns,
        }
    }

    fn unsupported(&self, w: &Workload) -> Option<String> {
        let name = &self.info.name;
        if let Kernel::DecodeToken { model, .. } = &w.kernel
            && self.info.software
            && model.step_weight_params() > SOFTWARE_MAX_MODEL_PARAMS
        {
            return Some(format!(
                "'{name}' is a software adapter (the CPU emulating a GPU): a whole {} would take minutes per token there; only models of up to {SOFTWARE_MAX_MODEL_PARAMS} weights run on it",
                model.name
            ));
        }
        if w.dtype == Dtype::F16 {
            if matches!(w.kernel, Kernel::StreamTriad { .. }) {
                return Some(format!(
                    "the GPU backend has no f16 kernel for {} (it measures memory bandwidth in f32)",
                    w.kernel_name()
                ));
            }
            if !self.features.contains(wgpu::Features::SHADER_F16) {
                return Some(format!(
                    "f16 needs the SHADER_F16 feature, which adapter '{name}' does not have"
                ));
            }
        }
        let heads = match &w.kernel {
            Kernel::DecodeAttention(a) => Some((a.q_heads, a.kv_heads, a.head_dim)),
            Kernel::DecodeStep { model, .. } | Kernel::DecodeToken { model, .. } => {
                Some((model.q_heads, model.kv_heads, model.head_dim))
            }
            _ => None,
        };
        if let Some((qh, kvh, hd)) = heads {
            if hd > MAX_HEAD_DIM {
                return Some(format!(
                    "head_dim {hd} is above the attention kernel's maximum of {MAX_HEAD_DIM}"
                ));
            }
            if kvh == 0 || qh % kvh != 0 {
                return Some(format!("q_heads {qh} must be a multiple of kv_heads {kvh}"));
            }
        }
        let max_bind = self.limits.max_storage_buffer_binding_size;
        let max_buf = self.limits.max_buffer_size;
        for (label, bytes) in self.buffer_sizes(w) {
            let (limit, limit_name) = if max_bind <= max_buf {
                (max_bind, "max_storage_buffer_binding_size")
            } else {
                (max_buf, "max_buffer_size")
            };
            if bytes > limit {
                return Some(format!(
                    "buffer {label} would be {} but adapter '{name}' allows at most {} ({limit_name}); choose a smaller --shape",
                    fmt_bytes(bytes),
                    fmt_bytes(limit)
                ));
            }
            // Kernels index with u32; 4-byte elements bound how large a buffer may be.
            if bytes / 4 > u32::MAX as u64 {
                return Some(format!(
                    "buffer {label} would be {}, too large for 32-bit indexing in the kernels",
                    fmt_bytes(bytes)
                ));
            }
        }
        if let Kernel::DecodeStep { model, .. } | Kernel::DecodeToken { model, .. } = &w.kernel {
            // A layer's five weight matrices are one buffer (plan/decode.rs), never bound whole.
            let h = pad4(model.hidden);
            let packed = 4
                * (model.qkv_width() * h
                    + model.hidden * pad4(model.q_heads * model.head_dim)
                    + 2 * model.ffn * h
                    + model.hidden * pad4(model.ffn))
                + 5 * self.limits.min_storage_buffer_offset_alignment as u64;
            if packed > max_buf {
                return Some(format!(
                    "one layer's weights would be {} in one buffer but adapter '{name}' allows at most {} (max_buffer_size)",
                    fmt_bytes(packed),
                    fmt_bytes(max_buf)
                ));
            }
        }
        let max_dim = self.limits.max_compute_workgroups_per_dimension as u64;
        let too_many = match &w.kernel {
            Kernel::Gemm { m, n, .. } => {
                (pad4(*n) / 4).div_ceil(16) > max_dim || m.div_ceil(64) > max_dim
            }
            Kernel::DecodeAttention(a) => {
                a.context.div_ceil(ATTENTION_CHUNK) > max_dim || a.q_heads > max_dim
            }
            Kernel::DecodeStep { model, context } | Kernel::DecodeToken { model, context } => {
                context.div_ceil(ATTENTION_CHUNK) > max_dim || model.q_heads > max_dim
            }
            _ => false,
        };
        if too_many {
            return Some(format!(
                "the shape needs more than {max_dim} workgroups in one dimension (max_compute_workgroups_per_dimension of '{name}')"
            ));
        }
        None
    }

    fn prepare<'a>(&'a mut self, w: &Workload, inputs: &Inputs) -> Result<Box<dyn Prepared + 'a>> {
        if let Some(why) = self.unsupported(w) {
            bail!("{why}");
        }
        let plan = self.plan(w, inputs)?;
        let mut note = match (&w.kernel, w.dtype) {
            (Kernel::Gemm { m, n, k }, Dtype::F16) => self.gemm_f16_note(*m, *n, *k),
            _ => None,
        };
        if !self.shader_checks {
            let off = "compiled without wgpu's shader runtime checks and workgroup zero-fill (ACCELBENCH_SHADER_CHECKS=off)";
            note = Some(match note {
                Some(n) => format!("{n}; {off}"),
                None => off.to_string(),
            });
        }
        let mut variant: Vec<&str> = Vec::new();
        for d in &plan.dispatches {
            if !variant.contains(&d.kernel) {
                variant.push(d.kernel);
            }
        }
        let timestamps = self.new_timestamps();
        self.check("creating timestamp queries")?;
        let mut sets = vec![plan.dispatches];
        sets.extend(plan.more);
        Ok(Box::new(GpuPrepared {
            gpu: self,
            sets,
            next: 0,
            output: plan.output,
            layout: plan.layout,
            timestamps,
            variant: if self.shader_checks {
                variant.join("+")
            } else {
                format!("{} (unchecked)", variant.join("+"))
            },
            note,
            _buffers: plan.buffers,
        }))
    }
}

fn fmt_bytes(b: u64) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    const MIB: f64 = (1u64 << 20) as f64;
    if b as f64 >= GIB {
        format!("{:.2} GiB", b as f64 / GIB)
    } else {
        format!("{:.1} MiB", b as f64 / MIB)
    }
}
