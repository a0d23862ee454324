//! The CPU backend's kernels at representative LLM shapes, through the same `prepare` /
//! `time` path the runner uses. Criterion reports throughput: FLOP for compute-bound kernels
//! (GEMM), bytes for the memory-bound ones. Kept short: 10 samples, 2 s of measurement each.
//!
//! Threads: `ACCELBENCH_BENCH_THREADS` (default: all hardware threads).

use std::time::Duration;

use accelbench::backend::Backend;
use accelbench::backend::cpu::CpuBackend;
use accelbench::model::ModelShape;
use accelbench::reference;
use accelbench::workload::{AttentionShape, Dtype, Kernel, Workload};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn threads() -> usize {
    std::env::var("ACCELBENCH_BENCH_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn workloads() -> Vec<(Workload, Throughput)> {
    let f32w = |k| Workload::new(k, Dtype::F32);
    let by_flops = |w: Workload| {
        let t = Throughput::Elements(w.flops());
        (w, t)
    };
    let by_bytes = |w: Workload| {
        let t = Throughput::Bytes(w.bytes());
        (w, t)
    };
    let model = ModelShape::by_name("llama-3.2-1b").expect("preset exists");
    vec![
        by_flops(f32w(Kernel::Gemm {
            m: 2048,
            n: 2048,
            k: 2048,
        })),
        by_bytes(f32w(Kernel::Gemv { n: 4096, k: 4096 })),
        by_bytes(f32w(Kernel::Softmax {
            rows: 32,
            cols: 4096,
        })),
        by_bytes(f32w(Kernel::RmsNorm {
            rows: 64,
            cols: 4096,
        })),
        by_bytes(f32w(Kernel::DecodeAttention(AttentionShape {
            context: 2048,
            q_heads: 32,
            kv_heads: 8,
            head_dim: 128,
        }))),
        by_bytes(f32w(Kernel::StreamTriad { n: 8 << 20 })),
        by_bytes(f32w(Kernel::DecodeStep {
            model,
            context: 1024,
        })),
    ]
}

fn cpu_kernels(c: &mut Criterion) {
    let threads = threads();
    let mut cpu = CpuBackend::new(threads, "bench".into()).expect("CPU backend starts");
    let mut group = c.benchmark_group(format!("cpu_{threads}t"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (w, throughput) in workloads() {
        let inputs = reference::inputs(&w);
        let mut p = cpu.prepare(&w, &inputs).expect("prepare");
        drop(inputs);
        group.throughput(throughput);
        group.bench_function(w.label(), |b| {
            b.iter_custom(|iters| {
                let ns = p.time(iters).expect("kernel runs");
                Duration::from_nanos(ns)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, cpu_kernels);
criterion_main!(benches);
