//! Timing: recorded dispatches replayed in one pass, GPU timestamps or wall clock, and the
//! prepared workload the run loop times.

use std::time::Instant;

use anyhow::{Result, bail};

use super::GpuBackend;
use super::layout::{OutputLayout, round_up};
use crate::backend::Prepared;
use crate::results::TimerKind;

impl GpuBackend {
    /// Run `iters` repetitions of `dispatches` in one compute pass, untimed, and read back the
    /// first `bytes` of `out` (to verify what they computed).
    pub(super) fn run_untimed(
        &self,
        dispatches: &[Dispatch],
        iters: u64,
        out: &wgpu::Buffer,
        bytes: u64,
    ) -> Result<Vec<u8>> {
        let rb = self.readback(bytes);
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("run") });
        encode_pass(&mut enc, dispatches, iters, None);
        enc.copy_buffer_to_buffer(out, 0, &rb, 0, round_up(bytes, 4));
        self.check("encoding the kernel")?;
        self.queue.submit([enc.finish()]);
        self.read(&rb, bytes)
    }

    /// Run `iters` repetitions of `dispatches` in one compute pass and return the elapsed
    /// nanoseconds: between the pass's GPU timestamps when `ts` is given, else wall clock
    /// around submit-and-wait.
    pub(super) fn time_dispatches(
        &self,
        dispatches: &[Dispatch],
        iters: u64,
        ts: Option<&Timestamps>,
    ) -> Result<u64> {
        self.time_rotated(std::slice::from_ref(&dispatches), 0, iters, ts)
    }

    /// [`Self::time_dispatches`] over rotated copies: invocation `i` runs
    /// `sets[(first + i) % sets.len()]`.
    pub(super) fn time_rotated<D: AsRef<[Dispatch]>>(
        &self,
        sets: &[D],
        first: usize,
        iters: u64,
        ts: Option<&Timestamps>,
    ) -> Result<u64> {
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("timed"),
            });
        encode_rotated(&mut enc, sets, first, iters, ts);
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
}

/// A kernel launch recorded once and replayed by the timed loop.
pub(super) struct Dispatch {
    /// The kernel file's stem, for the row's `kernel_variant`.
    pub(super) kernel: &'static str,
    pub(super) pipeline: wgpu::ComputePipeline,
    pub(super) bind_group: wgpu::BindGroup,
    pub(super) groups: (u32, u32),
}

pub(super) struct Timestamps {
    pub(super) set: wgpu::QuerySet,
    pub(super) resolve: wgpu::Buffer,
    pub(super) readback: wgpu::Buffer,
}

pub(super) fn encode_pass(
    enc: &mut wgpu::CommandEncoder,
    dispatches: &[Dispatch],
    iters: u64,
    ts: Option<&Timestamps>,
) {
    encode_rotated(enc, std::slice::from_ref(&dispatches), 0, iters, ts);
}

/// `iters` invocations in one compute pass, invocation `i` running `sets[(first + i) % len]`.
pub(super) fn encode_rotated<D: AsRef<[Dispatch]>>(
    enc: &mut wgpu::CommandEncoder,
    sets: &[D],
    first: usize,
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
    for i in 0..iters as usize {
        for d in sets[(first + i) % sets.len()].as_ref() {
            pass.set_pipeline(&d.pipeline);
            pass.set_bind_group(0, &d.bind_group, &[]);
            pass.dispatch_workgroups(d.groups.0, d.groups.1, 1);
        }
    }
}

/// A workload with its buffers, bind groups and pipelines built.
pub(super) struct GpuPrepared<'a> {
    pub(super) gpu: &'a GpuBackend,
    /// One dispatch list per copy of the weights (one list when not rotated).
    pub(super) sets: Vec<Vec<Dispatch>>,
    /// The copy the next invocation reads.
    pub(super) next: usize,
    pub(super) output: wgpu::Buffer,
    pub(super) layout: OutputLayout,
    pub(super) timestamps: Option<Timestamps>,
    /// The kernels the dispatches run, `+`-joined in order (the row's `kernel_variant`).
    pub(super) variant: String,
    /// Why a slower kernel ran (e.g. the tiled f16 GEMM where there are no cooperative
    /// matrices), for the row's note.
    pub(super) note: Option<String>,
    /// Keeps every buffer alive for as long as the bind groups may be replayed.
    pub(super) _buffers: Vec<wgpu::Buffer>,
}

impl Prepared for GpuPrepared<'_> {
    fn run_and_read(&mut self) -> Result<Vec<f32>> {
        let bytes = self.layout.bytes();
        let raw = self
            .gpu
            .run_untimed(&self.sets[0], 1, &self.output, bytes)?;
        Ok(self.layout.decode(&raw))
    }

    fn time(&mut self, iters: u64) -> Result<u64> {
        let ns = self
            .gpu
            .time_rotated(&self.sets, self.next, iters, self.timestamps.as_ref())?;
        self.next = (self.next + iters as usize) % self.sets.len();
        Ok(ns)
    }

    fn copies(&self) -> u64 {
        self.sets.len() as u64
    }

    fn variant(&self) -> Option<String> {
        Some(self.variant.clone())
    }

    fn note(&self) -> Option<String> {
        self.note.clone()
    }

    fn dispatches(&self) -> Option<u64> {
        self.sets.first().map(|s| s.len() as u64)
    }

    fn timer(&self) -> TimerKind {
        if self.timestamps.is_some() {
            TimerKind::GpuTimestamp
        } else {
            TimerKind::Wall
        }
    }
}
