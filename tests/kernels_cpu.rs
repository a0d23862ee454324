//! Integration tests: kernels_cpu.
