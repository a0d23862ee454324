//! Decode GEMV and the FFN gate/up product: multiversioned row bodies and the GEMV kernel.

use half::f16;

use super::detect::copies_to_defeat_cache;
use super::elem::{Elem, to_elem};
use super::exec::{CpuKernel, Ctx, Rotation, par_chunks, task_len};
use super::math::{dot4_mixed, silu};
use super::simd::{Isa, Madd};

/// `y[i] = W[i] . x (+ residual[i])` for the rows of `y`, four rows at a time: four weight
/// streams in flight keep more memory requests outstanding than one. The last one to three rows
/// are padded with repeats of the last row and their sums dropped.
#[inline(always)]
pub(super) fn gemv_body<M: Madd, T: Elem>(
    mc: M,
    w: &[T],
    x: &[f32],
    residual: Option<&[f32]>,
    y: &mut [f32],
) {
    let k = x.len();
    let n = y.len();
    for b in 0..n.div_ceil(4) {
        let row = |r: usize| {
            let i = (4 * b + r).min(n - 1);
            &w[i * k..(i + 1) * k]
        };
        let d = dot4_mixed::<M, T, f32>(mc, [row(0), row(1), row(2), row(3)], x);
        for (r, d) in d.into_iter().enumerate().take(n - 4 * b) {
            y[4 * b + r] = d + residual.map_or(0.0, |res| res[4 * b + r]);
        }
    }
}

/// `act[i] = silu(W_gate[i] . x) * (W_up[i] . x)` for the rows of `act`, two rows (four weight
/// streams) at a time, a last odd row paired with itself and its repeat dropped.
#[inline(always)]
pub(super) fn gate_up_body<M: Madd, T: Elem>(
    mc: M,
    w_gate: &[T],
    w_up: &[T],
    x: &[f32],
    act: &mut [f32],
) {
    let k = x.len();
    let n = act.len();
    for p in 0..n.div_ceil(2) {
        let rows = |r: usize| {
            let i = (2 * p + r).min(n - 1);
            i * k..(i + 1) * k
        };
        let d = dot4_mixed::<M, T, f32>(
            mc,
            [
                &w_gate[rows(0)],
                &w_gate[rows(1)],
                &w_up[rows(0)],
                &w_up[rows(1)],
            ],
            x,
        );
        act[2 * p] = silu(d[0]) * d[2];
        if 2 * p + 1 < n {
            act[2 * p + 1] = silu(d[1]) * d[3];
        }
    }
}

multiversion! {
    /// [`gemv_body`] with f32 weights.
    pub(super) fn gemv_rows<M>(mc, w: &[f32], x: &[f32], residual: Option<&[f32]>, y: &mut [f32]) {
        gemv_body::<M, f32>(mc, w, x, residual, y)
    }
}

multiversion! {
    /// [`gemv_body`] with f16 weights.
    pub(super) fn gemv_rows_f16<M>(
        mc,
        w: &[f16],
        x: &[f32],
        residual: Option<&[f32]>,
        y: &mut [f32],
    ) {
        gemv_body::<M, f16>(mc, w, x, residual, y)
    }
}

multiversion! {
    /// [`gate_up_body`] with f32 weights.
    pub(super) fn gate_up_rows<M>(mc, w_gate: &[f32], w_up: &[f32], x: &[f32], act: &mut [f32]) {
        gate_up_body::<M, f32>(mc, w_gate, w_up, x, act)
    }
}

multiversion! {
    /// [`gate_up_body`] with f16 weights.
    pub(super) fn gate_up_rows_f16<M>(
        mc,
        w_gate: &[f16],
        w_up: &[f16],
        x: &[f32],
        act: &mut [f32],
    ) {
        gate_up_body::<M, f16>(mc, w_gate, w_up, x, act)
    }
}

/// A storage type the GEMV and gate/up row bodies are instantiated for (each picks its
/// multiversioned copy).
pub(super) trait GemvElem: Elem {
    fn gemv_rows(isa: Isa, w: &[Self], x: &[f32], residual: Option<&[f32]>, y: &mut [f32]);
    fn gate_up_rows(isa: Isa, w_gate: &[Self], w_up: &[Self], x: &[f32], act: &mut [f32]);
}

impl GemvElem for f32 {
    fn gemv_rows(isa: Isa, w: &[f32], x: &[f32], residual: Option<&[f32]>, y: &mut [f32]) {
        gemv_rows(isa, w, x, residual, y)
    }
    fn gate_up_rows(isa: Isa, w_gate: &[f32], w_up: &[f32], x: &[f32], act: &mut [f32]) {
        gate_up_rows(isa, w_gate, w_up, x, act)
    }
}

impl GemvElem for f16 {
    fn gemv_rows(isa: Isa, w: &[f16], x: &[f32], residual: Option<&[f32]>, y: &mut [f32]) {
        gemv_rows_f16(isa, w, x, residual, y)
    }
    fn gate_up_rows(isa: Isa, w_gate: &[f16], w_up: &[f16], x: &[f32], act: &mut [f32]) {
        gate_up_rows_f16(isa, w_gate, w_up, x, act)
    }
}

/// Decode GEMV `y = W x` (f32 accumulation; with f16, f16 weights, input and output), rows
/// split across the workers; weights rotated (module doc).
pub(super) struct GemvKernel<T> {
    pub(super) bufs: Rotation<(Vec<T>, Vec<T>)>,
    /// `x` widened per call (f16 only).
    pub(super) x: Vec<f32>,
    pub(super) y: Vec<f32>,
    /// `y` rounded to `T` when `T` is narrower than f32 (empty otherwise).
    pub(super) out: Vec<T>,
}

impl<T: GemvElem> GemvKernel<T> {
    pub(super) fn new(b: &[Vec<f32>], n: usize, k: usize, llc: usize) -> Self {
        let bytes = std::mem::size_of::<T>() * (n * k + k);
        GemvKernel {
            bufs: Rotation::new(
                (to_elem(&b[0]), to_elem(&b[1])),
                copies_to_defeat_cache(bytes, llc),
            ),
            x: vec![0.0; k],
            y: vec![0.0; n],
            out: vec![T::ZERO; if T::NARROW { n } else { 0 }],
        }
    }
}

impl<T: GemvElem> CpuKernel for GemvKernel<T> {
    fn copies(&self) -> usize {
        self.bufs.copies.len()
    }

    fn run(&mut self, ctx: Ctx<'_>) {
        let (w, x) = self.bufs.advance();
        let x = T::widened(ctx.isa, x, &mut self.x);
        gemv(ctx, w, x, None, &mut self.y);
        for (o, y) in self.out.iter_mut().zip(&self.y) {
            *o = T::from_f32(*y);
        }
    }

    fn output(&self) -> Vec<f32> {
        if T::NARROW {
            self.out.iter().map(|x| x.to_f32()).collect()
        } else {
            self.y.clone()
        }
    }
}

/// `y = W x (+ residual)`, rows split across the pool.
pub(super) fn gemv<T: GemvElem>(
    ctx: Ctx<'_>,
    w: &[T],
    x: &[f32],
    residual: Option<&[f32]>,
    y: &mut [f32],
) {
    let k = x.len();
    // Whole blocks of four rows per task (gemv_rows' unit), at least 16 rows.
    let rows = task_len(y.len().div_ceil(4), ctx.threads, 4, 4);
    par_chunks(ctx, y, rows, |row0, y| {
        let w = &w[row0 * k..(row0 + y.len()) * k];
        let residual = residual.map(|r| &r[row0..row0 + y.len()]);
        T::gemv_rows(ctx.isa, w, x, residual, y);
    });
}
