//! One plan per kernel family: the buffers, bind groups and dispatches of a workload.

mod attention;
mod decode;
mod gemm;
mod gemv;
mod rowwise;
mod triad;

use super::layout::OutputLayout;
use super::timing::Dispatch;

/// What a prepare step builds before it is wrapped in [`GpuPrepared`].
pub(super) struct Plan {
    pub(super) dispatches: Vec<Dispatch>,
    pub(super) output: wgpu::Buffer,
    pub(super) layout: OutputLayout,
    pub(super) buffers: Vec<wgpu::Buffer>,
}
