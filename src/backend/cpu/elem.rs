//! How weights and caches are stored (f32 or f16) and widened to f32 for arithmetic.

use half::f16;

use super::simd::{Isa, Madd};

multiversion! {
    /// `dst[i] = src[i]` widened from f16.
    pub(super) fn widen_f16<M>(mc, src: &[f16], dst: &mut [f32]) {
        widen_into(mc, src, dst);
    }
}

/// How weights and caches are stored: f32, or f16 (widened to f32 for arithmetic; every sum
/// is accumulated in f32). The `gemm` crate multiplies both.
pub(super) trait Elem: Copy + Send + Sync + 'static {
    const ZERO: Self;
    const ONE: Self;
    /// Narrower than f32: results are rounded to it when stored.
    const NARROW: bool;
    /// From an f32 input (already representable, see [`crate::reference::round_to_dtype`]).
    fn from_f32(x: f32) -> Self;
    fn to_f32(self) -> f32;
    /// `src[..16]` as f32, inside a multiversioned body (f16: two `widen8`).
    fn tile16<M: Madd>(mc: M, src: &[Self]) -> [f32; 16];
    /// The same outside one (picks the copy for `isa`).
    fn widened<'a>(isa: Isa, src: &'a [Self], scratch: &'a mut [f32]) -> &'a [f32];
}

impl Elem for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const NARROW: bool = false;
    fn from_f32(x: f32) -> Self {
        x
    }
    fn to_f32(self) -> f32 {
        self
    }
    #[inline(always)]
    fn tile16<M: Madd>(_mc: M, src: &[f32]) -> [f32; 16] {
        src[..16].try_into().expect("16 values")
    }
    fn widened<'a>(_: Isa, src: &'a [f32], _: &'a mut [f32]) -> &'a [f32] {
        src
    }
}

impl Elem for f16 {
    const ZERO: Self = f16::ZERO;
    const ONE: Self = f16::ONE;
    const NARROW: bool = true;
    fn from_f32(x: f32) -> Self {
        f16::from_f32(x)
    }
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }
    #[inline(always)]
    fn tile16<M: Madd>(mc: M, src: &[f16]) -> [f32; 16] {
        let lo = mc.widen8(src[..8].try_into().expect("8 halves"));
        let hi = mc.widen8(src[8..16].try_into().expect("8 halves"));
        std::array::from_fn(|j| if j < 8 { lo[j] } else { hi[j - 8] })
    }
    fn widened<'a>(isa: Isa, src: &'a [f16], scratch: &'a mut [f32]) -> &'a [f32] {
        let dst = &mut scratch[..src.len()];
        widen_f16(isa, src, dst);
        dst
    }
}

/// `dst[i] = src[i]` widened eight halves at a time through the copy's [`Madd::widen8`].
#[inline(always)]
pub(super) fn widen_into<M: Madd>(mc: M, src: &[f16], dst: &mut [f32]) {
    let mut s = src.chunks_exact(8);
    let mut d = dst.chunks_exact_mut(8);
    for (s, d) in (&mut s).zip(&mut d) {
        d.copy_from_slice(&mc.widen8(s.try_into().expect("chunks_exact")));
    }
    for (s, d) in s.remainder().iter().zip(d.into_remainder()) {
        *d = s.to_f32();
    }
}

/// f32 inputs (already representable, see [`crate::reference::round_to_dtype`]) as `T`.
pub(super) fn to_elem<T: Elem>(v: &[f32]) -> Vec<T> {
    v.iter().map(|&x| T::from_f32(x)).collect()
}
