//! Shared rendering for every command: terminal and Markdown tables, units, escaping, CSV.
//!
//! `run`, `compare`, `report` (and `cost`) print through these four modules, so a table, a
//! latency, an escaped cell or a CSV field looks the same wherever it appears.

pub mod csv;
pub mod escape;
pub mod table;
pub mod units;

pub use table::Table;
