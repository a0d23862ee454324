//! Integration tests: kernels_cpu. Every CPU kernel at small, odd (non-multiple-of-tile) and
//! a few realistic shapes, with 1 and 2 worker threads, checked by `reference::check`; and a
//! corrupted output must fail that check.

use crate::common::tiny_model;
use accelbench::backend::Backend;
use accelbench::backend::cpu::{self, CpuBackend};
use accelbench::model::ModelShape;
use accelbench::reference;
use accelbench::results::TimerKind;
use accelbench::workload::{AttentionShape, Dtype, Kernel, Workload};

fn f32w(kernel: Kernel) -> Workload {
    Workload::new(kernel, Dtype::F32)
}

fn gemm(m: u64, n: u64, k: u64) -> Workload {
    f32w(Kernel::Gemm { m, n, k })
}

fn gemv(n: u64, k: u64) -> Workload {
    f32w(Kernel::Gemv { n, k })
}

fn attention(context: u64, q_heads: u64, kv_heads: u64, head_dim: u64) -> Workload {
    f32w(Kernel::DecodeAttention(AttentionShape {
        context,
        q_heads,
        kv_heads,
        head_dim,
    }))
}

/// Odd sizes everywhere: hidden and ffn not multiples of 4 or 8, GQA group of 2.
fn decode_step(model: ModelShape, context: u64) -> Workload {
    f32w(Kernel::DecodeStep { model, context })
}

/// Run `w` on a CPU backend with `threads` workers; returns the output.
fn run(threads: usize, w: &Workload, inputs: &reference::Inputs) -> Vec<f32> {
    let mut cpu = CpuBackend::new(threads, "test cpu".into()).unwrap();
    assert_eq!(cpu.unsupported(w), None, "{w}");
    let mut p = cpu
        .prepare(w, inputs)
        .unwrap_or_else(|e| panic!("{w}: prepare failed: {e:#}"));
    assert_eq!(p.timer(), TimerKind::Wall);
    let first = p.run_and_read().unwrap();
    // Timing runs more invocations (rotating buffer copies); the output must not change.
    let ns = p.time(3).unwrap();
    assert!(ns > 0, "{w}: time(3) returned 0 ns");
    let again = p.run_and_read().unwrap();
    assert_eq!(first, again, "{w}: output changed between invocations");
    first
}

/// Check `w` with 1 and 2 threads against the reference.
fn verify(w: &Workload) {
    let inputs = reference::inputs(w);
    for threads in [1, 2] {
        let out = run(threads, w, &inputs);
        let v = reference::check(w, &inputs, &out);
        assert!(
            v.ok,
            "{w} with {threads} thread(s): max abs error {:.3e} over tolerance {:.3e}",
            v.max_abs_err, v.tolerance
        );
    }
}

#[test]
fn gemm_matches_reference_at_odd_sizes() {
    for w in [
        gemm(1, 1, 1),
        gemm(7, 13, 5),
        gemm(65, 33, 129),
        gemm(1, 300, 17),
        gemm(128, 128, 128),
    ] {
        verify(&w);
    }
}

#[test]
fn gemv_matches_reference_at_odd_sizes() {
    for w in [
        gemv(1, 1),
        gemv(1, 3),
        gemv(37, 129),
        gemv(300, 31),
        gemv(1000, 1030),
    ] {
        verify(&w);
    }
}

#[test]
fn softmax_matches_reference_at_odd_sizes() {
    for (rows, cols) in [(1, 1), (3, 1), (5, 1000), (33, 4096)] {
        verify(&f32w(Kernel::Softmax { rows, cols }));
    }
}

#[test]
fn rmsnorm_matches_reference_at_odd_sizes() {
    for (rows, cols) in [(1, 1), (1, 3), (4, 1001), (65, 4096)] {
        verify(&f32w(Kernel::RmsNorm { rows, cols }));
    }
}

#[test]
fn decode_attention_matches_reference_with_gqa() {
    for context in [1, 17, 513] {
        for head_dim in [8, 128] {
            verify(&attention(context, 4, 2, head_dim));
        }
    }
    // One KV head: positions are split across workers and merged.
    verify(&attention(97, 4, 1, 20));
    // No grouping (multi-head attention).
    verify(&attention(33, 3, 3, 5));
    // Groups of 6 (one tile of four heads and two single heads), head dim 72 (two register
    // tiles of 32 dims and a remainder of 8), positions over two full blocks and a short one.
    verify(&attention(70, 12, 2, 72));
}

#[test]
fn stream_triad_matches_reference() {
    for n in [1, 1001, 70_000] {
        verify(&f32w(Kernel::StreamTriad { n }));
    }
}

#[test]
fn decode_step_matches_reference_for_a_tiny_model() {
    for context in [1, 2, 70] {
        verify(&decode_step(tiny_model(), context));
    }
    let mha = ModelShape {
        name: "tiny-mha".into(),
        kv_heads: 4,
        ..tiny_model()
    };
    verify(&decode_step(mha, 9));
}

#[test]
fn a_corrupted_output_fails_the_check() {
    for w in [
        gemm(7, 13, 5),
        gemv(37, 129),
        f32w(Kernel::Softmax {
            rows: 5,
            cols: 1000,
        }),
        attention(17, 4, 2, 8),
        decode_step(tiny_model(), 5),
    ] {
        let inputs = reference::inputs(&w);
        let mut out = run(2, &w, &inputs);
        assert!(reference::check(&w, &inputs, &out).ok, "{w}: clean output");
        let mid = out.len() / 2;
        out[mid] += 0.5;
        let v = reference::check(&w, &inputs, &out);
        assert!(!v.ok, "{w}: an output off by 0.5 passed ({v:?})");
        assert!(v.max_abs_err >= 0.25, "{w}: {v:?}");
        out[mid] = f32::NAN;
        assert!(!reference::check(&w, &inputs, &out).ok, "{w}: NaN passed");
    }
}

#[test]
fn f16_gemm_and_gemv_match_reference_at_odd_sizes() {
    // f16 storage, f32 accumulation: odd sizes, a GEMV tail of 1-3 rows and of k % 16.
    let f16w = |kernel| Workload::new(kernel, Dtype::F16);
    for (m, n, k) in [(1, 1, 1), (7, 9, 13), (33, 65, 129), (128, 96, 300)] {
        verify(&f16w(Kernel::Gemm { m, n, k }));
    }
    for (n, k) in [(1, 1), (3, 17), (5, 4096), (130, 1000), (4097, 64)] {
        verify(&f16w(Kernel::Gemv { n, k }));
    }
}

#[test]
fn f16_attention_and_decode_step_match_reference() {
    // f16 KV caches (and weights), widened a block at a time; f32 accumulation.
    let f16 = |w: Workload| Workload::new(w.kernel, Dtype::F16);
    for (context, q_heads, kv_heads, head_dim) in [(1, 4, 2, 8), (70, 12, 2, 72), (97, 4, 1, 20)] {
        verify(&f16(attention(context, q_heads, kv_heads, head_dim)));
    }
    for context in [1, 70] {
        verify(&f16(decode_step(tiny_model(), context)));
    }
}

#[test]
fn f16_softmax_and_rmsnorm_match_reference_at_odd_sizes() {
    // f16 in and out, each row widened to f32; more rows than tasks, so blocks split.
    let f16w = |kernel| Workload::new(kernel, Dtype::F16);
    for (rows, cols) in [(1, 1), (3, 999), (37, 65)] {
        verify(&f16w(Kernel::Softmax { rows, cols }));
        verify(&f16w(Kernel::RmsNorm { rows, cols }));
    }
}

#[test]
fn f16_is_reported_unsupported_for_the_stream_triad() {
    let cpu = CpuBackend::new(1, "test cpu".into()).unwrap();
    let w = Workload::new(Kernel::StreamTriad { n: 8 }, Dtype::F16);
    let why = cpu.unsupported(&w).expect("f16 triad is unsupported");
    assert!(why.contains("no f16 kernel for stream_triad"), "{why}");
}

#[test]
fn prepare_rejects_inputs_of_the_wrong_length() {
    let mut cpu = CpuBackend::new(1, "test cpu".into()).unwrap();
    let w = gemv(4, 4);
    let mut inputs = reference::inputs(&w);
    inputs.buffers[1].pop();
    let e = cpu
        .prepare(&w, &inputs)
        .err()
        .expect("a short x is refused");
    assert!(format!("{e:#}").contains("expected input buffers"), "{e:#}");
}

#[test]
fn zero_threads_is_refused() {
    assert!(CpuBackend::new(0, "test cpu".into()).is_err());
}

#[test]
fn devices_report_simd_and_a_peak_with_its_derivation() {
    let features = cpu::simd_features();
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        assert!(features.contains(&"avx2"), "{features:?}");
    }
    #[cfg(target_arch = "aarch64")]
    assert!(features.contains(&"neon"), "{features:?}");
    let (peak, how) = cpu::estimated_peak_gflops(2);
    match peak {
        Some(p) => {
            assert!(p > 0.0 && p.is_finite(), "{p}");
            assert!(
                how.contains("physical core") && how.contains("GHz"),
                "{how}"
            );
        }
        None => assert!(how.contains("not derived"), "{how}"),
    }
}

#[test]
fn attention_shapes_it_cannot_run_are_reported_unsupported() {
    let cpu = CpuBackend::new(1, "test cpu".into()).unwrap();
    let why = cpu
        .unsupported(&attention(8, 3, 2, 4))
        .expect("3 / 2 heads");
    assert!(why.contains("multiple of kv_heads"), "{why}");
    let why = cpu
        .unsupported(&attention(0, 4, 2, 4))
        .expect("empty context");
    assert!(why.contains("at least 1"), "{why}");
    let why = cpu
        .unsupported(&decode_step(tiny_model(), 0))
        .expect("empty context");
    assert!(why.contains("at least 1"), "{why}");
}

fn decode_token(model: ModelShape, context: u64, dtype: Dtype) -> Workload {
    Workload::new(Kernel::DecodeToken { model, context }, dtype)
}

#[test]
fn decode_token_matches_reference_for_the_tiny_model() {
    // Every layer its own weights (a kernel that reused one layer's would not match), the
    // final norm, the LM head over the vocabulary and the argmax.
    for dtype in [Dtype::F32, Dtype::F16] {
        for context in [1, 70] {
            verify(&decode_token(ModelShape::tiny(), context, dtype));
        }
    }
    let mha = ModelShape {
        name: "tiny-mha".into(),
        kv_heads: 4,
        ..tiny_model()
    };
    verify(&decode_token(mha, 9, Dtype::F32));
    let w = decode_token(ModelShape::tiny(), 5, Dtype::F32);
    assert_ne!(reference::token_layer(&w, 0), reference::token_layer(&w, 1));
}

#[test]
fn decode_token_with_a_wrong_token_or_logit_fails_the_check() {
    let w = decode_token(ModelShape::tiny(), 9, Dtype::F32);
    let inputs = reference::inputs(&w);
    let out = run(2, &w, &inputs);
    assert!(reference::check(&w, &inputs, &out).ok);
    let vocab = ModelShape::tiny().vocab as usize;
    assert_eq!(out.len(), vocab + 1);
    let token = out[vocab] as usize;
    let worst = (0..vocab)
        .min_by(|&a, &b| out[a].total_cmp(&out[b]))
        .unwrap();
    assert_ne!(token, worst);
    for bad in [worst as f32, vocab as f32, -1.0, 0.5, f32::NAN] {
        let mut o = out.clone();
        o[vocab] = bad;
        assert!(!reference::check(&w, &inputs, &o).ok, "token {bad} passed");
    }
    let mut o = out.clone();
    o[token] += 0.5;
    assert!(
        !reference::check(&w, &inputs, &o).ok,
        "a logit off by 0.5 passed"
    );
}

#[test]
fn decode_token_counts_are_the_models_whole_step() {
    use accelbench::model::ElemBytes;
    let model = ModelShape::by_name("llama-3.2-1b").unwrap();
    let w = decode_token(model.clone(), 1024, Dtype::F16);
    let e = ElemBytes {
        weight: 2,
        kv: 2,
        activation: 2,
    };
    let work = model.decode_step_work(1, 1024, e);
    assert_eq!(w.flops(), work.flops);
    assert_eq!(w.bytes(), work.bytes());
    // The LM head is in it: more than layers x one decode step.
    let step = Workload::new(
        Kernel::DecodeStep {
            model: model.clone(),
            context: 1024,
        },
        Dtype::F16,
    );
    assert!(w.bytes() > model.layers * step.bytes());
}

#[test]
fn cpu_peak_probes_return_finite_positive_figures_with_sources() {
    let cpu = CpuBackend::new(2, "test cpu".into()).unwrap();
    let p = cpu.peaks();
    let bw = p.gbps.measured.as_ref().expect("a measured bandwidth");
    assert!(bw.value.is_finite() && bw.value > 0.0, "{bw:?}");
    assert!(bw.source.contains("write-allocate"), "{}", bw.source);
    assert!(bw.source.contains("read") && bw.source.contains("triad"));
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        let f = p.gflops.measured.as_ref().expect("a measured FLOP/s");
        assert!(f.value.is_finite() && f.value > 0.0, "{f:?}");
        assert!(f.source.contains("GHz implied"), "{}", f.source);
    }
    if let Some(s) = &p.gflops.spec {
        assert!(s.value.is_finite() && s.value > 0.0);
    }
    assert!(p.gflops.best().is_some() && p.gbps.best().is_some());
    assert!(p.cache_bytes.unwrap_or(0) > 0);
}
