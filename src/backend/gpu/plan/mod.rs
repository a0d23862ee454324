//! One plan per kernel family: the buffers, bind groups and dispatches of a workload.

mod attention;
pub(super) use attention::gqa_applies;
mod decode;
mod gemm;

pub(super) use gemm::gemm_f32_by_rule;
pub use gemm::{
    COOP_CONFIG, COOP_GEMMS, CoopGemm, GEMM_F32_KERNELS, SPLITK_MAX, SPLITK_REDUCE, SplitK,
    coop_fallback, coop_grid, coop_variant, split_k, unsplit, workgroup_memory_fallback,
};
mod gemv;
mod rowwise;
mod triad;

use super::layout::OutputLayout;
use super::timing::Dispatch;

/// What a prepare step builds before it is wrapped in [`GpuPrepared`].
pub(super) struct Plan {
    pub(super) dispatches: Vec<Dispatch>,
    /// The same dispatches over further identical copies of the weights, for memory-bound
    /// kernels: invocations take the copies in turn, so one pass over all of them is larger
    /// than the L2 ([`crate::backend::cpu::copies_to_defeat_cache`]). Empty when not rotated.
    pub(super) more: Vec<Vec<Dispatch>>,
    pub(super) output: wgpu::Buffer,
    pub(super) layout: OutputLayout,
    pub(super) buffers: Vec<wgpu::Buffer>,
}
