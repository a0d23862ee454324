//! accelbench: measure the kernels that matter for LLM inference on this machine's CPU and
//! GPUs, verify them, record the results, and price tokens against cloud accelerators.
//!
//! Data flows one way: devices -> `run` -> results file -> `report`, `cost`, `compare`.

pub mod backend;
pub mod cli;
pub mod compare;
pub mod cost;
pub mod count;
pub mod env;
pub mod measure;
pub mod model;
pub mod par;
pub mod reference;
pub mod render;
pub mod report;
pub mod results;
pub mod run;
pub mod stats;
pub mod suite;
pub mod telemetry;
pub mod workload;
