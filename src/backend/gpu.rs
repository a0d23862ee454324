//! GPU backend: every adapter wgpu finds (Vulkan, Metal, DX12, GL). The only module that
//! imports wgpu. Kernels come from `kernels/*.wgsl`.

use anyhow::{Result, bail};

use super::{Backend, Prepared};
use crate::reference::Inputs;
use crate::results::DeviceRecord;
use crate::workload::Workload;

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
    /// A CPU-backed adapter (lavapipe, llvmpipe, WARP): its timings are not GPU performance.
    pub software: bool,
}

/// Every adapter wgpu finds, in a stable order. Never fails: no GPU means an empty list.
pub fn enumerate() -> Vec<AdapterInfo> {
    Vec::new()
}

/// One wgpu adapter and device, opened for measuring.
pub struct GpuBackend {
    info: AdapterInfo,
}

impl GpuBackend {
    /// Open the adapter at `index` in [`enumerate`]'s order.
    pub fn open(index: usize) -> Result<Self> {
        bail!("GPU backend is not implemented yet (adapter {index})")
    }

    pub fn info(&self) -> &AdapterInfo {
        &self.info
    }
}

impl Backend for GpuBackend {
    fn record(&self) -> DeviceRecord {
        unimplemented!()
    }

    fn unsupported(&self, w: &Workload) -> Option<String> {
        Some(format!(
            "{} is not implemented on the GPU yet",
            w.kernel_name()
        ))
    }

    fn prepare<'a>(&'a mut self, w: &Workload, inputs: &Inputs) -> Result<Box<dyn Prepared + 'a>> {
        let _ = inputs;
        bail!("GPU kernel for {} is not implemented yet", w.kernel_name())
    }
}
