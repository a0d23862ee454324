//! What every CPU kernel runs with: the context, the kernel trait, the timed runner, page-phased
//! buffers, rotated copies and the split of work across the pool.

use std::time::Instant;

use anyhow::Result;
use rayon::ThreadPool;
use rayon::prelude::*;

use super::simd::Isa;
use crate::backend::Prepared;

/// What every kernel runs with: the backend's pool and instruction set.
#[derive(Clone, Copy)]
pub(super) struct Ctx<'a> {
    pub(super) pool: &'a ThreadPool,
    pub(super) isa: Isa,
    pub(super) threads: usize,
}

/// One prepared CPU kernel: buffers allocated, ready to run.
pub(super) trait CpuKernel {
    /// Run once, writing the output buffer. Must not allocate.
    fn run(&mut self, ctx: Ctx<'_>);
    /// The output of the last run, as f32.
    fn output(&self) -> Vec<f32>;
    /// Copies of the buffers read in turn ([`Rotation`]).
    fn copies(&self) -> usize {
        1
    }
}

pub(super) struct Runner<'a, K> {
    pub(super) ctx: Ctx<'a>,
    pub(super) kernel: K,
}

impl<K: CpuKernel> Prepared for Runner<'_, K> {
    fn run_and_read(&mut self) -> Result<Vec<f32>> {
        self.kernel.run(self.ctx);
        Ok(self.kernel.output())
    }

    fn time(&mut self, iters: u64) -> Result<u64> {
        let start = Instant::now();
        for _ in 0..iters {
            self.kernel.run(self.ctx);
        }
        Ok(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    fn copies(&self) -> u64 {
        self.kernel.copies() as u64
    }
}

/// An f32 buffer that starts `phase` bytes past a 4 KiB boundary. Arrays a kernel streams
/// together get different phases: when an input and an output start at the same offset within
/// a page (as large allocations do, each its own `mmap`), every load looks to the core as if it
/// may depend on a store 4 KiB away, and waits (4K aliasing). Measured here: softmax at
/// 32x4096 took 80-130 us with input and output both at offset 0x10, 38 us apart.
pub(super) struct Phased {
    pub(super) buf: Vec<f32>,
    pub(super) start: usize,
    pub(super) len: usize,
}

/// Phases for up to three arrays streamed together (STREAM offsets them the same way).
pub(super) const PHASES: [usize; 3] = [0, 1024 + 64, 2048 + 128];

impl Phased {
    pub(super) fn new(src: &[f32], phase: usize) -> Self {
        let len = src.len();
        let mut buf = vec![0.0f32; len + 1024];
        let addr = buf.as_ptr() as usize;
        let start = ((phase % 4096) + 4096 - addr % 4096) % 4096 / std::mem::size_of::<f32>();
        buf[start..start + len].copy_from_slice(src);
        Phased { buf, start, len }
    }

    pub(super) fn zeros(len: usize, phase: usize) -> Self {
        Self::new(&vec![0.0; len], phase)
    }

    pub(super) fn as_slice(&self) -> &[f32] {
        &self.buf[self.start..self.start + self.len]
    }

    pub(super) fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.buf[self.start..self.start + self.len]
    }
}

/// Identical copies of a memory-bound kernel's buffers, read in turn.
pub(super) struct Rotation<T> {
    pub(super) copies: Vec<T>,
    pub(super) next: usize,
}

impl<T: Clone> Rotation<T> {
    pub(super) fn new(first: T, copies: usize) -> Self {
        let mut v = Vec::with_capacity(copies);
        for _ in 1..copies {
            v.push(first.clone());
        }
        v.push(first);
        Rotation { copies: v, next: 0 }
    }

    /// The copy to use for this invocation.
    pub(super) fn advance(&mut self) -> &mut T {
        let i = self.next;
        self.next = (i + 1) % self.copies.len();
        &mut self.copies[i]
    }
}

/// Elements per parallel task when `total` elements (in units of `unit`) are split across
/// `threads` workers: a few tasks per worker for balance, never fewer than `min_units` units.
pub(super) fn task_len(total_units: usize, threads: usize, min_units: usize, unit: usize) -> usize {
    let per_task = total_units.div_ceil(threads * 4).max(min_units).max(1);
    per_task * unit
}

/// Split `out` into chunks of `chunk` elements and run `f(first_index, chunk)` on each, in
/// the pool (or inline when there is only one chunk).
pub(super) fn par_chunks<F>(ctx: Ctx<'_>, out: &mut [f32], chunk: usize, f: F)
where
    F: Fn(usize, &mut [f32]) + Sync + Send,
{
    if out.len() <= chunk || ctx.threads == 1 {
        for (i, c) in out.chunks_mut(chunk.max(1)).enumerate() {
            f(i * chunk, c);
        }
        return;
    }
    ctx.pool.install(|| {
        out.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, c)| f(i * chunk, c));
    });
}
