//! Integration tests: gpu.
