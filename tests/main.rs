//! One integration-test binary; one module per theme.

mod cli;
mod common;
mod compare;
mod cost;
mod cost_cli;
mod cost_fit;
mod gpu;
mod inputs;
mod kernels_cpu;
mod mutation;
mod report;
mod runner;
