//! Row-wise kernels: softmax and RMSNorm over the rows of a matrix, in f32 or f16 storage.

use half::{f16, slice::HalfFloatSliceExt};
use rayon::prelude::*;

use super::elem::widen_f16;
use super::exec::{CpuKernel, Ctx, PHASES, Phased, par_chunks, task_len};
use super::math::{exp_shifted_sum_into, max_of, rmsnorm_row};

multiversion! {
    /// Numerically stable softmax of each `cols`-wide row of `x` into `y`.
    pub(super) fn softmax_rows<M>(mc, x: &[f32], y: &mut [f32], cols: usize) {
        for (x, y) in x.chunks_exact(cols).zip(y.chunks_exact_mut(cols)) {
            let m = max_of(x);
            let inv = 1.0 / exp_shifted_sum_into(mc, x, y, m);
            for v in y.iter_mut() {
                *v *= inv;
            }
        }
    }
}

multiversion! {
    /// RMSNorm of each `g.len()`-wide row of `x` into `y`.
    pub(super) fn rmsnorm_rows<M>(mc, x: &[f32], g: &[f32], y: &mut [f32]) {
        let cols = g.len();
        for (x, y) in x.chunks_exact(cols).zip(y.chunks_exact_mut(cols)) {
            rmsnorm_row(mc, x, g, y);
        }
    }
}

/// What a [`RowwiseKernel`] does to each row.
pub(super) enum RowOp {
    Softmax,
    /// RMSNorm with this gain.
    RmsNorm(Vec<f32>),
}

/// Softmax or RMSNorm over each row of `[rows, cols]`, blocks of rows split across the pool.
pub(super) struct RowwiseKernel {
    pub(super) op: RowOp,
    pub(super) x: Phased,
    pub(super) y: Phased,
    pub(super) rows: usize,
    pub(super) cols: usize,
}

impl RowwiseKernel {
    pub(super) fn new(op: RowOp, x: &[f32], rows: usize, cols: usize) -> Self {
        RowwiseKernel {
            op,
            x: Phased::new(x, PHASES[0]),
            y: Phased::zeros(rows * cols, PHASES[1]),
            rows,
            cols,
        }
    }
}

impl CpuKernel for RowwiseKernel {
    fn run(&mut self, ctx: Ctx<'_>) {
        let (op, x, cols) = (&self.op, self.x.as_slice(), self.cols);
        let chunk = task_len(self.rows, ctx.threads, 1, cols);
        par_chunks(ctx, self.y.as_mut_slice(), chunk, |i0, y| {
            let x = &x[i0..i0 + y.len()];
            match op {
                RowOp::Softmax => softmax_rows(ctx.isa, x, y, cols),
                RowOp::RmsNorm(g) => rmsnorm_rows(ctx.isa, x, g, y),
            }
        });
    }

    fn output(&self) -> Vec<f32> {
        self.y.as_slice().to_vec()
    }
}

/// Softmax or RMSNorm over each row of `[rows, cols]` stored as f16: each row is widened to
/// f32, computed as [`RowwiseKernel`] does (f32 arithmetic) and rounded to f16 once when
/// stored. The RMSNorm gain stays f32 (one row). Blocks of rows split across the pool.
pub(super) struct RowwiseF16Kernel {
    op: RowOp,
    x: Vec<f16>,
    y: Vec<f16>,
    rows: usize,
    cols: usize,
}

impl RowwiseF16Kernel {
    pub(super) fn new(op: RowOp, x: &[f32], rows: usize, cols: usize) -> Self {
        RowwiseF16Kernel {
            op,
            x: x.iter().map(|&v| f16::from_f32(v)).collect(),
            y: vec![f16::ZERO; rows * cols],
            rows,
            cols,
        }
    }
}

impl CpuKernel for RowwiseF16Kernel {
    fn run(&mut self, ctx: Ctx<'_>) {
        let (op, x, cols) = (&self.op, &self.x[..], self.cols);
        let chunk = task_len(self.rows, ctx.threads, 1, cols).max(1);
        let rows = |(task, y): (usize, &mut [f16])| {
            let (mut xs, mut ys) = (vec![0.0f32; cols], vec![0.0f32; cols]);
            for (r, y) in y.chunks_exact_mut(cols).enumerate() {
                let start = task * chunk + r * cols;
                widen_f16(ctx.isa, &x[start..start + cols], &mut xs);
                match op {
                    RowOp::Softmax => softmax_rows(ctx.isa, &xs, &mut ys, cols),
                    RowOp::RmsNorm(g) => rmsnorm_rows(ctx.isa, &xs, g, &mut ys),
                }
                y.convert_from_f32_slice(&ys);
            }
        };
        if self.y.len() <= chunk || ctx.threads == 1 {
            self.y.chunks_mut(chunk).enumerate().for_each(rows);
        } else {
            let y = &mut self.y;
            ctx.pool
                .install(|| y.par_chunks_mut(chunk).enumerate().for_each(rows));
        }
    }

    fn output(&self) -> Vec<f32> {
        self.y.iter().map(|v| v.to_f32()).collect()
    }
}
