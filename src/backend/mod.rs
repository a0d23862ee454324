//! Backends run workloads on one device. `cpu` is always present; `gpu` wraps every adapter
//! that wgpu finds and is the only module that imports wgpu.
//!
//! The contract with the run loop: `prepare` does all allocation, upload and pipeline building;
//! the returned [`Prepared`] only runs the kernel, so nothing but the kernel is timed.

pub mod cpu;
pub mod gpu;

use anyhow::Result;

use crate::results::{DeviceRecord, TimerKind};
use crate::workload::Workload;

/// A device that can run workloads.
pub trait Backend {
    /// Description of the device for the results file (`id` filled in by the caller's order).
    fn record(&self) -> DeviceRecord;

    /// Why this backend cannot run `w` (unsupported dtype, exceeds limits, too big), or `None`.
    fn unsupported(&self, w: &Workload) -> Option<String>;

    /// Bring the device to a steady state before its first workload (called once by the run
    /// loop; nothing is timed). The default does nothing.
    fn warm_up(&mut self) {}

    /// Where the device's clocks and power can be read while a workload is timed
    /// (`nvidia-smi` for NVIDIA GPUs), or `None`.
    fn state_source(&self) -> Option<crate::telemetry::Source> {
        None
    }

    /// The memory-bandwidth probe measured again, after the device's last workload, to show
    /// whether the device's state changed during the run; `None` where there is none.
    fn bandwidth_after(&mut self) -> Option<crate::results::PeakFigure> {
        None
    }

    /// Kernel choices for `w` worth timing against each other (names, the first the default),
    /// when there are two or more; empty when there is nothing to choose or the user fixed
    /// the choice. The run loop verifies and times each briefly and measures the fastest
    /// (`run/tune.rs`). The default has none.
    fn choices(&self, _w: &Workload) -> Vec<String> {
        Vec::new()
    }

    /// Use `choice` (a name from [`Backend::choices`]) for the workloads prepared from now on;
    /// `None` restores the default.
    fn choose(&mut self, choice: Option<&str>) -> Result<()> {
        match choice {
            None => Ok(()),
            Some(c) => anyhow::bail!("this backend has no choice named '{c}'"),
        }
    }

    /// Allocate buffers, upload `inputs` (as produced by [`crate::reference::inputs`]) and build
    /// whatever the kernel needs. Nothing here is timed.
    fn prepare<'a>(
        &'a mut self,
        w: &Workload,
        inputs: &crate::reference::Inputs,
    ) -> Result<Box<dyn Prepared + 'a>>;
}

/// A workload ready to run on a device.
pub trait Prepared {
    /// Run the kernel once and return its output (f32, converted if needed) for verification.
    fn run_and_read(&mut self) -> Result<Vec<f32>>;

    /// Run `iters` back-to-back invocations and return the elapsed nanoseconds by this
    /// backend's timer (see [`Prepared::timer`]).
    fn time(&mut self, iters: u64) -> Result<u64>;

    /// Identical copies of the buffers that invocations read in turn (rotation past the
    /// cache); the working set is the workload's footprint times this.
    fn copies(&self) -> u64 {
        1
    }

    /// Which kernel ran (e.g. `gemm_f16_coop_k64`), for the row's `kernel_variant`.
    fn variant(&self) -> Option<String> {
        None
    }

    /// Why this kernel ran rather than a faster one (a fallback), for the row's note.
    fn note(&self) -> Option<String> {
        None
    }

    /// Dispatches one invocation records, each waiting for the one before it (GPUs), or
    /// `None` where the notion does not apply.
    fn dispatches(&self) -> Option<u64> {
        None
    }

    /// Which clock [`Prepared::time`] uses.
    fn timer(&self) -> TimerKind {
        TimerKind::Wall
    }
}
