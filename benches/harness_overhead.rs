//! The harness's own cost per recorded sample: `measure::until_stable` driving a kernel that
//! does nothing, so everything measured is bookkeeping (timer reads, recording, the periodic
//! stopping-rule check). Target: under 1 µs per sample. Criterion reports time per element,
//! where one element is one recorded sample.

use std::hint::black_box;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use accelbench::measure::{self, MeasureConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SAMPLES: usize = 10_000;

fn config() -> MeasureConfig {
    MeasureConfig {
        // Never stable and never out of time: exactly SAMPLES samples are recorded.
        target_rel_ci: -1.0,
        max_time: Duration::from_secs(3600),
        warmup: Duration::ZERO,
        min_samples: 10,
        max_samples: SAMPLES,
        min_sample_time: Duration::ZERO,
    }
}

fn overhead(c: &mut Criterion) {
    // Guard: the bench must really record SAMPLES samples, or its per-element figure lies.
    let check = measure::until_stable(&config(), &AtomicBool::new(false), |_| Ok(1000)).unwrap();
    assert_eq!(check.per_invocation_ns.len(), SAMPLES);
    let flag = AtomicBool::new(false);
    let cfg = config();
    let mut g = c.benchmark_group("harness_overhead");
    g.throughput(Throughput::Elements(SAMPLES as u64));
    g.bench_function("until_stable_per_sample_with_wall_timer", |b| {
        b.iter(|| {
            // What a CPU backend's `time` does around the kernel: two clock reads.
            let s = measure::until_stable(&cfg, &flag, |iters| {
                let t = Instant::now();
                black_box(iters);
                Ok(t.elapsed().as_nanos() as u64 + 1000)
            })
            .expect("no error from a no-op kernel");
            black_box(s.per_invocation_ns.len())
        })
    });
    g.bench_function("summarize_and_encode_histogram_per_sample", |b| {
        let samples: Vec<f64> = (0..SAMPLES).map(|i| 1000.0 + (i % 97) as f64).collect();
        b.iter(|| {
            let summary = measure::summarize(black_box(&samples));
            let h = accelbench::results::histogram::encode(black_box(&samples)).expect("encodes");
            black_box((summary, h.len()))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3));
    targets = overhead
}
criterion_main!(benches);
