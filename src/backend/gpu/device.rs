//! Opening a device and the helpers every plan uses: pipelines, buffers, dispatch, readback,
//! error checks and the buffer sizes a workload needs.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow, bail};
use wgpu::util::DeviceExt;

use super::adapters::{AdapterInfo, adapter_info, new_instance, sorted_adapters};
use super::layout::{grid_2d, pad_bytes, pad4, round_up};
use super::timing::{Dispatch, Timestamps};

/// A byte range of a buffer, bound as one storage binding.
#[derive(Clone, Copy)]
pub(super) struct Part<'a> {
    pub(super) buffer: &'a wgpu::Buffer,
    pub(super) offset: u64,
    pub(super) size: u64,
}

/// What a kernel binding gets: a whole buffer or a range of one (sub-allocated weights).
#[derive(Clone, Copy)]
pub(super) enum Bind<'a> {
    Whole(&'a wgpu::Buffer),
    Part(Part<'a>),
}

impl<'a> From<&'a wgpu::Buffer> for Bind<'a> {
    fn from(b: &'a wgpu::Buffer) -> Self {
        Bind::Whole(b)
    }
}

impl<'a> From<Part<'a>> for Bind<'a> {
    fn from(p: Part<'a>) -> Self {
        Bind::Part(p)
    }
}
use super::{ATTENTION_CHUNK, GpuBackend, KERNELS};
use crate::workload::{Kernel, Workload};

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
        let (info, state_source) = adapter_info(index, &adapter);
        let mut wanted =
            wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::SHADER_F16 | wgpu::Features::SUBGROUP;
        if std::env::var("ACCELBENCH_NO_COOP").as_deref() != Ok("1") {
            wanted |= wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX;
        }
        let features = adapter.features() & wanted;
        let limits = adapter.limits();
        let coop = features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX);
        let experimental_features = if coop {
            // SAFETY: wgpu marks cooperative matrices experimental: a bug in its implementation
            // could misbehave from safe code. Only the gemm_f16_coop_* kernels use them, on a configuration
            // the adapter lists, and its output is checked against the reference before it is
            // timed; ACCELBENCH_NO_COOP=1 leaves the feature off.
            unsafe { wgpu::ExperimentalFeatures::enabled() }
        } else {
            wgpu::ExperimentalFeatures::disabled()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("accelbench"),
            required_features: features,
            required_limits: limits.clone(),
            experimental_features,
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
            attention_gqa: super::choices::env_attention_gqa(),
            coop_variant: None,
            gemm_f32: None,
            coop_emulation: false,
            state_source,
            decode_fused: super::choices::env_decode_fused(),
            shader_checks: std::env::var("ACCELBENCH_SHADER_CHECKS").as_deref() != Ok("off"),
            workgroup_poison: false,
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

    /// Run f16 decode attention (also inside the decode step and the whole model) through
    /// attention_decode_split_f16_gqa, one workgroup per KV head, where head_dim is a multiple
    /// of 4 and a KV head serves at most 8 query heads; the default is `ACCELBENCH_ATTENTION=gqa`.
    pub fn set_attention_gqa(&mut self, on: bool) {
        self.attention_gqa = on;
    }

    /// Run f16 GEMMs through the cooperative-matrix GEMM `variant` (a name in
    /// [`super::COOP_GEMMS`]) where the adapter has cooperative matrices, as
    /// `ACCELBENCH_GEMM_F16=<variant>` does for the whole process; `None` restores that choice.
    pub fn set_coop_variant(&mut self, variant: Option<&str>) -> Result<()> {
        self.coop_variant = match variant {
            None => None,
            Some(name) => Some(
                super::coop_variant(name)
                    .with_context(|| format!("no cooperative-matrix GEMM named '{name}'"))?,
            ),
        };
        self.coop_emulation = false;
        self.pipelines.borrow_mut().clear();
        Ok(())
    }

    /// Test only: run f16 GEMMs through the cooperative-matrix GEMM `variant` with its
    /// cooperative-matrix operations emulated in plain WGSL ([`super::emulate_coop`]), on any
    /// adapter with SHADER_F16; `None` restores the normal choice. This checks a kernel's
    /// indexing on an adapter without cooperative matrices (lavapipe), never its speed; rows
    /// say so in their note.
    #[doc(hidden)]
    pub fn set_coop_emulation(&mut self, variant: Option<&str>) -> Result<()> {
        self.set_coop_variant(variant)?;
        self.coop_emulation = variant.is_some();
        Ok(())
    }

    /// Run the decode layer (decode_step, and every layer of decode_token) as 7 dispatches:
    /// gemv_norm_* (RMSNorm + QKV GEMV), kv_append, the two attention passes, GEMV(O) +
    /// residual, gemv_gate_up_silu_* (RMSNorm + gate and up GEMVs + SiLU) and GEMV(down) +
    /// residual; decode_token's final norm and LM head become one gemv_norm_* too. The default
    /// is `ACCELBENCH_DECODE=fused`, else the 11-dispatch layer.
    pub fn set_decode_fused(&mut self, on: bool) {
        self.decode_fused = on;
    }

    /// Compile kernels with wgpu's shader runtime checks and workgroup-memory zero-fill (the
    /// default), or without them (`false`, as `ACCELBENCH_SHADER_CHECKS=off`): no clamp on
    /// each index into a workgroup or local array, no counter in every loop, no guard on
    /// integer division, workgroup memory not zeroed at the start of each workgroup. Every
    /// kernel here bounds-checks its own buffer accesses and writes workgroup memory before
    /// reading it (tests check that with [`Self::set_workgroup_poison`]); storage buffers stay
    /// under the driver's robust buffer access either way. Rows say when checks were off.
    pub fn set_shader_checks(&mut self, on: bool) {
        self.shader_checks = on;
        self.pipelines.borrow_mut().clear();
    }

    /// Whether kernels are compiled with wgpu's shader runtime checks ([`Self::set_shader_checks`]).
    pub fn shader_checks(&self) -> bool {
        self.shader_checks
    }

    /// Test only: every kernel fills its workgroup memory with a poison value before its own
    /// code runs ([`super::poison_workgroup`]), so that with shader checks off a kernel reading
    /// memory it did not write fails verification.
    #[doc(hidden)]
    pub fn set_workgroup_poison(&mut self, on: bool) {
        self.workgroup_poison = on;
        self.pipelines.borrow_mut().clear();
    }

    /// Time with GPU timestamp queries where the adapter has TIMESTAMP_QUERY (the default), or
    /// with the wall clock per submit (`false`).
    pub fn set_use_timestamps(&mut self, on: bool) {
        self.use_timestamps = on;
    }

    pub(super) fn subgroups(&self) -> bool {
        self.use_subgroups && self.features.contains(wgpu::Features::SUBGROUP)
    }

    pub(super) fn timestamps(&self) -> bool {
        self.use_timestamps && self.features.contains(wgpu::Features::TIMESTAMP_QUERY)
    }

    /// Turn errors collected since the last check into an `Err`.
    pub(super) fn check(&self, what: &str) -> Result<()> {
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
    pub(super) fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| anyhow!("waiting for the GPU failed on '{}': {e}", self.info.name))?;
        self.check("GPU work")
    }

    pub(super) fn pipeline(&self, name: &'static str) -> Result<wgpu::ComputePipeline> {
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
        let mut source = if src.needs_coop && self.coop_emulation {
            Cow::Owned(super::emulate_coop(src.source)?)
        } else {
            Cow::Borrowed(src.source)
        };
        if self.workgroup_poison {
            source = Cow::Owned(super::poison_workgroup(&source)?);
        }
        if src.needs_coop
            && !self.coop_emulation
            && !self
                .features
                .contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX)
        {
            bail!("kernel '{name}' needs EXPERIMENTAL_COOPERATIVE_MATRIX");
        }
        let desc = wgpu::ShaderModuleDescriptor {
            label: Some(name),
            source: wgpu::ShaderSource::Wgsl(source),
        };
        let module = if self.shader_checks {
            self.device.create_shader_module(desc)
        } else {
            // SAFETY: the kernels in kernels/ index workgroup and local arrays only within
            // their declared lengths, bound-check every buffer access against the sizes in
            // their parameters, loop a bounded number of times and never divide by zero; each
            // is verified against the reference before it is timed, and the tests run them all
            // with workgroup memory poisoned (`set_workgroup_poison`).
            unsafe {
                self.device
                    .create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked())
            }
        };
        self.check(&format!("compiling kernels/{name}.wgsl"))?;
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(name),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: wgpu::PipelineCompilationOptions {
                    zero_initialize_workgroup_memory: self.shader_checks,
                    ..Default::default()
                },
                cache: None,
            });
        self.check(&format!("building the pipeline for kernels/{name}.wgsl"))?;
        self.pipelines.borrow_mut().insert(name, pipeline.clone());
        Ok(pipeline)
    }

    /// One storage buffer holding `parts` one after the other, each starting at a multiple of
    /// the adapter's storage-binding offset alignment; the ranges to bind them.
    pub(super) fn storage_packed(
        &self,
        label: &str,
        parts: &[&[u8]],
    ) -> (wgpu::Buffer, Vec<(u64, u64)>) {
        let align = (self.limits.min_storage_buffer_offset_alignment as u64).max(16);
        let mut ranges = Vec::with_capacity(parts.len());
        let mut end = 0u64;
        for p in parts {
            let offset = round_up(end, align);
            let size = round_up((p.len() as u64).max(16), 16);
            ranges.push((offset, size));
            end = offset + size;
        }
        let mut bytes = vec![0u8; end as usize];
        for (p, &(offset, _)) in parts.iter().zip(&ranges) {
            bytes[offset as usize..offset as usize + p.len()].copy_from_slice(p);
        }
        (self.storage_init(label, &bytes), ranges)
    }

    pub(super) fn storage_init(&self, label: &str, bytes: &[u8]) -> wgpu::Buffer {
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
    pub(super) fn storage_zeroed(&self, label: &str, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: round_up(bytes.max(16), 16),
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    pub(super) fn uniform(&self, words: &[u32]) -> wgpu::Buffer {
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

    pub(super) fn readback(&self, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: round_up(bytes.max(16), 16),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    pub(super) fn dispatch(
        &self,
        kernel: &'static str,
        buffers: &[&wgpu::Buffer],
        groups: (u32, u32),
    ) -> Result<Dispatch> {
        let binds: Vec<Bind<'_>> = buffers.iter().map(|&b| Bind::from(b)).collect();
        self.dispatch_bound(kernel, &binds, groups)
    }

    /// [`Self::dispatch`] with whole buffers or ranges of one ([`Bind`]).
    pub(super) fn dispatch_bound(
        &self,
        kernel: &'static str,
        buffers: &[Bind<'_>],
        groups: (u32, u32),
    ) -> Result<Dispatch> {
        let pipeline = self.pipeline(kernel)?;
        let layout = pipeline.get_bind_group_layout(0);
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: match *b {
                    Bind::Whole(b) => b.as_entire_binding(),
                    Bind::Part(p) => wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: p.buffer,
                        offset: p.offset,
                        size: wgpu::BufferSize::new(p.size),
                    }),
                },
            })
            .collect();
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(kernel),
            layout: &layout,
            entries: &entries,
        });
        self.check(&format!("binding buffers for kernels/{kernel}.wgsl"))?;
        Ok(Dispatch {
            kernel,
            pipeline,
            bind_group,
            groups,
        })
    }

    /// A 2-D grid covering `groups` workgroups (kernels rebuild the linear index from
    /// `workgroup_id` and `num_workgroups`).
    pub(super) fn grid(&self, groups: u64) -> Result<(u32, u32)> {
        grid_2d(groups, self.limits.max_compute_workgroups_per_dimension)
    }

    pub(super) fn new_timestamps(&self) -> Option<Timestamps> {
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
    pub(super) fn read(&self, buf: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
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
}

impl GpuBackend {
    /// Bytes of every buffer `w` would need on this backend, named, for the limits check.
    pub(super) fn buffer_sizes(&self, w: &Workload) -> Vec<(String, u64)> {
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
            Kernel::DecodeToken { model, context } => {
                let h = pad4(model.hidden);
                put("LM head", f * model.vocab * h);
                put("W_qkv", f * model.qkv_width() * h);
                put("W_gate", f * model.ffn * h);
                put("W_down", f * model.hidden * pad4(model.ffn));
                put("K cache", f * model.kv_heads * context * model.head_dim);
            }
        }
        v
    }
}
