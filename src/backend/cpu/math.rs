//! Inlined building blocks of the kernel bodies: dot products, horizontal sums, exp, SiLU and
//! one RMSNorm row (each compiled into the copy that calls it).

use super::elem::Elem;
use super::simd::Madd;
use crate::workload::RMSNORM_EPS;

/// Lanes of the accumulator arrays: four 256-bit vectors, enough independent chains to hide
/// add latency.
pub(super) const LANES: usize = 32;

#[inline(always)]
pub(super) fn dot<M: Madd>(mc: M, a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for j in 0..LANES {
            acc[j] = mc.madd(x[j], y[j], acc[j]);
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail = mc.madd(*x, *y, tail);
    }
    hsum(&acc) + tail
}

/// Four dot products of rows with the same `x`, `x` loaded once for all four; either side
/// stored as f32 or f16 (f16 widened 16 values at a time, in registers): weight rows with an
/// f32 input (GEMV), or f32 query rows with a cached key (attention).
#[inline(always)]
pub(super) fn dot4_mixed<M: Madd, R: Elem, X: Elem>(mc: M, rows: [&[R]; 4], x: &[X]) -> [f32; 4] {
    const W: usize = 16;
    let k = x.len();
    let rows = rows.map(|r| &r[..k]);
    let mut acc = [[0.0f32; W]; 4];
    let full = k / W * W;
    for c in (0..full).step_by(W) {
        let xs = X::tile16(mc, &x[c..c + W]);
        for (a, row) in acc.iter_mut().zip(&rows) {
            let w = R::tile16(mc, &row[c..c + W]);
            for j in 0..W {
                a[j] = mc.madd(w[j], xs[j], a[j]);
            }
        }
    }
    let sums = mc.hsum4x16([&acc[0], &acc[1], &acc[2], &acc[3]]);
    let mut out = [0.0f32; 4];
    for (o, (s, row)) in out.iter_mut().zip(sums.iter().zip(&rows)) {
        *o = row[full..]
            .iter()
            .zip(&x[full..])
            .fold(*s, |t, (a, b)| mc.madd(a.to_f32(), b.to_f32(), t));
    }
    out
}

#[inline(always)]
pub(super) fn hsum(acc: &[f32; LANES]) -> f32 {
    // Pairwise, so the result does not depend on a long serial chain.
    let mut v = *acc;
    let mut w = LANES;
    while w > 1 {
        w /= 2;
        for j in 0..w {
            v[j] += v[j + w];
        }
    }
    v[0]
}

#[inline(always)]
pub(super) fn sum_squares<M: Madd>(mc: M, x: &[f32]) -> f32 {
    dot(mc, x, x)
}

#[inline(always)]
pub(super) fn max_of(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut c = x.chunks_exact(LANES);
    for v in &mut c {
        for j in 0..LANES {
            acc[j] = acc[j].max(v[j]);
        }
    }
    let mut m = acc.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    for &v in c.remainder() {
        m = m.max(v);
    }
    m
}

/// `y += a * x`.
#[inline(always)]
pub(super) fn axpy<M: Madd>(mc: M, y: &mut [f32], a: f32, x: &[f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y = mc.madd(a, *x, *y);
    }
}

/// Values per call of [`exp_block`] in the softmax loops: four 256-bit vectors, enough
/// independent work to keep the FMA pipes busy through the polynomial's dependency chain.
pub(super) const EXP_BLOCK: usize = 32;

/// `x[i] = exp(x[i] - shift)`, returning the sum of the results.
#[inline(always)]
pub(super) fn exp_shifted_sum<M: Madd>(mc: M, x: &mut [f32], shift: f32) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut c = x.chunks_exact_mut(EXP_BLOCK);
    for v in &mut c {
        let block: &mut [f32; EXP_BLOCK] = v.try_into().expect("chunks_exact");
        *block = exp_block::<M, EXP_BLOCK>(mc, block, shift);
        for j in 0..EXP_BLOCK {
            acc[j % 8] += block[j];
        }
    }
    let mut tail = 0.0f32;
    for v in c.into_remainder() {
        *v = exp_approx(mc, *v - shift);
        tail += *v;
    }
    acc.iter().sum::<f32>() + tail
}

/// `y[i] = exp(x[i] - shift)`, returning the sum of the results.
#[inline(always)]
pub(super) fn exp_shifted_sum_into<M: Madd>(mc: M, x: &[f32], y: &mut [f32], shift: f32) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut cy = y.chunks_exact_mut(EXP_BLOCK);
    let mut cx = x.chunks_exact(EXP_BLOCK);
    for (y, x) in (&mut cy).zip(&mut cx) {
        let e = exp_block::<M, EXP_BLOCK>(mc, x.try_into().expect("chunks_exact"), shift);
        y.copy_from_slice(&e);
        for j in 0..EXP_BLOCK {
            acc[j % 8] += e[j];
        }
    }
    let mut tail = 0.0f32;
    for (y, x) in cy.into_remainder().iter_mut().zip(cx.remainder()) {
        *y = exp_approx(mc, *x - shift);
        tail += *y;
    }
    acc.iter().sum::<f32>() + tail
}

/// e^x to about 2 ulp; see [`exp_block`].
#[inline(always)]
pub(super) fn exp_approx<M: Madd>(mc: M, x: f32) -> f32 {
    exp_block::<M, 1>(mc, &[x], 0.0)[0]
}

/// `e^(x[j] - shift)` to about 2 ulp for arguments in [-87, 88] (clamped outside), branch-free
/// so it vectorises: x = n ln2 + r with |r| <= ln2/2, e^r by the Cephes `expf` polynomial
/// (evaluated by Estrin's scheme, a shorter dependency chain than Horner's), 2^n from the
/// exponent bits. Softmax and attention only evaluate it at arguments <= 0, where the clamp
/// costs < 2e-38. Written stage by stage over the block so each stage is a few independent
/// vector instructions.
#[inline(always)]
pub(super) fn exp_block<M: Madd, const B: usize>(mc: M, x: &[f32; B], shift: f32) -> [f32; B] {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let mut v = [0.0f32; B];
    for j in 0..B {
        v[j] = (x[j] - shift).clamp(-87.0, 88.0);
    }
    let mut t = [0.0f32; B];
    for j in 0..B {
        t[j] = mc.madd(v[j], LOG2E, ROUND);
    }
    let mut r = [0.0f32; B];
    for j in 0..B {
        let n = t[j] - ROUND;
        r[j] = mc.madd(n, -LN2_LO, mc.madd(n, -LN2_HI, v[j]));
    }
    let mut e = [0.0f32; B];
    for j in 0..B {
        let (r1, r2) = (r[j], r[j] * r[j]);
        let r4 = r2 * r2;
        let a = mc.madd(1.666_666_5e-1, r1, 0.5);
        let b = mc.madd(8.333_452e-3, r1, 4.166_579_6e-2);
        let c = mc.madd(1.987_569_1e-4, r1, 1.398_199_9e-3);
        let p = mc.madd(r4, c, mc.madd(r2, b, a));
        e[j] = mc.madd(p, r2, r1) + 1.0;
    }
    for j in 0..B {
        let n = t[j].to_bits().wrapping_sub(ROUND.to_bits()) as i32;
        e[j] *= f32::from_bits(((n + 127) as u32) << 23);
    }
    e
}

#[inline(always)]
pub(super) fn silu(x: f32) -> f32 {
    x / (1.0 + (-x).exp())
}

/// `y = x / sqrt(mean(x^2) + eps) * g`.
#[inline(always)]
pub(super) fn rmsnorm_row<M: Madd>(mc: M, x: &[f32], g: &[f32], y: &mut [f32]) {
    let inv = 1.0 / (sum_squares(mc, x) / x.len() as f32 + RMSNORM_EPS).sqrt();
    for ((y, x), g) in y.iter_mut().zip(x).zip(g) {
        *y = x * inv * g;
    }
}
