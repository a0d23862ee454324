//! CPU backend: GEMM through the `gemm` crate (runtime SIMD dispatch), the other kernels
//! hand-written, vectorisable and threaded across `threads` workers.

use anyhow::{Result, bail};

use super::{Backend, Prepared};
use crate::reference::Inputs;
use crate::results::{DeviceKind, DeviceRecord};
use crate::workload::{Dtype, Workload};

/// The host CPU as a backend.
pub struct CpuBackend {
    threads: usize,
    cpu_model: String,
}

impl CpuBackend {
    /// A CPU backend using `threads` worker threads (at least 1).
    pub fn new(threads: usize, cpu_model: String) -> Result<Self> {
        if threads == 0 {
            bail!("--threads must be at least 1");
        }
        Ok(CpuBackend { threads, cpu_model })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }
}

/// SIMD instruction-set extensions detected at run time (e.g. `avx2`, `fma`, `avx512f`).
pub fn simd_features() -> Vec<&'static str> {
    Vec::new()
}

/// Estimated peak f32 GFLOP/s for `threads` threads and how it was estimated, in words.
pub fn estimated_peak_gflops(threads: usize) -> (Option<f64>, String) {
    let _ = threads;
    (None, "not estimated".into())
}

impl Backend for CpuBackend {
    fn record(&self) -> DeviceRecord {
        let (peak, how) = estimated_peak_gflops(self.threads);
        DeviceRecord {
            id: "cpu".into(),
            kind: DeviceKind::Cpu,
            name: self.cpu_model.clone(),
            backend: "native".into(),
            driver: format!("{} threads", self.threads),
            device_type: Some("cpu".into()),
            peak_gflops: peak,
            peak_gbps: None,
            peak_source: how,
        }
    }

    fn unsupported(&self, w: &Workload) -> Option<String> {
        (w.dtype != Dtype::F32).then(|| format!("the CPU backend runs f32 only, not {}", w.dtype))
    }

    fn prepare<'a>(&'a mut self, w: &Workload, inputs: &Inputs) -> Result<Box<dyn Prepared + 'a>> {
        let _ = inputs;
        bail!("CPU kernel for {} is not implemented yet", w.kernel_name())
    }
}
