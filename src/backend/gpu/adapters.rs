//! Adapter enumeration: every adapter wgpu finds, ordered by backend, and what `devices` shows.

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
    /// Cooperative-matrix (tensor core) configurations the adapter lists, as
    /// `MxNxK ab->cr` (e.g. `16x16x16 f16->f32`); empty without
    /// EXPERIMENTAL_COOPERATIVE_MATRIX.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cooperative_matrix: Vec<String>,
    /// Where `run` reads this GPU's clocks while it times a row (`nvidia-smi -i N` on NVIDIA
    /// GPUs), in words; `None` where there is no such source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_source: Option<String>,
}

/// One cooperative-matrix configuration in words: `MxNxK ab->cr`, `sat` when saturating.
pub(super) fn coop_config_name(p: &wgpu::CooperativeMatrixProperties) -> String {
    let ty = |t: wgpu::CooperativeScalarType| match t {
        wgpu::CooperativeScalarType::F16 => "f16",
        wgpu::CooperativeScalarType::F32 => "f32",
        wgpu::CooperativeScalarType::I32 => "i32",
        wgpu::CooperativeScalarType::U32 => "u32",
    };
    format!(
        "{}x{}x{} {}->{}{}",
        p.m_size,
        p.n_size,
        p.k_size,
        ty(p.ab_type),
        ty(p.cr_type),
        if p.saturating_accumulation {
            " sat"
        } else {
            ""
        }
    )
}

pub(super) fn new_instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends =
        wgpu::Backends::VULKAN | wgpu::Backends::METAL | wgpu::Backends::DX12 | wgpu::Backends::GL;
    // WGPU_BACKEND and friends still let a user narrow the search.
    wgpu::Instance::new(desc.with_env())
}

pub(super) fn backend_rank(b: wgpu::Backend) -> u8 {
    match b {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        wgpu::Backend::Gl => 1,
        _ => 2,
    }
}

/// Adapters in a stable order: native APIs before GL, then by name.
pub(super) fn sorted_adapters(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters.retain(|a| backend_rank(a.get_info().backend) < 2);
    adapters.sort_by_key(|a| {
        let i = a.get_info();
        (backend_rank(i.backend), i.backend.to_str(), i.name)
    });
    adapters
}

pub(super) fn device_type_name(t: wgpu::DeviceType) -> &'static str {
    match t {
        wgpu::DeviceType::DiscreteGpu => "discrete",
        wgpu::DeviceType::IntegratedGpu => "integrated",
        wgpu::DeviceType::VirtualGpu => "virtual",
        wgpu::DeviceType::Cpu => "cpu",
        wgpu::DeviceType::Other => "other",
    }
}

/// What `devices` shows about `adapter`, and where its clocks can be read (`nvidia-smi`), found
/// once for both.
pub(super) fn adapter_info(
    index: usize,
    adapter: &wgpu::Adapter,
) -> (AdapterInfo, Option<crate::telemetry::Source>) {
    let info = adapter.get_info();
    let source = crate::telemetry::Source::find(info.vendor, info.device, &info.device_pci_bus_id);
    let features = adapter.features();
    let limits = adapter.limits();
    let mut names = Vec::new();
    for (f, name) in [
        (wgpu::Features::TIMESTAMP_QUERY, "TIMESTAMP_QUERY"),
        (wgpu::Features::SHADER_F16, "SHADER_F16"),
        (wgpu::Features::SUBGROUP, "SUBGROUP"),
        (
            wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX,
            "EXPERIMENTAL_COOPERATIVE_MATRIX",
        ),
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
    let out = AdapterInfo {
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
        cooperative_matrix: if features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX) {
            adapter
                .cooperative_matrix_properties()
                .iter()
                .map(coop_config_name)
                .collect()
        } else {
            Vec::new()
        },
        state_source: source.as_ref().map(|s| s.describe()),
    };
    (out, source)
}

/// Every adapter wgpu finds, in a stable order. Never fails: no GPU means an empty list.
pub fn enumerate() -> Vec<AdapterInfo> {
    // A broken driver may panic inside enumeration; that must not take the CLI down.
    std::panic::catch_unwind(|| {
        let instance = new_instance();
        sorted_adapters(&instance)
            .iter()
            .enumerate()
            .map(|(i, a)| adapter_info(i, a).0)
            .collect()
    })
    .unwrap_or_default()
}
