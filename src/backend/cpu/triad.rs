//! The STREAM triad `a = b + s * c`, the CPU's bandwidth probe.

use super::exec::{CpuKernel, Ctx, PHASES, Phased, par_chunks, task_len};
use crate::reference::TRIAD_SCALAR;

multiversion! {
    /// `a = b + s * c`.
    pub(super) fn triad<M>(mc, a: &mut [f32], b: &[f32], c: &[f32], s: f32) {
        for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
            *a = mc.madd(s, *c, *b);
        }
    }
}

pub(super) struct TriadKernel {
    pub(super) a: Phased,
    pub(super) b: Phased,
    pub(super) c: Phased,
}

impl TriadKernel {
    pub(super) fn new(bufs: &[Vec<f32>]) -> Self {
        TriadKernel {
            a: Phased::zeros(bufs[0].len(), PHASES[0]),
            b: Phased::new(&bufs[0], PHASES[1]),
            c: Phased::new(&bufs[1], PHASES[2]),
        }
    }
}

impl CpuKernel for TriadKernel {
    fn run(&mut self, ctx: Ctx<'_>) {
        let (b, c) = (self.b.as_slice(), self.c.as_slice());
        let a = self.a.as_mut_slice();
        // Whole 4 KiB pages per task.
        let chunk = task_len(a.len().div_ceil(1024), ctx.threads, 1, 1024);
        par_chunks(ctx, a, chunk, |i0, a| {
            let r = i0..i0 + a.len();
            triad(ctx.isa, a, &b[r.clone()], &c[r], TRIAD_SCALAR);
        });
    }

    fn output(&self) -> Vec<f32> {
        self.a.as_slice().to_vec()
    }
}
