//! Probes: device bandwidth from the copy kernel, FLOP/s from the FMA kernel, and the time of
//! one dependent dispatch from a chain of near-empty ones.

use anyhow::{Result, bail};

use super::GpuBackend;

/// Dispatches in the chain [`GpuBackend::measure_dispatch_ns`] times.
pub const DISPATCH_CHAIN: u64 = 256;

impl GpuBackend {
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
        let got = self.run_untimed(&dispatches, 1, &dst, bytes)?;
        if got != bytemuck::cast_slice::<u32, u8>(&src_data) {
            bail!("the bandwidth copy kernel produced wrong data");
        }

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

    /// Nanoseconds one dependent dispatch takes: a chain of [`DISPATCH_CHAIN`] dispatches of a
    /// kernel that adds 1 to a counter (each waits for the one before it, as a decode step's
    /// kernels do), in one compute pass, best of 3, over their number. The counter is checked
    /// first: a chain that ran out of order would count short.
    pub fn measure_dispatch_ns(&self) -> Result<(f64, String)> {
        let counter = self.storage_zeroed("dispatch counter", 16);
        let d = self.dispatch("dispatch_chain", &[&counter], (1, 1))?;
        let dispatches = [d];
        let raw = self.run_untimed(&dispatches, DISPATCH_CHAIN, &counter, 4)?;
        let got = u32::from_le_bytes(raw[..4].try_into()?);
        if u64::from(got) != DISPATCH_CHAIN {
            bail!(
                "the dispatch-chain kernel counted {got} of {DISPATCH_CHAIN} dependent dispatches: they did not run one after another"
            );
        }
        let ts = self.new_timestamps();
        self.time_dispatches(&dispatches, DISPATCH_CHAIN, ts.as_ref())?;
        let mut best = u64::MAX;
        for _ in 0..3 {
            best = best.min(self.time_dispatches(&dispatches, DISPATCH_CHAIN, ts.as_ref())?);
        }
        let timer = if ts.is_some() {
            "GPU timestamps"
        } else {
            "wall clock, submission and wait included"
        };
        Ok((
            best as f64 / DISPATCH_CHAIN as f64,
            format!(
                "measured: {DISPATCH_CHAIN} dependent dispatches of a one-workgroup kernel in one compute pass, best of 3, {timer}"
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
}
