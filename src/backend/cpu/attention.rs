//! Decode attention: the one-pass blocked body (online softmax), the split of positions across
//! workers and the merge of partial results.

use std::ops::Range;

use half::f16;
use rayon::prelude::*;

use super::detect::copies_to_defeat_cache;
use super::elem::{Elem, to_elem};
use super::exec::{CpuKernel, Ctx, Rotation};
use super::math::{axpy, dot4_mixed, exp_shifted_sum, max_of};
use super::simd::{BASELINE, Isa, Madd};
use crate::workload::AttentionShape;

/// Positions per block of [`attention_partial`]: one block of K and of V (16 KiB each at head
/// dim 128) stays in L1 between the scores and the value pass.
pub(super) const ATTENTION_BLOCK: usize = 32;

/// How many blocks ahead [`attention_partial`] asks the cache for K and V rows (into L2):
/// far enough that the memory system has rows in flight while a block computes.
pub(super) const PREFETCH_BLOCKS: usize = 2;

/// Output dims per register tile of the value pass: two 256-bit vectors per query head, so
/// that the tile of four heads (8 vectors), the V row slice and the weight fit in 16 ymm.
pub(super) const V_TILE: usize = 16;
const _: () = assert!(V_TILE == 16, "the value tiles are loaded with Elem::tile16");

/// Attention of the `q.len() / head_dim` query heads sharing one KV head, over the cached
/// positions `k.len() / head_dim` (a contiguous range of them). Writes, per query head,
/// `[max score, sum of exp(score - max), sum of exp(score - max) * v (head_dim)]` into
/// `partial`; `scores` is scratch of at least (query heads x ATTENTION_BLOCK). An f16 cache is
/// widened 16 values at a time in registers as it is read.
///
/// One pass over the cache, a block of positions at a time (online softmax): the block's
/// scores, then the running max and sums rescaled when the max grows, then the block's V
/// rows accumulated into register tiles of four query heads, so that each V row is read
/// once for the whole group and the partial sums are stored once per block, not per row.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn attention_body<M: Madd, T: Elem>(
    mc: M,
    q: &[f32],
    k: &[T],
    v: &[T],
    head_dim: usize,
    scale: f32,
    scores: &mut [f32],
    partial: &mut [f32],
) {
    let group = q.len() / head_dim;
    let positions = k.len() / head_dim;
    let stride = head_dim + 2;
    let partial = &mut partial[..group * stride];
    for p in partial.chunks_exact_mut(stride) {
        p[0] = f32::NEG_INFINITY;
        p[1] = 0.0;
        p[2..].fill(0.0);
    }
    let q_row = |r: usize| &q[r * head_dim..(r + 1) * head_dim];
    let quads = group / 4;
    let mut start = 0;
    while start < positions {
        let tb = ATTENTION_BLOCK.min(positions - start);
        let kb = &k[start * head_dim..(start + tb) * head_dim];
        let vb = &v[start * head_dim..(start + tb) * head_dim];
        // Scores of the block, row r at scores[r * tb..]: each K row read once for the
        // group, four heads at a time.
        let sc = &mut scores[..group * tb];
        let ahead_pos = start + tb + (PREFETCH_BLOCKS - 1) * ATTENTION_BLOCK;
        let ahead = ahead_pos.min(positions) * head_dim
            ..(ahead_pos + ATTENTION_BLOCK).min(positions) * head_dim;
        let (k_next, v_next) = (&k[ahead.clone()], &v[ahead]);
        // Heads four at a time; a last one to three padded with repeats of the last head.
        let q_pad = |r: usize| q_row(r.min(group - 1));
        for (t, k_row) in kb.chunks_exact(head_dim).enumerate() {
            // The next block's rows, so that memory works while this block computes.
            prefetch_row(k_next.get(t * head_dim..(t + 1) * head_dim));
            prefetch_row(v_next.get(t * head_dim..(t + 1) * head_dim));
            for b in 0..quads {
                let r = 4 * b;
                let q4 = [q_row(r), q_row(r + 1), q_row(r + 2), q_row(r + 3)];
                let d = dot4_mixed::<M, f32, T>(mc, q4, k_row);
                for (j, d) in d.into_iter().enumerate() {
                    sc[(r + j) * tb + t] = d * scale;
                }
            }
            if !group.is_multiple_of(4) {
                let r = 4 * quads;
                let q4 = [q_pad(r), q_pad(r + 1), q_pad(r + 2), q_pad(r + 3)];
                let d = dot4_mixed::<M, f32, T>(mc, q4, k_row);
                for (j, d) in d.into_iter().enumerate().take(group - r) {
                    sc[(r + j) * tb + t] = d * scale;
                }
            }
        }
        // Online softmax: weights exp(s - m) under the new running max m.
        for (r, s) in sc.chunks_exact_mut(tb).enumerate() {
            let p = &mut partial[r * stride..(r + 1) * stride];
            let m = p[0].max(max_of(s));
            if p[0] != m && p[0] != f32::NEG_INFINITY {
                let c = (p[0] - m).exp();
                p[1] *= c;
                for x in &mut p[2..] {
                    *x *= c;
                }
            }
            p[0] = m;
            p[1] += exp_shifted_sum(mc, s, m);
        }
        // Values.
        for b in 0..quads {
            accumulate_values::<M, T, 4>(
                mc,
                &sc[4 * b * tb..],
                tb,
                vb,
                head_dim,
                &mut partial[4 * b * stride..],
            );
        }
        for r in 4 * quads..group {
            accumulate_values::<M, T, 1>(
                mc,
                &sc[r * tb..],
                tb,
                vb,
                head_dim,
                &mut partial[r * stride..],
            );
        }
        start += tb;
    }
}

multiversion! {
    /// [`attention_body`] over an f32 KV cache.
    pub(super) fn attention_partial<M>(
        mc,
        q: &[f32],
        k: &[f32],
        v: &[f32],
        head_dim: usize,
        scale: f32,
        scores: &mut [f32],
        partial: &mut [f32],
    ) {
        attention_body::<M, f32>(mc, q, k, v, head_dim, scale, scores, partial)
    }
}

multiversion! {
    /// [`attention_body`] over an f16 KV cache, widened a block at a time.
    pub(super) fn attention_partial_f16<M>(
        mc,
        q: &[f32],
        k: &[f16],
        v: &[f16],
        head_dim: usize,
        scale: f32,
        scores: &mut [f32],
        partial: &mut [f32],
    ) {
        attention_body::<M, f16>(mc, q, k, v, head_dim, scale, scores, partial)
    }
}

/// A cache type the attention body is instantiated for (each picks its multiversioned copy).
pub(super) trait AttentionElem: Elem {
    #[allow(clippy::too_many_arguments)]
    fn attention_partial(
        isa: Isa,
        q: &[f32],
        k: &[Self],
        v: &[Self],
        head_dim: usize,
        scale: f32,
        scores: &mut [f32],
        partial: &mut [f32],
    );
}

impl AttentionElem for f32 {
    fn attention_partial(
        isa: Isa,
        q: &[f32],
        k: &[f32],
        v: &[f32],
        head_dim: usize,
        scale: f32,
        scores: &mut [f32],
        partial: &mut [f32],
    ) {
        attention_partial(isa, q, k, v, head_dim, scale, scores, partial)
    }
}

impl AttentionElem for f16 {
    fn attention_partial(
        isa: Isa,
        q: &[f32],
        k: &[f16],
        v: &[f16],
        head_dim: usize,
        scale: f32,
        scores: &mut [f32],
        partial: &mut [f32],
    ) {
        attention_partial_f16(isa, q, k, v, head_dim, scale, scores, partial)
    }
}

/// Asks the cache to fetch every line of `row` (when present) into L2 without waiting for it.
#[inline(always)]
pub(super) fn prefetch_row<T>(row: Option<&[T]>) {
    #[cfg(target_arch = "x86_64")]
    if let Some(row) = row {
        use std::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};
        for line in row.chunks((64 / std::mem::size_of::<T>()).max(1)) {
            // SAFETY: prefetching is a hint that never faults; the address is inside `row`.
            unsafe { _mm_prefetch::<_MM_HINT_T1>(line.as_ptr().cast()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// `partial[r][2 + d] += sum over t of w[r * tb + t] * v[t][d]` for `R` query heads: tiles of
/// `V_TILE` dims x `R` heads held in registers across the block's `tb` rows.
#[inline(always)]
pub(super) fn accumulate_values<M: Madd, T: Elem, const R: usize>(
    mc: M,
    w: &[f32],
    tb: usize,
    v: &[T],
    head_dim: usize,
    partial: &mut [f32],
) {
    let stride = head_dim + 2;
    let full = head_dim / V_TILE * V_TILE;
    // Each head's weights as its own slice of exactly `tb`, so `ws[r][t]` needs no check.
    let ws: [&[f32]; R] = std::array::from_fn(|r| &w[r * tb..(r + 1) * tb]);
    let mut d0 = 0;
    while d0 < full {
        let mut acc = [[0.0f32; V_TILE]; R];
        for (r, a) in acc.iter_mut().enumerate() {
            a.copy_from_slice(&partial[r * stride + 2 + d0..r * stride + 2 + d0 + V_TILE]);
        }
        for (t, v_row) in v.chunks_exact(head_dim).take(tb).enumerate() {
            let x = T::tile16(mc, &v_row[d0..d0 + V_TILE]);
            for (a, wr) in acc.iter_mut().zip(&ws) {
                let wt = wr[t];
                for j in 0..V_TILE {
                    a[j] = mc.madd(wt, x[j], a[j]);
                }
            }
        }
        for (r, a) in acc.iter().enumerate() {
            partial[r * stride + 2 + d0..r * stride + 2 + d0 + V_TILE].copy_from_slice(a);
        }
        d0 += V_TILE;
    }
    if full < head_dim {
        for (t, v_row) in v.chunks_exact(head_dim).enumerate() {
            for r in 0..R {
                let p = &mut partial[r * stride + 2 + full..(r + 1) * stride];
                let wt = w[r * tb + t];
                for (y, x) in p.iter_mut().zip(&v_row[full..]) {
                    *y = mc.madd(wt, x.to_f32(), *y);
                }
            }
        }
    }
}

/// Scratch and work split of decode attention, reused by the decode step.
///
/// Work items are (KV head, range of positions): each KV head's positions are split into
/// `splits` ranges when there are fewer KV heads than workers, and the partial results
/// (flash-decoding style: max, sum, unnormalised output) are merged afterwards.
#[derive(Clone)]
pub(super) struct AttentionPlan {
    pub(super) shape: AttentionShape,
    pub(super) splits: usize,
    /// Positions per split (the last may have fewer).
    pub(super) split_len: usize,
    /// `items x group x min(split_len, ATTENTION_BLOCK)`.
    pub(super) scores: Vec<f32>,
    /// `items x group x (head_dim + 2)`.
    pub(super) partials: Vec<f32>,
}

impl AttentionPlan {
    pub(super) fn new(shape: AttentionShape, threads: usize) -> Self {
        let (kv_heads, ctx, group) = (
            shape.kv_heads as usize,
            shape.context as usize,
            (shape.q_heads / shape.kv_heads) as usize,
        );
        let hd = shape.head_dim as usize;
        let splits = threads.div_ceil(kv_heads).clamp(1, ctx.max(1));
        let split_len = ctx.div_ceil(splits);
        let items = kv_heads * splits;
        AttentionPlan {
            shape,
            splits,
            split_len,
            scores: vec![0.0; items * group * split_len.min(ATTENTION_BLOCK)],
            partials: vec![0.0; items * group * (hd + 2)],
        }
    }

    pub(super) fn positions(&self, split: usize) -> Range<usize> {
        split_positions(split, self.split_len, self.shape.context as usize)
    }

    /// `out [q_heads x head_dim] = attention(q, K, V)`.
    pub(super) fn run<T: AttentionElem>(
        &mut self,
        ctx: Ctx<'_>,
        q: &[f32],
        k: &[T],
        v: &[T],
        out: &mut [f32],
    ) {
        let hd = self.shape.head_dim as usize;
        let context = self.shape.context as usize;
        let group = (self.shape.q_heads / self.shape.kv_heads) as usize;
        let scale = 1.0 / (hd as f32).sqrt();
        let (splits, split_len) = (self.splits, self.split_len);
        let item = |i: usize, scores: &mut [f32], partial: &mut [f32]| {
            let (head, split) = (i / splits, i % splits);
            let pos = split_positions(split, split_len, context);
            let base = head * context * hd;
            let kv = base + pos.start * hd..base + pos.end * hd;
            T::attention_partial(
                ctx.isa,
                &q[head * group * hd..(head + 1) * group * hd],
                &k[kv.clone()],
                &v[kv],
                hd,
                scale,
                scores,
                partial,
            );
        };
        let score_stride = group * split_len.min(ATTENTION_BLOCK);
        let partial_stride = group * (hd + 2);
        let scores = &mut self.scores;
        let partials = &mut self.partials;
        let items = partials.len() / partial_stride;
        if items == 1 || ctx.threads == 1 {
            for (i, (s, p)) in scores
                .chunks_exact_mut(score_stride)
                .zip(partials.chunks_exact_mut(partial_stride))
                .enumerate()
            {
                item(i, s, p);
            }
        } else {
            ctx.pool.install(|| {
                scores
                    .par_chunks_exact_mut(score_stride)
                    .zip(partials.par_chunks_exact_mut(partial_stride))
                    .enumerate()
                    .for_each(|(i, (s, p))| item(i, s, p));
            });
        }
        self.merge(out);
    }

    /// Combine the splits of every query head into its normalised output.
    pub(super) fn merge(&self, out: &mut [f32]) {
        let hd = self.shape.head_dim as usize;
        let group = (self.shape.q_heads / self.shape.kv_heads) as usize;
        let stride = hd + 2;
        for (h, o) in out.chunks_exact_mut(hd).enumerate() {
            let (head, r) = (h / group, h % group);
            let part = |s: usize| {
                let at = ((head * self.splits + s) * group + r) * stride;
                &self.partials[at..at + stride]
            };
            let m = (0..self.splits)
                .filter(|&s| !self.positions(s).is_empty())
                .map(|s| part(s)[0])
                .fold(f32::NEG_INFINITY, f32::max);
            o.fill(0.0);
            let mut l = 0.0f32;
            for s in (0..self.splits).filter(|&s| !self.positions(s).is_empty()) {
                let p = part(s);
                let w = (p[0] - m).exp();
                l += w * p[1];
                axpy(BASELINE, o, w, &p[2..]);
            }
            let inv = 1.0 / l;
            for x in o.iter_mut() {
                *x *= inv;
            }
        }
    }
}

/// Positions `[split * len, (split + 1) * len)` clipped to the context (possibly empty).
pub(super) fn split_positions(split: usize, len: usize, context: usize) -> Range<usize> {
    (split * len).min(context)..((split + 1) * len).min(context)
}

/// Decode attention; KV caches rotated (module doc).
pub(super) struct AttentionKernel<T> {
    pub(super) q: Vec<f32>,
    pub(super) caches: Rotation<(Vec<T>, Vec<T>)>,
    pub(super) plan: AttentionPlan,
    pub(super) out: Vec<f32>,
}

impl<T: AttentionElem> AttentionKernel<T> {
    pub(super) fn new(b: &[Vec<f32>], shape: &AttentionShape, threads: usize, llc: usize) -> Self {
        let bytes = std::mem::size_of::<T>() * (b[1].len() + b[2].len());
        AttentionKernel {
            q: b[0].clone(),
            caches: Rotation::new(
                (to_elem(&b[1]), to_elem(&b[2])),
                copies_to_defeat_cache(bytes, llc),
            ),
            plan: AttentionPlan::new(*shape, threads),
            out: vec![0.0; b[0].len()],
        }
    }
}

impl<T: AttentionElem> CpuKernel for AttentionKernel<T> {
    fn copies(&self) -> usize {
        self.caches.copies.len()
    }

    fn run(&mut self, ctx: Ctx<'_>) {
        let (k, v) = self.caches.advance();
        self.plan.run(ctx, &self.q, k, v, &mut self.out);
    }

    fn output(&self) -> Vec<f32> {
        self.out.clone()
    }
}
