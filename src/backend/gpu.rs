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

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use wgpu::util::DeviceExt;

use super::{Backend, Prepared};
use crate::reference::{Inputs, TRIAD_SCALAR};
use crate::results::{DeviceKind, DeviceRecord, TimerKind};
use crate::workload::{Dtype, Kernel, RMSNORM_EPS, Workload};

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
}

macro_rules! kernel {
    ($name:literal, $f16:expr, $sg:expr) => {
        KernelSource {
            name: $name,
            source: include_str!(concat!("../../kernels/", $name, ".wgsl")),
            needs_f16: $f16,
            needs_subgroup: $sg,
        }
    };
}

/// Every WGSL file in `kernels/`. A test checks that this list and the folder agree.
pub const KERNELS: &[KernelSource] = &[
    kernel!("gemm_f32_tiled", false, false),
    kernel!("gemm_f32_tile128", false, false),
    kernel!("gemm_f16_tiled", true, false),
    kernel!("gemv_f32_subgroup", false, true),
    kernel!("gemv_f32_shared", false, false),
    kernel!("gemv_f16_subgroup", true, true),
    kernel!("gemv_f16_shared", true, false),
    kernel!("softmax_f32", false, false),
    kernel!("rmsnorm_f32", false, false),
    kernel!("attention_decode_split", false, false),
    kernel!("attention_decode_reduce", false, false),
    kernel!("stream_triad", false, false),
    kernel!("copy_bandwidth", false, false),
    kernel!("fma_peak", false, false),
    kernel!("kv_append", false, false),
    kernel!("silu_mul", false, false),
];

/// Largest head dimension the attention kernel holds in workgroup memory.
pub const MAX_HEAD_DIM: u64 = 256;
/// Cache positions per split of the decode-attention kernel (its workgroup size).
const ATTENTION_CHUNK: u64 = 64;

/// What `accelbench devices` shows about one adapter.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdapterInfo {
    /// Position in enumeration order; `--device N` counts the CPU as 0 and GPUs from 1.
    pub index: usize,
    pub name: String,
    /// `vulkan`, `metal`, `dx12`, `gl`.
    pub backend: String,
    /// `discrete`, `integrated`, `virtual`, `cpu`, `other`.
    pub device_type: String,
    pub driver: String,
    /// Features that matter here: TIMESTAMP_QUERY, SHADER_F16, SUBGROUP.
    pub features: Vec<String>,
    /// Largest storage buffer binding, bytes.
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    /// Largest workgroup count per dispatch dimension.
    pub max_compute_workgroups_per_dimension: u32,
    /// Subgroup sizes the adapter may use (min, max), when it has SUBGROUP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subgroup_sizes: Option<(u32, u32)>,
    /// A CPU-backed adapter (lavapipe, llvmpipe, WARP): its timings are not GPU performance.
    pub software: bool,
}

fn new_instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends =
        wgpu::Backends::VULKAN | wgpu::Backends::METAL | wgpu::Backends::DX12 | wgpu::Backends::GL;
    // WGPU_BACKEND and friends still let a user narrow the search.
    wgpu::Instance::new(desc.with_env())
}

fn backend_rank(b: wgpu::Backend) -> u8 {
    match b {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        wgpu::Backend::Gl => 1,
        _ => 2,
    }
}

/// Adapters in a stable order: native APIs before GL, then by name.
fn sorted_adapters(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters.retain(|a| backend_rank(a.get_info().backend) < 2);
    adapters.sort_by_key(|a| {
        let i = a.get_info();
        (backend_rank(i.backend), i.backend.to_str(), i.name)
    });
    adapters
}

fn device_type_name(t: wgpu::DeviceType) -> &'static str {
    match t {
        wgpu::DeviceType::DiscreteGpu => "discrete",
        wgpu::DeviceType::IntegratedGpu => "integrated",
        wgpu::DeviceType::VirtualGpu => "virtual",
        wgpu::DeviceType::Cpu => "cpu",
        wgpu::DeviceType::Other => "other",
    }
}

fn adapter_info(index: usize, adapter: &wgpu::Adapter) -> AdapterInfo {
    let info = adapter.get_info();
    let features = adapter.features();
    let limits = adapter.limits();
    let mut names = Vec::new();
    for (f, name) in [
        (wgpu::Features::TIMESTAMP_QUERY, "TIMESTAMP_QUERY"),
        (wgpu::Features::SHADER_F16, "SHADER_F16"),
        (wgpu::Features::SUBGROUP, "SUBGROUP"),
    ] {
        if features.contains(f) {
            names.push(name.to_string());
        }
    }
    let driver = match (info.driver.is_empty(), info.driver_info.is_empty()) {
        (false, false) => format!("{} {}", info.driver, info.driver_info),
        (false, true) => info.driver.clone(),
        (true, false) => info.driver_info.clone(),
        (true, true) => "unknown".to_string(),
    };
    AdapterInfo {
        index,
        name: info.name.clone(),
        backend: info.backend.to_str().to_string(),
        device_type: device_type_name(info.device_type).to_string(),
        driver,
        features: names,
        max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
        max_buffer_size: limits.max_buffer_size,
        max_compute_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
        subgroup_sizes: features
            .contains(wgpu::Features::SUBGROUP)
            .then_some((info.subgroup_min_size, info.subgroup_max_size)),
        software: info.device_type == wgpu::DeviceType::Cpu,
    }
}

/// Every adapter wgpu finds, in a stable order. Never fails: no GPU means an empty list.
pub fn enumerate() -> Vec<AdapterInfo> {
    // A broken driver may panic inside enumeration; that must not take the CLI down.
    std::panic::catch_unwind(|| {
        let instance = new_instance();
        sorted_adapters(&instance)
            .iter()
            .enumerate()
            .map(|(i, a)| adapter_info(i, a))
            .collect()
    })
    .unwrap_or_default()
}

/// FP32 (non-tensor-core) peak GFLOP/s of common GPUs, from the vendors' published figures.
/// Matched as whole words in the adapter name, first match wins (so "H100 PCIe" before
/// "H100", and "L4" never matches "L40S").
const KNOWN_FP32_PEAKS: &[(&str, f64, &str)] = &[
    (
        "H100 PCIe",
        51_200.0,
        "NVIDIA H100 datasheet, PCIe: 51 TFLOP/s FP32",
    ),
    (
        "H100 NVL",
        60_000.0,
        "NVIDIA H100 datasheet, NVL: 60 TFLOP/s FP32",
    ),
    (
        "H100",
        66_900.0,
        "NVIDIA H100 datasheet, SXM5: 67 TFLOP/s FP32",
    ),
    (
        "H200",
        66_900.0,
        "NVIDIA H200 datasheet, SXM: 67 TFLOP/s FP32",
    ),
    ("A100", 19_500.0, "NVIDIA A100 datasheet: 19.5 TFLOP/s FP32"),
    ("L40S", 91_600.0, "NVIDIA L40S datasheet: 91.6 TFLOP/s FP32"),
    ("L40", 90_500.0, "NVIDIA L40 datasheet: 90.5 TFLOP/s FP32"),
    ("L4", 30_300.0, "NVIDIA L4 datasheet: 30.3 TFLOP/s FP32"),
    (
        "A10G",
        31_200.0,
        "NVIDIA A10 datasheet: 31.2 TFLOP/s FP32 (the A10G is AWS's A10 variant)",
    ),
    ("A10", 31_200.0, "NVIDIA A10 datasheet: 31.2 TFLOP/s FP32"),
    (
        "RTX 4090",
        82_600.0,
        "NVIDIA Ada Lovelace architecture whitepaper, RTX 4090: 82.6 TFLOP/s FP32",
    ),
    (
        "RTX 3090",
        35_600.0,
        "NVIDIA Ampere GA102 whitepaper, RTX 3090: 35.6 TFLOP/s FP32",
    ),
    ("T4", 8_100.0, "NVIDIA T4 datasheet: 8.1 TFLOP/s FP32"),
    (
        "V100",
        15_700.0,
        "NVIDIA V100 datasheet, SXM2: 15.7 TFLOP/s FP32",
    ),
];

/// The published FP32 peak (GFLOP/s) and its source for an adapter name, if known.
pub fn known_fp32_peak(adapter_name: &str) -> Option<(f64, &'static str)> {
    let name = adapter_name.to_ascii_lowercase();
    KNOWN_FP32_PEAKS
        .iter()
        .find(|(key, _, _)| contains_word(&name, &key.to_ascii_lowercase()))
        .map(|&(_, gflops, source)| (gflops, source))
}

fn contains_word(hay: &str, needle: &str) -> bool {
    let bytes = hay.as_bytes();
    hay.match_indices(needle).any(|(i, _)| {
        let before = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let end = i + needle.len();
        let after = end == bytes.len() || !bytes[end].is_ascii_alphanumeric();
        before && after
    })
}

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
}

impl GpuBackend {
    /// Open the adapter at `index` in [`enumerate`]'s order, with the adapter's own limits
    /// (not wgpu's small defaults) and whichever of TIMESTAMP_QUERY, SHADER_F16 and SUBGROUP
    /// it has.
    pub fn open(index: usize) -> Result<Self> {
        let instance = new_instance();
        let adapters = sorted_adapters(&instance);
        let count = adapters.len();
        let adapter = adapters.into_iter().nth(index).with_context(|| {
            format!("GPU adapter {index} does not exist; wgpu found {count} adapter(s)")
        })?;
        let info = adapter_info(index, &adapter);
        let wanted =
            wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::SHADER_F16 | wgpu::Features::SUBGROUP;
        let features = adapter.features() & wanted;
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("accelbench"),
            required_features: features,
            required_limits: limits.clone(),
            memory_hints: wgpu::MemoryHints::Performance,
            ..Default::default()
        }))
        .with_context(|| format!("could not open a device on GPU adapter '{}'", info.name))?;

        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        let sink = errors.clone();
        device.set_device_lost_callback(move |reason, msg| {
            if let Ok(mut v) = sink.lock() {
                v.push(format!("device lost ({reason:?}): {msg}"));
            }
        });
        Ok(GpuBackend {
            info,
            device,
            queue,
            features,
            limits,
            errors,
            pipelines: RefCell::new(HashMap::new()),
            use_subgroups: true,
            use_timestamps: true,
        })
    }

    pub fn info(&self) -> &AdapterInfo {
        &self.info
    }

    /// Use subgroup reductions where the adapter has SUBGROUP (the default), or force the
    /// workgroup-memory fallback (`false`), e.g. to test or compare it.
    pub fn set_use_subgroups(&mut self, on: bool) {
        self.use_subgroups = on;
    }

    /// Time with GPU timestamp queries where the adapter has TIMESTAMP_QUERY (the default), or
    /// with the wall clock per submit (`false`).
    pub fn set_use_timestamps(&mut self, on: bool) {
        self.use_timestamps = on;
    }

    fn subgroups(&self) -> bool {
        self.use_subgroups && self.features.contains(wgpu::Features::SUBGROUP)
    }

    fn timestamps(&self) -> bool {
        self.use_timestamps && self.features.contains(wgpu::Features::TIMESTAMP_QUERY)
    }

    /// Turn errors collected since the last check into an `Err`.
    fn check(&self, what: &str) -> Result<()> {
        let errs: Vec<String> = match self.errors.lock() {
            Ok(mut v) => std::mem::take(&mut *v),
            Err(_) => vec!["error log lock poisoned".to_string()],
        };
        if errs.is_empty() {
            Ok(())
        } else {
            bail!("{what} failed on '{}': {}", self.info.name, errs.join("; "))
        }
    }

    /// Block until all submitted work is done, then report any device error.
    fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| anyhow!("waiting for the GPU failed on '{}': {e}", self.info.name))?;
        self.check("GPU work")
    }

    fn pipeline(&self, name: &'static str) -> Result<wgpu::ComputePipeline> {
        if let Some(p) = self.pipelines.borrow().get(name) {
            return Ok(p.clone());
        }
        let src = KERNELS
            .iter()
            .find(|k| k.name == name)
            .with_context(|| format!("no kernel named '{name}'"))?;
        if src.needs_f16 && !self.features.contains(wgpu::Features::SHADER_F16) {
            bail!("kernel '{name}' needs SHADER_F16");
        }
        if src.needs_subgroup && !self.features.contains(wgpu::Features::SUBGROUP) {
            bail!("kernel '{name}' needs SUBGROUP");
        }
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(name),
                source: wgpu::ShaderSource::Wgsl(Cow::Borrowed(src.source)),
            });
        self.check(&format!("compiling kernels/{name}.wgsl"))?;
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(name),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            });
        self.check(&format!("building the pipeline for kernels/{name}.wgsl"))?;
        self.pipelines.borrow_mut().insert(name, pipeline.clone());
        Ok(pipeline)
    }

    fn storage_init(&self, label: &str, bytes: &[u8]) -> wgpu::Buffer {
        let padded;
        let contents = if bytes.len().is_multiple_of(16) && !bytes.is_empty() {
            bytes
        } else {
            padded = pad_bytes(bytes);
            &padded
        };
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
            })
    }

    /// A zero-filled storage buffer of at least `bytes` (rounded up to 16).
    fn storage_zeroed(&self, label: &str, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: round_up(bytes.max(16), 16),
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    fn uniform(&self, words: &[u32]) -> wgpu::Buffer {
        let mut w = words.to_vec();
        while !w.len().is_multiple_of(4) || w.is_empty() {
            w.push(0);
        }
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("params"),
                contents: bytemuck::cast_slice(&w),
                usage: wgpu::BufferUsages::UNIFORM,
            })
    }

    fn readback(&self, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: round_up(bytes.max(16), 16),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    fn dispatch(
        &self,
        kernel: &'static str,
        buffers: &[&wgpu::Buffer],
        groups: (u32, u32),
    ) -> Result<Dispatch> {
        let pipeline = self.pipeline(kernel)?;
        let layout = pipeline.get_bind_group_layout(0);
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(kernel),
            layout: &layout,
            entries: &entries,
        });
        self.check(&format!("binding buffers for kernels/{kernel}.wgsl"))?;
        Ok(Dispatch {
            pipeline,
            bind_group,
            groups,
        })
    }

    /// A 2-D grid covering `groups` workgroups (kernels rebuild the linear index from
    /// `workgroup_id` and `num_workgroups`).
    fn grid(&self, groups: u64) -> Result<(u32, u32)> {
        grid_2d(groups, self.limits.max_compute_workgroups_per_dimension)
    }

    fn new_timestamps(&self) -> Option<Timestamps> {
        if !self.timestamps() {
            return None;
        }
        let set = self.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        });
        let resolve = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("timestamp resolve"),
            size: 16,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let readback = self.readback(16);
        Some(Timestamps {
            set,
            resolve,
            readback,
        })
    }

    /// Map `buf` and copy its first `bytes` out.
    fn read(&self, buf: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
        let slice = buf.slice(..round_up(bytes.max(4), 4));
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        rx.recv()
            .map_err(|_| anyhow!("the GPU never answered a buffer read-back"))?
            .map_err(|e| anyhow!("could not map a read-back buffer: {e}"))?;
        let data = {
            let view = slice
                .get_mapped_range()
                .map_err(|e| anyhow!("could not read a mapped buffer: {e}"))?;
            view[..bytes as usize].to_vec()
        };
        buf.unmap();
        Ok(data)
    }

    /// Run `iters` repetitions of `dispatches` in one compute pass and return the elapsed
    /// nanoseconds: between the pass's GPU timestamps when `ts` is given, else wall clock
    /// around submit-and-wait.
    fn time_dispatches(
        &self,
        dispatches: &[Dispatch],
        iters: u64,
        ts: Option<&Timestamps>,
    ) -> Result<u64> {
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("timed"),
            });
        encode_pass(&mut enc, dispatches, iters, ts);
        let mut cmds = Vec::with_capacity(2);
        if let Some(t) = ts {
            enc.resolve_query_set(&t.set, 0..2, &t.resolve, 0);
            cmds.push(enc.finish());
            // The copy lives in its own encoder: resolving and copying in one can read zeros
            // on Vulkan.
            let mut copy = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("timestamp copy"),
                });
            copy.copy_buffer_to_buffer(&t.resolve, 0, &t.readback, 0, 16);
            cmds.push(copy.finish());
        } else {
            cmds.push(enc.finish());
        }
        self.check("encoding the timed pass")?;
        let start = Instant::now();
        self.queue.submit(cmds);
        self.wait()?;
        let wall_ns = start.elapsed().as_nanos() as u64;
        let Some(t) = ts else {
            return Ok(wall_ns);
        };
        let raw = self.read(&t.readback, 16)?;
        let tick = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&raw[i * 8..i * 8 + 8]);
            u64::from_le_bytes(b)
        };
        let (begin, end) = (tick(0), tick(1));
        if end <= begin {
            bail!(
                "GPU timestamps on '{}' read back as {begin} and {end}; they cannot time this kernel",
                self.info.name
            );
        }
        let period_ns = self.queue.get_timestamp_period() as f64;
        Ok((((end - begin) as f64) * period_ns).round().max(1.0) as u64)
    }

    /// Device bandwidth in GB/s from the copy kernel (2 x buffer bytes per run), after checking
    /// that the copy is right. Returns the figure and a description of how it was measured.
    pub fn measure_copy_gbps(&self) -> Result<(f64, String)> {
        let cap = if self.info.software {
            32 << 20
        } else {
            256 << 20
        };
        let bytes = (cap as u64)
            .min(self.limits.max_storage_buffer_binding_size)
            .min(self.limits.max_buffer_size)
            / 16
            * 16;
        let n4 = bytes / 16;
        let src_data: Vec<u32> = (0..n4 * 4).map(|i| i as u32 ^ 0x9e37_79b9).collect();
        let src = self.storage_init("copy src", bytemuck::cast_slice(&src_data));
        let dst = self.storage_zeroed("copy dst", bytes);
        let params = self.uniform(&[u32::try_from(n4)?]);
        let groups = self.grid(n4.div_ceil(256))?;
        let d = self.dispatch("copy_bandwidth", &[&src, &dst, &params], groups)?;
        let dispatches = [d];

        // Check the copy once before trusting its timing.
        let rb = self.readback(bytes);
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("copy"),
            });
        encode_pass(&mut enc, &dispatches, 1, None);
        enc.copy_buffer_to_buffer(&dst, 0, &rb, 0, bytes);
        self.queue.submit([enc.finish()]);
        let got = self.read(&rb, bytes)?;
        if got != bytemuck::cast_slice::<u32, u8>(&src_data) {
            bail!("the bandwidth copy kernel produced wrong data");
        }
        drop(rb);

        let ts = self.new_timestamps();
        let mut iters = 1u64;
        let mut ns = self.time_dispatches(&dispatches, iters, ts.as_ref())?;
        while ns < 20_000_000 && iters < 256 {
            iters *= 2;
            ns = self.time_dispatches(&dispatches, iters, ts.as_ref())?;
        }
        let mut best = ns;
        for _ in 0..2 {
            best = best.min(self.time_dispatches(&dispatches, iters, ts.as_ref())?);
        }
        let gbps = (2 * bytes * iters) as f64 / best as f64;
        let timer = if ts.is_some() {
            "GPU timestamps"
        } else {
            "wall clock"
        };
        Ok((
            gbps,
            format!(
                "measured copy kernel, {} MiB, best of 3, {timer}",
                bytes >> 20
            ),
        ))
    }

    /// FP32 throughput in GFLOP/s from a chain of independent vec4 FMAs.
    pub fn measure_fma_gflops(&self) -> Result<(f64, String)> {
        let groups: u64 = if self.info.software { 256 } else { 4096 };
        let invocations = groups * 256;
        let out = self.storage_zeroed("fma out", invocations * 4);
        let ts = self.new_timestamps();
        let mut iters_per_thread = 4u32;
        loop {
            let params = self.uniform(&[iters_per_thread]);
            let d = self.dispatch("fma_peak", &[&out, &params], (groups as u32, 1))?;
            let dispatches = [d];
            let mut best = self.time_dispatches(&dispatches, 1, ts.as_ref())?;
            if best >= 20_000_000 || iters_per_thread >= 1 << 16 {
                for _ in 0..2 {
                    best = best.min(self.time_dispatches(&dispatches, 1, ts.as_ref())?);
                }
                let flops = invocations * iters_per_thread as u64 * 64;
                return Ok((
                    flops as f64 / best as f64,
                    "measured FMA-throughput kernel, best of 3".to_string(),
                ));
            }
            iters_per_thread *= 4;
        }
    }

    /// Bytes of every buffer `w` would need on this backend, named, for the limits check.
    fn buffer_sizes(&self, w: &Workload) -> Vec<(String, u64)> {
        let s = w.dtype.size_bytes();
        let f = 4u64;
        let mut v: Vec<(String, u64)> = Vec::new();
        let mut put = |name: &str, bytes: u64| v.push((name.to_string(), bytes));
        match &w.kernel {
            Kernel::Gemm { m, n, k } => {
                put("A (m x k)", s * m * pad4(*k));
                put("B (k x n)", s * k * pad4(*n));
                put("C (m x n)", s * m * pad4(*n));
            }
            Kernel::Gemv { n, k } => {
                put("W (n x k)", s * n * pad4(*k));
                put("x (k)", s * pad4(*k));
                put("y (n)", s * n);
            }
            Kernel::Softmax { rows, cols } | Kernel::RmsNorm { rows, cols } => {
                put("X (rows x cols)", f * rows * cols);
            }
            Kernel::DecodeAttention(a) => {
                put("K cache", f * a.kv_heads * a.context * a.head_dim);
                put(
                    "partial outputs",
                    f * a.q_heads * a.context.div_ceil(ATTENTION_CHUNK) * a.head_dim,
                );
            }
            Kernel::StreamTriad { n } => put("arrays", f * pad4(*n)),
            Kernel::DecodeStep { model, context } => {
                let h = pad4(model.hidden);
                put("W_qkv", f * model.qkv_width() * h);
                put(
                    "W_o",
                    f * model.hidden * pad4(model.q_heads * model.head_dim),
                );
                put("W_gate", f * model.ffn * h);
                put("W_down", f * model.hidden * pad4(model.ffn));
                put("K cache", f * model.kv_heads * context * model.head_dim);
            }
        }
        v
    }
}

/// A 2-D grid of at least `groups` workgroups, each side at most `max_dim`.
fn grid_2d(groups: u64, max_dim: u32) -> Result<(u32, u32)> {
    let groups = groups.max(1);
    let x = groups.min(max_dim as u64);
    let y = groups.div_ceil(x);
    if y > max_dim as u64 {
        bail!("{groups} workgroups do not fit in a {max_dim} x {max_dim} grid");
    }
    Ok((x as u32, y as u32))
}

fn round_up(v: u64, to: u64) -> u64 {
    v.div_ceil(to) * to
}

/// Row length padded to a multiple of 4 elements.
fn pad4(cols: u64) -> u64 {
    round_up(cols, 4)
}

fn pad_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    v.resize(round_up(bytes.len().max(16) as u64, 16) as usize, 0);
    v
}

/// `rows x cols` row-major data with each row padded to `pad4(cols)` with zeros.
fn pad_rows(data: &[f32], rows: u64, cols: u64) -> Cow<'_, [f32]> {
    let pc = pad4(cols);
    if pc == cols {
        return Cow::Borrowed(data);
    }
    let mut out = vec![0.0f32; (rows * pc) as usize];
    for r in 0..rows as usize {
        let src = &data[r * cols as usize..(r + 1) * cols as usize];
        out[r * pc as usize..r * pc as usize + cols as usize].copy_from_slice(src);
    }
    Cow::Owned(out)
}

/// Bytes of `rows x cols` data, rows padded to a multiple of 4, stored as `dtype`.
fn matrix_bytes(data: &[f32], rows: u64, cols: u64, dtype: Dtype) -> Vec<u8> {
    let padded = pad_rows(data, rows, cols);
    match dtype {
        Dtype::F32 => bytemuck::cast_slice::<f32, u8>(&padded).to_vec(),
        Dtype::F16 => {
            let h: Vec<half::f16> = padded.iter().map(|&x| half::f16::from_f32(x)).collect();
            bytemuck::cast_slice::<half::f16, u8>(&h).to_vec()
        }
    }
}

fn u32_of(v: u64, what: &str) -> Result<u32> {
    u32::try_from(v).with_context(|| format!("{what} = {v} does not fit in 32 bits"))
}

/// A kernel launch recorded once and replayed by the timed loop.
struct Dispatch {
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    groups: (u32, u32),
}

struct Timestamps {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
}

fn encode_pass(
    enc: &mut wgpu::CommandEncoder,
    dispatches: &[Dispatch],
    iters: u64,
    ts: Option<&Timestamps>,
) {
    let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
        label: Some("kernels"),
        timestamp_writes: ts.map(|t| wgpu::ComputePassTimestampWrites {
            query_set: &t.set,
            beginning_of_pass_write_index: Some(0),
            end_of_pass_write_index: Some(1),
        }),
    });
    for _ in 0..iters {
        for d in dispatches {
            pass.set_pipeline(&d.pipeline);
            pass.set_bind_group(0, &d.bind_group, &[]);
            pass.dispatch_workgroups(d.groups.0, d.groups.1, 1);
        }
    }
}

/// How to turn the output buffer back into the reference's f32 layout.
#[derive(Debug, Clone, Copy)]
struct OutputLayout {
    dtype: Dtype,
    rows: u64,
    cols: u64,
    /// Elements per row in the buffer (>= cols).
    stride: u64,
}

impl OutputLayout {
    fn dense(dtype: Dtype, len: u64) -> Self {
        OutputLayout {
            dtype,
            rows: 1,
            cols: len,
            stride: len,
        }
    }

    fn bytes(&self) -> u64 {
        self.rows * self.stride * self.dtype.size_bytes()
    }

    fn decode(&self, raw: &[u8]) -> Vec<f32> {
        let mut out = Vec::with_capacity((self.rows * self.cols) as usize);
        for r in 0..self.rows as usize {
            let start = r * self.stride as usize;
            let end = start + self.cols as usize;
            // Byte-wise: a Vec<u8> carries no alignment guarantee for a cast.
            match self.dtype {
                Dtype::F32 => out.extend(
                    raw[start * 4..end * 4]
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                ),
                Dtype::F16 => out.extend(
                    raw[start * 2..end * 2]
                        .chunks_exact(2)
                        .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()),
                ),
            }
        }
        out
    }
}

/// A workload with its buffers, bind groups and pipelines built.
struct GpuPrepared<'a> {
    gpu: &'a GpuBackend,
    dispatches: Vec<Dispatch>,
    output: wgpu::Buffer,
    layout: OutputLayout,
    timestamps: Option<Timestamps>,
    /// Keeps every buffer alive for as long as the bind groups may be replayed.
    _buffers: Vec<wgpu::Buffer>,
}

impl Prepared for GpuPrepared<'_> {
    fn run_and_read(&mut self) -> Result<Vec<f32>> {
        let gpu = self.gpu;
        let bytes = self.layout.bytes();
        let rb = gpu.readback(bytes);
        let mut enc = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("run") });
        encode_pass(&mut enc, &self.dispatches, 1, None);
        enc.copy_buffer_to_buffer(&self.output, 0, &rb, 0, round_up(bytes, 4));
        gpu.check("encoding the kernel")?;
        gpu.queue.submit([enc.finish()]);
        let raw = gpu.read(&rb, bytes)?;
        Ok(self.layout.decode(&raw))
    }

    fn time(&mut self, iters: u64) -> Result<u64> {
        self.gpu
            .time_dispatches(&self.dispatches, iters, self.timestamps.as_ref())
    }

    fn timer(&self) -> TimerKind {
        if self.timestamps.is_some() {
            TimerKind::GpuTimestamp
        } else {
            TimerKind::Wall
        }
    }
}

/// The GEMM kernel for a shape and its tile (vec4 columns, rows). The 128 x 128 f32 kernel
/// (8 x 8 outputs per invocation) is the faster one once there are enough tiles to fill the
/// GPU; below 256 of them it leaves most compute units idle, and the 64 x 64 kernel is faster.
/// Measured on an H100 (results/h100-*): 4096^3 26.7 vs 23.5 TFLOP/s, 2048^3 26.2 vs 22.4,
/// but 512 x 4096 x 4096 (128 tiles) 18.2 vs 21.4 and 512^3 2.5 vs 6.6.
fn gemm_kernel(m: u64, n: u64, dtype: Dtype) -> (&'static str, u64, u64) {
    match dtype {
        Dtype::F32 if m.div_ceil(128) * n.div_ceil(128) >= 256 => ("gemm_f32_tile128", 32, 128),
        Dtype::F32 => ("gemm_f32_tiled", 16, 64),
        Dtype::F16 => ("gemm_f16_tiled", 16, 64),
    }
}

/// What a prepare step builds before it is wrapped in [`GpuPrepared`].
struct Plan {
    dispatches: Vec<Dispatch>,
    output: wgpu::Buffer,
    layout: OutputLayout,
    buffers: Vec<wgpu::Buffer>,
}

impl GpuBackend {
    fn plan_gemm(&self, m: u64, n: u64, k: u64, dtype: Dtype, inp: &Inputs) -> Result<Plan> {
        let a = self.storage_init("A", &matrix_bytes(&inp.buffers[0], m, k, dtype));
        let b = self.storage_init("B", &matrix_bytes(&inp.buffers[1], k, n, dtype));
        let c = self.storage_zeroed("C", m * pad4(n) * dtype.size_bytes());
        let (k4, n4) = (pad4(k) / 4, pad4(n) / 4);
        let params = self.uniform(&[
            u32_of(m, "m")?,
            u32_of(k, "k")?,
            u32_of(k4, "k/4")?,
            u32_of(n4, "n/4")?,
        ]);
        let (name, tile_n4, tile_m) = gemm_kernel(m, n, dtype);
        let groups = (
            u32_of(n4.div_ceil(tile_n4), "n tiles")?,
            u32_of(m.div_ceil(tile_m), "m tiles")?,
        );
        let d = self.dispatch(name, &[&a, &b, &c, &params], groups)?;
        Ok(Plan {
            dispatches: vec![d],
            layout: OutputLayout {
                dtype,
                rows: m,
                cols: n,
                stride: pad4(n),
            },
            output: c.clone(),
            buffers: vec![a, b, c, params],
        })
    }

    /// GEMV dispatch `y = W x (+ res)`; `k` is the unpadded row length.
    #[allow(clippy::too_many_arguments)]
    fn gemv_dispatch(
        &self,
        dtype: Dtype,
        w: &wgpu::Buffer,
        x: &wgpu::Buffer,
        res: Option<&wgpu::Buffer>,
        y: &wgpu::Buffer,
        n: u64,
        k: u64,
        keep: &mut Vec<wgpu::Buffer>,
    ) -> Result<Dispatch> {
        let name = match (dtype, self.subgroups()) {
            (Dtype::F32, true) => "gemv_f32_subgroup",
            (Dtype::F32, false) => "gemv_f32_shared",
            (Dtype::F16, true) => "gemv_f16_subgroup",
            (Dtype::F16, false) => "gemv_f16_shared",
        };
        let params = self.uniform(&[
            u32_of(n, "n")?,
            u32_of(pad4(k) / 4, "k/4")?,
            res.is_some() as u32,
        ]);
        let dummy;
        let res = match res {
            Some(r) => r,
            None => {
                dummy = self.storage_zeroed("no residual", 16);
                keep.push(dummy.clone());
                &dummy
            }
        };
        let groups = self.grid(n)?;
        let d = self.dispatch(name, &[w, x, res, y, &params], groups)?;
        keep.push(params);
        Ok(d)
    }

    fn plan_gemv(&self, n: u64, k: u64, dtype: Dtype, inp: &Inputs) -> Result<Plan> {
        let w = self.storage_init("W", &matrix_bytes(&inp.buffers[0], n, k, dtype));
        let x = self.storage_init("x", &matrix_bytes(&inp.buffers[1], 1, k, dtype));
        let y = self.storage_zeroed("y", n * dtype.size_bytes());
        let mut keep = vec![w.clone(), x.clone(), y.clone()];
        let d = self.gemv_dispatch(dtype, &w, &x, None, &y, n, k, &mut keep)?;
        Ok(Plan {
            dispatches: vec![d],
            output: y,
            layout: OutputLayout::dense(dtype, n),
            buffers: keep,
        })
    }

    fn rows_dispatch(
        &self,
        kernel: &'static str,
        buffers: &[&wgpu::Buffer],
        rows: u64,
        params: &[u32],
        keep: &mut Vec<wgpu::Buffer>,
    ) -> Result<Dispatch> {
        let p = self.uniform(params);
        let mut all: Vec<&wgpu::Buffer> = buffers.to_vec();
        all.push(&p);
        let groups = self.grid(rows)?;
        let d = self.dispatch(kernel, &all, groups)?;
        keep.push(p);
        Ok(d)
    }

    fn plan_softmax(&self, rows: u64, cols: u64, inp: &Inputs) -> Result<Plan> {
        let x = self.storage_init("X", bytemuck::cast_slice(&inp.buffers[0]));
        let y = self.storage_zeroed("Y", rows * cols * 4);
        let mut keep = vec![x.clone(), y.clone()];
        let params = [u32_of(rows, "rows")?, u32_of(cols, "cols")?];
        let d = self.rows_dispatch("softmax_f32", &[&x, &y], rows, &params, &mut keep)?;
        Ok(Plan {
            dispatches: vec![d],
            output: y,
            layout: OutputLayout::dense(Dtype::F32, rows * cols),
            buffers: keep,
        })
    }

    fn rmsnorm_params(rows: u64, cols: u64) -> Result<[u32; 3]> {
        Ok([
            u32_of(rows, "rows")?,
            u32_of(cols, "cols")?,
            RMSNORM_EPS.to_bits(),
        ])
    }

    fn plan_rmsnorm(&self, rows: u64, cols: u64, inp: &Inputs) -> Result<Plan> {
        let x = self.storage_init("X", bytemuck::cast_slice(&inp.buffers[0]));
        let g = self.storage_init("g", bytemuck::cast_slice(&inp.buffers[1]));
        let y = self.storage_zeroed("Y", rows * cols * 4);
        let mut keep = vec![x.clone(), g.clone(), y.clone()];
        let params = Self::rmsnorm_params(rows, cols)?;
        let d = self.rows_dispatch("rmsnorm_f32", &[&x, &g, &y], rows, &params, &mut keep)?;
        Ok(Plan {
            dispatches: vec![d],
            output: y,
            layout: OutputLayout::dense(Dtype::F32, rows * cols),
            buffers: keep,
        })
    }

    /// The two attention passes reading `q` (first `q_heads * head_dim` floats), the caches,
    /// and writing `out`.
    #[allow(clippy::too_many_arguments)]
    fn attention_dispatches(
        &self,
        q: &wgpu::Buffer,
        k: &wgpu::Buffer,
        v: &wgpu::Buffer,
        out: &wgpu::Buffer,
        context: u64,
        q_heads: u64,
        kv_heads: u64,
        head_dim: u64,
        keep: &mut Vec<wgpu::Buffer>,
    ) -> Result<Vec<Dispatch>> {
        let splits = context.div_ceil(ATTENTION_CHUNK);
        let part_o = self.storage_zeroed("partial o", q_heads * splits * head_dim * 4);
        let part_ml = self.storage_zeroed("partial m, l", q_heads * splits * 8);
        let scale = 1.0 / (head_dim as f32).sqrt();
        let params = self.uniform(&[
            u32_of(context, "context")?,
            u32_of(q_heads, "q_heads")?,
            u32_of(q_heads / kv_heads, "group")?,
            u32_of(head_dim, "head_dim")?,
            u32_of(splits, "splits")?,
            scale.to_bits(),
        ]);
        let d1 = self.dispatch(
            "attention_decode_split",
            &[q, k, v, &part_o, &part_ml, &params],
            (u32_of(splits, "splits")?, u32_of(q_heads, "q_heads")?),
        )?;
        let d2 = self.dispatch(
            "attention_decode_reduce",
            &[&part_o, &part_ml, out, &params],
            (u32_of(q_heads, "q_heads")?, 1),
        )?;
        keep.extend([part_o, part_ml, params]);
        Ok(vec![d1, d2])
    }

    fn plan_attention(&self, a: &crate::workload::AttentionShape, inp: &Inputs) -> Result<Plan> {
        let q = self.storage_init("q", bytemuck::cast_slice(&inp.buffers[0]));
        let k = self.storage_init("K", bytemuck::cast_slice(&inp.buffers[1]));
        let v = self.storage_init("V", bytemuck::cast_slice(&inp.buffers[2]));
        let out = self.storage_zeroed("out", a.q_heads * a.head_dim * 4);
        let mut keep = vec![q.clone(), k.clone(), v.clone(), out.clone()];
        let dispatches = self.attention_dispatches(
            &q, &k, &v, &out, a.context, a.q_heads, a.kv_heads, a.head_dim, &mut keep,
        )?;
        Ok(Plan {
            dispatches,
            output: out,
            layout: OutputLayout::dense(Dtype::F32, a.q_heads * a.head_dim),
            buffers: keep,
        })
    }

    fn plan_triad(&self, n: u64, inp: &Inputs) -> Result<Plan> {
        let b = self.storage_init("b", bytemuck::cast_slice(&inp.buffers[0]));
        let c = self.storage_init("c", bytemuck::cast_slice(&inp.buffers[1]));
        let a = self.storage_zeroed("a", pad4(n) * 4);
        let n4 = pad4(n) / 4;
        let params = self.uniform(&[u32_of(n4, "n/4")?, TRIAD_SCALAR.to_bits()]);
        let groups = self.grid(n4.div_ceil(256))?;
        let d = self.dispatch("stream_triad", &[&b, &c, &a, &params], groups)?;
        Ok(Plan {
            dispatches: vec![d],
            output: a.clone(),
            layout: OutputLayout::dense(Dtype::F32, n),
            buffers: vec![a, b, c, params],
        })
    }

    fn plan_decode_step(
        &self,
        model: &crate::model::ModelShape,
        context: u64,
        inp: &Inputs,
    ) -> Result<Plan> {
        let f32b = |v: &[f32]| -> Vec<u8> { bytemuck::cast_slice::<f32, u8>(v).to_vec() };
        let h = model.hidden;
        let attn_w = model.q_heads * model.head_dim;
        let qkv_w = model.qkv_width();
        let ffn = model.ffn;
        let b = &inp.buffers;
        let x = self.storage_init("x", &matrix_bytes(&b[0], 1, h, Dtype::F32));
        let attn_norm = self.storage_init("attn_norm", &f32b(&b[1]));
        let w_qkv = self.storage_init("W_qkv", &matrix_bytes(&b[2], qkv_w, h, Dtype::F32));
        let k_cache = self.storage_init("K cache", &f32b(&b[3]));
        let v_cache = self.storage_init("V cache", &f32b(&b[4]));
        let w_o = self.storage_init("W_o", &matrix_bytes(&b[5], h, attn_w, Dtype::F32));
        let mlp_norm = self.storage_init("mlp_norm", &f32b(&b[6]));
        let w_gate = self.storage_init("W_gate", &matrix_bytes(&b[7], ffn, h, Dtype::F32));
        let w_up = self.storage_init("W_up", &matrix_bytes(&b[8], ffn, h, Dtype::F32));
        let w_down = self.storage_init("W_down", &matrix_bytes(&b[9], h, ffn, Dtype::F32));

        // Activations: padded to a multiple of 4 and zero-filled, as the GEMVs read vec4s.
        let xn = self.storage_zeroed("xn", pad4(h) * 4);
        let qkv = self.storage_zeroed("qkv", pad4(qkv_w) * 4);
        let attn = self.storage_zeroed("attention out", pad4(attn_w) * 4);
        let h1 = self.storage_zeroed("h1", pad4(h) * 4);
        let hn = self.storage_zeroed("hn", pad4(h) * 4);
        let gate = self.storage_zeroed("gate", pad4(ffn) * 4);
        let up = self.storage_zeroed("up", pad4(ffn) * 4);
        let act = self.storage_zeroed("act", pad4(ffn) * 4);
        let out = self.storage_zeroed("out", pad4(h) * 4);

        let mut keep = vec![
            x.clone(),
            attn_norm.clone(),
            w_qkv.clone(),
            k_cache.clone(),
            v_cache.clone(),
            w_o.clone(),
            mlp_norm.clone(),
            w_gate.clone(),
            w_up.clone(),
            w_down.clone(),
            xn.clone(),
            qkv.clone(),
            attn.clone(),
            h1.clone(),
            hn.clone(),
            gate.clone(),
            up.clone(),
            act.clone(),
            out.clone(),
        ];
        let norm = Self::rmsnorm_params(1, h)?;
        let f = Dtype::F32;
        let mut ds = Vec::new();
        ds.push(self.rows_dispatch("rmsnorm_f32", &[&x, &attn_norm, &xn], 1, &norm, &mut keep)?);
        ds.push(self.gemv_dispatch(f, &w_qkv, &xn, None, &qkv, qkv_w, h, &mut keep)?);
        let kv_params = self.uniform(&[
            u32_of(model.q_heads, "q_heads")?,
            u32_of(model.kv_heads, "kv_heads")?,
            u32_of(model.head_dim, "head_dim")?,
            u32_of(context, "context")?,
        ]);
        let kv_groups = u32_of((model.kv_heads * model.head_dim).div_ceil(64), "kv width")?;
        ds.push(self.dispatch(
            "kv_append",
            &[&qkv, &k_cache, &v_cache, &kv_params],
            (kv_groups, 1),
        )?);
        keep.push(kv_params);
        ds.extend(self.attention_dispatches(
            &qkv,
            &k_cache,
            &v_cache,
            &attn,
            context,
            model.q_heads,
            model.kv_heads,
            model.head_dim,
            &mut keep,
        )?);
        ds.push(self.gemv_dispatch(f, &w_o, &attn, Some(&x), &h1, h, attn_w, &mut keep)?);
        ds.push(self.rows_dispatch("rmsnorm_f32", &[&h1, &mlp_norm, &hn], 1, &norm, &mut keep)?);
        ds.push(self.gemv_dispatch(f, &w_gate, &hn, None, &gate, ffn, h, &mut keep)?);
        ds.push(self.gemv_dispatch(f, &w_up, &hn, None, &up, ffn, h, &mut keep)?);
        let silu = [u32_of(ffn, "ffn")?];
        let silu_groups = ffn.div_ceil(256);
        ds.push(self.rows_dispatch(
            "silu_mul",
            &[&gate, &up, &act],
            silu_groups,
            &silu,
            &mut keep,
        )?);
        ds.push(self.gemv_dispatch(f, &w_down, &act, Some(&h1), &out, h, ffn, &mut keep)?);
        Ok(Plan {
            dispatches: ds,
            output: out,
            layout: OutputLayout::dense(Dtype::F32, h),
            buffers: keep,
        })
    }
}

impl Backend for GpuBackend {
    fn record(&self) -> DeviceRecord {
        let mut sources = Vec::new();
        let peak_gflops = match known_fp32_peak(&self.info.name) {
            Some((g, src)) => {
                sources.push(format!("FP32 peak: {src}"));
                Some(g)
            }
            None => match self.measure_fma_gflops() {
                Ok((g, how)) => {
                    sources.push(format!("FP32 peak: {how}"));
                    Some(g)
                }
                Err(e) => {
                    sources.push(format!("FP32 peak unknown (FMA kernel failed: {e:#})"));
                    None
                }
            },
        };
        let peak_gbps = match self.measure_copy_gbps() {
            Ok((g, how)) => {
                sources.push(format!("bandwidth: {how}"));
                Some(g)
            }
            Err(e) => {
                sources.push(format!("bandwidth unknown (copy kernel failed: {e:#})"));
                None
            }
        };
        if self.info.software {
            sources.push("software adapter: CPU emulation, not GPU performance".to_string());
        }
        DeviceRecord {
            id: format!("gpu{}", self.info.index),
            kind: DeviceKind::Gpu,
            name: self.info.name.clone(),
            backend: self.info.backend.clone(),
            driver: self.info.driver.clone(),
            device_type: Some(self.info.device_type.clone()),
            peak_gflops,
            peak_gbps,
            peak_source: sources.join("; "),
        }
    }

    fn unsupported(&self, w: &Workload) -> Option<String> {
        let name = &self.info.name;
        if w.dtype == Dtype::F16 {
            if !matches!(w.kernel, Kernel::Gemm { .. } | Kernel::Gemv { .. }) {
                return Some(format!(
                    "the GPU backend has f16 kernels for gemm and gemv only, not {}",
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
            Kernel::DecodeStep { model, .. } => {
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
        let max_dim = self.limits.max_compute_workgroups_per_dimension as u64;
        let too_many = match &w.kernel {
            Kernel::Gemm { m, n, .. } => {
                (pad4(*n) / 4).div_ceil(16) > max_dim || m.div_ceil(64) > max_dim
            }
            Kernel::DecodeAttention(a) => {
                a.context.div_ceil(ATTENTION_CHUNK) > max_dim || a.q_heads > max_dim
            }
            Kernel::DecodeStep { model, context } => {
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
        let plan = match &w.kernel {
            Kernel::Gemm { m, n, k } => self.plan_gemm(*m, *n, *k, w.dtype, inputs)?,
            Kernel::Gemv { n, k } => self.plan_gemv(*n, *k, w.dtype, inputs)?,
            Kernel::Softmax { rows, cols } => self.plan_softmax(*rows, *cols, inputs)?,
            Kernel::RmsNorm { rows, cols } => self.plan_rmsnorm(*rows, *cols, inputs)?,
            Kernel::DecodeAttention(a) => self.plan_attention(a, inputs)?,
            Kernel::StreamTriad { n } => self.plan_triad(*n, inputs)?,
            Kernel::DecodeStep { model, context } => {
                self.plan_decode_step(model, *context, inputs)?
            }
        };
        self.check(&format!("preparing {}", w.label()))?;
        let timestamps = self.new_timestamps();
        self.check("creating timestamp queries")?;
        Ok(Box::new(GpuPrepared {
            gpu: self,
            dispatches: plan.dispatches,
            output: plan.output,
            layout: plan.layout,
            timestamps,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_peaks_match_whole_words_only() {
        assert_eq!(
            known_fp32_peak("NVIDIA H100 80GB HBM3").unwrap().0,
            66_900.0
        );
        assert_eq!(known_fp32_peak("NVIDIA H100 PCIe").unwrap().0, 51_200.0);
        assert_eq!(known_fp32_peak("NVIDIA L40S").unwrap().0, 91_600.0);
        assert_eq!(known_fp32_peak("NVIDIA L4").unwrap().0, 30_300.0);
        assert_eq!(known_fp32_peak("NVIDIA A10G").unwrap().0, 31_200.0);
        assert!(known_fp32_peak("llvmpipe (LLVM 19.1.7, 256 bits)").is_none());
        assert!(known_fp32_peak("NVIDIA GeForce RTX 4070").is_none());
    }

    #[test]
    fn grid_covers_every_workgroup_within_limits() {
        assert_eq!(grid_2d(10, 65535).unwrap(), (10, 1));
        let (x, y) = grid_2d(100_000, 65535).unwrap();
        assert!(x as u64 * y as u64 >= 100_000 && x <= 65535 && y <= 65535);
        assert!(grid_2d(65535 * 65535 + 1, 65535).is_err());
    }

    #[test]
    fn padded_rows_keep_values_and_zero_the_tail() {
        let d = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let p = pad_rows(&d, 2, 3);
        assert_eq!(&*p, &[1.0, 2.0, 3.0, 0.0, 4.0, 5.0, 6.0, 0.0]);
        let l = OutputLayout {
            dtype: Dtype::F32,
            rows: 2,
            cols: 3,
            stride: 4,
        };
        assert_eq!(l.decode(bytemuck::cast_slice(&p)), d.to_vec());
    }
}
