//! SIMD dispatch: the capability token only run-time detection can build, the `Madd` flavours
//! (values that prove their instructions may run) and the `multiversion!` macro that compiles
//! each kernel body for the baseline and for AVX2+FMA+F16C.
//!
//! Soundness rests on types, not on a convention: the helpers that execute AVX instructions are
//! methods of [`Fused`], a `Fused` value can only be made from an [`Avx2Fma`] token, and the
//! token's only constructor is [`Avx2Fma::detect`]. Code that never saw a detection cannot name
//! a value that runs AVX.

use half::f16;

/// Proof that this CPU has AVX2, FMA and F16C: the field is private, so [`Avx2Fma::detect`]
/// is the only way to get one.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Avx2Fma(());

#[cfg(target_arch = "x86_64")]
impl Avx2Fma {
    /// The token, when the CPU has all three features.
    pub(super) fn detect() -> Option<Avx2Fma> {
        (std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("f16c"))
        .then_some(Avx2Fma(()))
    }
}

/// Instruction set the hand-written kernels were compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Isa {
    /// The build's baseline target features.
    Baseline,
    /// AVX2, FMA and F16C, detected at run time (the token proves it).
    #[cfg(target_arch = "x86_64")]
    Avx2Fma(Avx2Fma),
}

impl Isa {
    pub(super) fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        if let Some(token) = Avx2Fma::detect() {
            return Isa::Avx2Fma(token);
        }
        Isa::Baseline
    }
}

/// How a kernel body multiplies and adds: one fused instruction in the copy compiled with FMA,
/// a multiply then an add in the baseline x86 copy (there `mul_add` would be a slow library
/// call, not an instruction). Bodies take a value of the flavour (a zero-sized token, free to
/// pass) and call its methods.
///
/// # Safety
///
/// A method may execute instructions that need target features beyond the build's baseline
/// only if every value of the implementing type proves those features are present (it can
/// only be constructed from a detection token such as [`Avx2Fma`]).
pub(super) unsafe trait Madd: Copy {
    /// `a * b + c`.
    fn madd(self, a: f32, b: f32, c: f32) -> f32;

    /// The sums of four 16-lane accumulators (pairwise, as [`hsum16`]).
    #[inline(always)]
    fn hsum4x16(self, acc: [&[f32; 16]; 4]) -> [f32; 4] {
        acc.map(hsum16)
    }

    /// Eight halves widened to f32 (exact).
    #[inline(always)]
    fn widen8(self, h: &[f16; 8]) -> [f32; 8] {
        h.map(f16::to_f32)
    }
}

/// `a.mul_add(b, c)`: one instruction where FMA is enabled. On x86_64 it holds the
/// [`Avx2Fma`] token, so a `Fused` exists only where AVX2, FMA and F16C were detected.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fused {
    #[cfg(target_arch = "x86_64")]
    _token: Avx2Fma,
}

impl Fused {
    /// The fused flavour, for a CPU known to have AVX2, FMA and F16C.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    pub(super) fn new(token: Avx2Fma) -> Fused {
        Fused { _token: token }
    }
}

// SAFETY: the AVX methods below run only through a `Fused`, which on x86_64 holds an
// `Avx2Fma` token (see `Fused::new`); elsewhere they are not compiled.
unsafe impl Madd for Fused {
    #[inline(always)]
    fn madd(self, a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }

    /// Three horizontal adds for all four sums, instead of a scalar tree for each.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn hsum4x16(self, acc: [&[f32; 16]; 4]) -> [f32; 4] {
        use std::arch::x86_64::*;
        // SAFETY: `self` holds an `Avx2Fma` token, so the CPU has AVX; each load reads 8 lanes
        // inside a 16-lane array.
        unsafe {
            let half = |a: &[f32; 16]| {
                _mm256_add_ps(
                    _mm256_loadu_ps(a.as_ptr()),
                    _mm256_loadu_ps(a.as_ptr().add(8)),
                )
            };
            let h01 = _mm256_hadd_ps(half(acc[0]), half(acc[1]));
            let h23 = _mm256_hadd_ps(half(acc[2]), half(acc[3]));
            let h = _mm256_hadd_ps(h01, h23);
            let sums = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps::<1>(h));
            let mut out = [0.0f32; 4];
            _mm_storeu_ps(out.as_mut_ptr(), sums);
            out
        }
    }

    /// One `vcvtph2ps`.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn widen8(self, h: &[f16; 8]) -> [f32; 8] {
        use std::arch::x86_64::*;
        // SAFETY: `self` holds an `Avx2Fma` token, so the CPU has AVX and F16C; the load reads
        // the 16 bytes of `h`.
        unsafe {
            let v = _mm256_cvtph_ps(_mm_loadu_si128(h.as_ptr().cast()));
            let mut out = [0.0f32; 8];
            _mm256_storeu_ps(out.as_mut_ptr(), v);
            out
        }
    }
}

/// `a * b + c`, two roundings.
#[cfg_attr(target_arch = "aarch64", allow(dead_code))]
#[derive(Debug, Clone, Copy)]
pub(super) struct Unfused;

// SAFETY: only baseline instructions.
unsafe impl Madd for Unfused {
    #[inline(always)]
    fn madd(self, a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

/// aarch64 always has fused multiply-add (NEON); baseline x86_64 does not.
#[cfg(target_arch = "aarch64")]
pub(super) type BaselineMadd = Fused;
#[cfg(not(target_arch = "aarch64"))]
pub(super) type BaselineMadd = Unfused;

/// The baseline flavour, usable anywhere.
#[cfg(target_arch = "aarch64")]
pub(super) const BASELINE: BaselineMadd = Fused {};
#[cfg(not(target_arch = "aarch64"))]
pub(super) const BASELINE: BaselineMadd = Unfused;

/// Define `fn name(isa: Isa, args...)` whose body is compiled for the baseline target and, on
/// x86_64, again with AVX2+FMA enabled; `isa` picks the copy. The body is generic over a
/// [`Madd`] type named in the definition (`fn name<M>(mc, args...)`), gets a value of it
/// named by the first parameter (`mc`), and must multiply-add through it. Helpers the body
/// calls must be `#[inline(always)]` so they are compiled with the same features.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<$m:ident>($mc:ident $(, $arg:ident : $ty:ty)* $(,)?) $body:block) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name(isa: $crate::backend::cpu::simd::Isa, $($arg: $ty),*) {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body<$m: $crate::backend::cpu::simd::Madd>($mc: $m, $($arg: $ty),*) $body

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma,f16c")]
            #[allow(clippy::too_many_arguments)]
            fn avx2(token: $crate::backend::cpu::simd::Avx2Fma, $($arg: $ty),*) {
                body($crate::backend::cpu::simd::Fused::new(token), $($arg),*)
            }

            match isa {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: the token in `Isa::Avx2Fma` exists only after run-time detection of
                // AVX2, FMA and F16C, the features `avx2` is compiled with.
                $crate::backend::cpu::simd::Isa::Avx2Fma(token) => unsafe { avx2(token, $($arg),*) },
                $crate::backend::cpu::simd::Isa::Baseline => body($crate::backend::cpu::simd::BASELINE, $($arg),*),
            }
        }
    };
}

/// Pairwise sum of 16 lanes.
#[inline(always)]
pub(super) fn hsum16(acc: &[f32; 16]) -> f32 {
    let mut v = *acc;
    for w in [8, 4, 2, 1] {
        for j in 0..w {
            v[j] += v[j + w];
        }
    }
    v[0]
}
