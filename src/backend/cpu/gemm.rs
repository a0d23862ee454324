//! GEMM through the `gemm` crate (f32, and f16 with f32 accumulation).

use super::elem::{Elem, to_elem};
use super::exec::{CpuKernel, Ctx};

/// `C = A x B` through the `gemm` crate, threaded by it inside the backend's pool.
pub(super) struct GemmKernel<T> {
    pub(super) a: Vec<T>,
    pub(super) b: Vec<T>,
    pub(super) c: Vec<T>,
    pub(super) m: usize,
    pub(super) n: usize,
    pub(super) k: usize,
}

impl<T: Elem> GemmKernel<T> {
    pub(super) fn new(b: &[Vec<f32>], m: usize, n: usize, k: usize) -> Self {
        GemmKernel {
            a: to_elem(&b[0]),
            b: to_elem(&b[1]),
            c: vec![T::ZERO; m * n],
            m,
            n,
            k,
        }
    }
}

impl<T: Elem> CpuKernel for GemmKernel<T> {
    fn run(&mut self, ctx: Ctx<'_>) {
        let (m, n, k) = (self.m, self.n, self.k);
        let parallelism = if ctx.threads == 1 {
            gemm::Parallelism::None
        } else {
            gemm::Parallelism::Rayon(ctx.threads)
        };
        let (a, b, c) = (&self.a, &self.b, &mut self.c);
        ctx.pool.install(|| {
            // SAFETY: A is m x k, B is k x n and C is m x n, all row-major (column stride 1,
            // row stride = width) and owned here; C does not alias A or B. With
            // `read_dst = false` C is only written. T is f32 or f16 (`gemm::f16` is
            // `half::f16`), the element types the crate implements.
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    c.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    a.as_ptr(),
                    1,
                    k as isize,
                    b.as_ptr(),
                    1,
                    n as isize,
                    T::ZERO,
                    T::ONE,
                    false,
                    false,
                    false,
                    parallelism,
                );
            }
        });
    }

    fn output(&self) -> Vec<f32> {
        self.c.iter().map(|x| x.to_f32()).collect()
    }
}
