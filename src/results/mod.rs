//! The results file: the single hand-off between measuring and everything after it.
//!
//! Owns the serde types of schema v1, the atomic writer and the loader with clear errors.
//! It must not depend on backends: `report`, `cost` and `compare` read results through it.
//!
//! Layout: `schema` (the serde types), `load` (parse and validate), `validate` (what a loaded file must satisfy), `save` (atomic writes),
//! `histogram` (the HdrHistogram codec of the per-sample data), `discover` (finding results
//! files in a directory).

mod discover;
pub mod histogram;
mod load;
mod save;
mod schema;
mod validate;

pub use discover::newest_results_file;
pub use load::{load, parse};
pub use save::{check_writable, save, to_json, write_atomic};
pub use schema::*;
pub use validate::MAX_SAMPLES;
