//! Integration tests: gpu. Every WGSL kernel is validated by naga (no adapter needed), then run
//! on a Vulkan adapter (lavapipe in CI) at small and odd sizes and checked against the
//! reference (Metal or DX12 where there is no Vulkan). Without such an adapter the run tests
//! fail, unless `ACCELBENCH_SKIP_GPU=1` says to skip them; `ACCELBENCH_REQUIRE_GPU=1` (set by
//! `.ci/run`) refuses the skip.

use std::collections::BTreeSet;

use crate::common::tiny_model;
use accelbench::backend::Backend;
use accelbench::backend::gpu::{self, GpuBackend};
use accelbench::reference;
use accelbench::results::TimerKind;
use accelbench::workload::{AttentionShape, Dtype, Kernel, Workload};

mod checks;
mod choices;
mod coop;
mod decode;
mod generated;

/// Index of the adapter the GPU tests run on: the first Vulkan adapter, else the first Metal or
/// DX12 one (GL is not a backend the tests cover). With none, the tests fail, unless
/// `ACCELBENCH_SKIP_GPU=1` says to skip them (and `ACCELBENCH_REQUIRE_GPU=1`, set by `.ci/run`,
/// does not override that with a skip).
fn vulkan_adapter() -> Option<usize> {
    let adapters = gpu::enumerate();
    for backend in ["vulkan", "metal", "dx12"] {
        if let Some(a) = adapters.iter().find(|a| a.backend == backend) {
            return Some(a.index);
        }
    }
    let seen: Vec<String> = adapters
        .iter()
        .map(|a| format!("{} ({})", a.name, a.backend))
        .collect();
    let skip = std::env::var("ACCELBENCH_SKIP_GPU").as_deref() == Ok("1");
    let require = std::env::var("ACCELBENCH_REQUIRE_GPU").as_deref() == Ok("1");
    if !skip || require {
        panic!(
            "wgpu found no Vulkan, Metal or DX12 adapter (saw: {seen:?}); install mesa-vulkan-drivers (lavapipe), or set ACCELBENCH_SKIP_GPU=1 to skip the GPU tests"
        );
    }
    eprintln!(
        "note: no GPU adapter (saw: {seen:?}); ACCELBENCH_SKIP_GPU=1, skipping GPU kernel tests"
    );
    None
}

fn open_vulkan() -> Option<GpuBackend> {
    let index = vulkan_adapter()?;
    Some(GpuBackend::open(index).expect("the Vulkan adapter opens"))
}

#[test]
fn every_wgsl_file_is_registered_and_passes_naga_validation() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels");
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("kernels/ exists") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("wgsl") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let src = std::fs::read_to_string(&path).unwrap();
        let module = naga::front::wgsl::parse_str(&src).unwrap_or_else(|e| {
            panic!(
                "{}",
                e.emit_to_string_with_path(&src, &path.display().to_string())
            )
        });
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::all(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("kernels/{name}.wgsl is invalid: {e:?}"));
        on_disk.insert(name);
    }
    let registered: BTreeSet<String> = gpu::KERNELS.iter().map(|k| k.name.to_string()).collect();
    assert_eq!(on_disk, registered, "kernels/ and gpu::KERNELS disagree");
    for k in gpu::KERNELS {
        assert_eq!(k.needs_f16, k.source.contains("enable f16;"), "{}", k.name);
        assert_eq!(
            k.needs_subgroup,
            k.source.contains("subgroupAdd"),
            "{}",
            k.name
        );
        assert_eq!(
            k.needs_coop,
            k.source.contains("enable wgpu_cooperative_matrix;"),
            "{}",
            k.name
        );
    }
}

#[test]
fn kernels_with_subgroups_fail_validation_without_the_capability() {
    // Guards the fallback: the shared-memory GEMV must not need subgroups, the other must.
    for k in gpu::KERNELS {
        let module = naga::front::wgsl::parse_str(k.source).unwrap();
        let caps = naga::valid::Capabilities::all()
            - naga::valid::Capabilities::SUBGROUP
            - naga::valid::Capabilities::SUBGROUP_BARRIER;
        let ok = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
            .validate(&module)
            .is_ok();
        assert_eq!(ok, !k.needs_subgroup, "{}", k.name);
    }
}

/// A decode-attention workload.
fn attention(context: u64, q_heads: u64, kv_heads: u64, head_dim: u64, d: Dtype) -> Workload {
    Workload::new(
        Kernel::DecodeAttention(AttentionShape {
            context,
            q_heads,
            kv_heads,
            head_dim,
        }),
        d,
    )
}

fn small_workloads() -> Vec<Workload> {
    use Dtype::{F16, F32};
    let gemm = |m, n, k, d| Workload::new(Kernel::Gemm { m, n, k }, d);
    let gemv = |n, k, d| Workload::new(Kernel::Gemv { n, k }, d);
    let att =
        |context, q_heads, kv_heads, head_dim| attention(context, q_heads, kv_heads, head_dim, F32);
    vec![
        gemm(1, 1, 1, F32),
        gemm(5, 7, 3, F32),
        gemm(64, 64, 64, F32),
        gemm(67, 130, 45, F32),
        gemm(257, 261, 131, F32),
        // Enough 128 x 128 tiles (17 x 16) to take the large-tile kernel, with ragged edges.
        gemm(2049, 2047, 5, F32),
        gemm(33, 17, 29, F16),
        gemm(64, 128, 64, F16),
        // Past one 128 x 128 tile of the cooperative-matrix kernel in every dimension, ragged,
        // k not a multiple of its 32-deep steps (on adapters without it: the tiled fallback).
        gemm(131, 261, 70, F16),
        gemv(1, 1, F32),
        gemv(7, 5, F32),
        gemv(300, 257, F32),
        gemv(33, 45, F16),
        gemv(128, 1030, F16),
        Workload::new(Kernel::Softmax { rows: 1, cols: 1 }, F32),
        Workload::new(
            Kernel::Softmax {
                rows: 3,
                cols: 1000,
            },
            F32,
        ),
        Workload::new(Kernel::RmsNorm { rows: 1, cols: 3 }, F32),
        Workload::new(
            Kernel::RmsNorm {
                rows: 4,
                cols: 1001,
            },
            F32,
        ),
        att(1, 2, 1, 8),
        att(130, 4, 2, 20),
        att(64, 8, 8, 64),
        Workload::new(Kernel::StreamTriad { n: 1 }, F32),
        Workload::new(Kernel::StreamTriad { n: 1001 }, F32),
        Workload::new(
            Kernel::DecodeStep {
                model: tiny_model(),
                context: 70,
            },
            F32,
        ),
        // The whole tiny model: every layer its own buffers, LM head, argmax.
        Workload::new(
            Kernel::DecodeToken {
                model: accelbench::model::ModelShape::tiny(),
                context: 70,
            },
            F32,
        ),
    ]
}

/// The f16 softmax, RMSNorm, attention and decode kernels (f16 storage, f32 arithmetic) at
/// small and odd sizes; run on every adapter with SHADER_F16.
fn small_f16_workloads() -> Vec<Workload> {
    let f16 = |k| Workload::new(k, Dtype::F16);
    vec![
        f16(Kernel::Softmax { rows: 1, cols: 1 }),
        f16(Kernel::Softmax { rows: 3, cols: 999 }),
        f16(Kernel::RmsNorm { rows: 1, cols: 3 }),
        f16(Kernel::RmsNorm {
            rows: 5,
            cols: 1001,
        }),
        attention(1, 2, 1, 8, Dtype::F16),
        attention(131, 4, 2, 21, Dtype::F16),
        attention(65, 3, 3, 7, Dtype::F16),
        f16(Kernel::DecodeStep {
            model: tiny_model(),
            context: 69,
        }),
        f16(Kernel::DecodeToken {
            model: accelbench::model::ModelShape::tiny(),
            context: 33,
        }),
    ]
}

/// Run `w` on `gpu` and check it against the reference; returns a description on failure.
fn verify(gpu: &mut GpuBackend, w: &Workload) -> Result<(), String> {
    if let Some(why) = gpu.unsupported(w) {
        return Err(format!("{w}: unexpectedly unsupported: {why}"));
    }
    let inputs = reference::inputs(w);
    let mut p = gpu
        .prepare(w, &inputs)
        .map_err(|e| format!("{w}: prepare failed: {e:#}"))?;
    let out = p
        .run_and_read()
        .map_err(|e| format!("{w}: run failed: {e:#}"))?;
    let v = reference::check(w, &inputs, &out);
    if v.ok {
        eprintln!(
            "{w}: ok, max abs error {:.2e} (tolerance {:.2e})",
            v.max_abs_err, v.tolerance
        );
        Ok(())
    } else {
        Err(format!(
            "{w}: max abs error {:.3e} over tolerance {:.3e}",
            v.max_abs_err, v.tolerance
        ))
    }
}

#[test]
fn every_kernel_matches_the_reference_at_small_and_odd_sizes() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    let mut failures = Vec::new();
    for w in small_workloads() {
        if let Err(e) = verify(&mut gpu, &w) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn gemv_and_decode_step_match_the_reference_with_the_shared_memory_fallback() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    gpu.set_use_subgroups(false);
    let mut failures = Vec::new();
    let all = small_workloads().into_iter().chain(small_f16_workloads());
    for w in all.filter(|w| {
        matches!(
            w.kernel,
            Kernel::Gemv { .. } | Kernel::DecodeStep { .. } | Kernel::DecodeToken { .. }
        )
    }) {
        if let Err(e) = verify(&mut gpu, &w) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn gemv_with_more_rows_than_one_grid_dimension_is_correct() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    let rows = gpu.info().max_compute_workgroups_per_dimension as u64 + 5;
    let w = Workload::new(Kernel::Gemv { n: rows, k: 3 }, Dtype::F32);
    verify(&mut gpu, &w).unwrap();
}

#[test]
fn both_timers_return_positive_times_and_say_which_they_are() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    let w = Workload::new(Kernel::StreamTriad { n: 4096 }, Dtype::F32);
    let inputs = reference::inputs(&w);
    let has_ts = gpu.info().features.iter().any(|f| f == "TIMESTAMP_QUERY");
    {
        let mut p = gpu.prepare(&w, &inputs).unwrap();
        let expected = if has_ts {
            TimerKind::GpuTimestamp
        } else {
            TimerKind::Wall
        };
        assert_eq!(p.timer(), expected);
        assert!(p.time(3).unwrap() > 0);
    }
    gpu.set_use_timestamps(false);
    let mut p = gpu.prepare(&w, &inputs).unwrap();
    assert_eq!(p.timer(), TimerKind::Wall);
    assert!(p.time(3).unwrap() > 0);
}

#[test]
fn a_workload_over_the_adapter_limits_is_refused_by_name_and_others_still_run() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    let limit = gpu
        .info()
        .max_storage_buffer_binding_size
        .min(gpu.info().max_buffer_size);
    let k = 4096;
    let n = limit / (4 * k) + 1;
    let big = Workload::new(Kernel::Gemv { n, k }, Dtype::F32);
    let why = gpu
        .unsupported(&big)
        .expect("an over-limit GEMV is refused");
    assert!(
        why.contains("max_storage_buffer_binding_size") || why.contains("max_buffer_size"),
        "{why}"
    );
    assert!(why.contains("W (n x k)"), "{why}");
    // prepare refuses it too, without allocating.
    let small_inputs = reference::inputs(&Workload::new(Kernel::Gemv { n: 1, k: 1 }, Dtype::F32));
    let err = gpu
        .prepare(&big, &small_inputs)
        .err()
        .expect("prepare refuses");
    assert!(format!("{err:#}").contains("allows at most"), "{err:#}");
    // The same backend still measures a workload that fits.
    let ok = Workload::new(Kernel::Gemv { n: 64, k: 64 }, Dtype::F32);
    verify(&mut gpu, &ok).unwrap();
}

#[test]
fn f16_softmax_rmsnorm_attention_and_decode_match_the_reference_on_every_f16_adapter() {
    // Fails (rather than skips) without a Vulkan, Metal or DX12 adapter, as the other tests.
    if vulkan_adapter().is_none() {
        return;
    }
    let mut ran = 0;
    let mut failures = Vec::new();
    for a in gpu::enumerate() {
        if !a.features.iter().any(|f| f == "SHADER_F16") {
            eprintln!("{} ({}): no SHADER_F16, skipped", a.name, a.backend);
            continue;
        }
        let mut gpu = GpuBackend::open(a.index).expect("the adapter opens");
        for w in small_f16_workloads() {
            if let Err(e) = verify(&mut gpu, &w) {
                failures.push(format!("{} ({}): {e}", a.name, a.backend));
            }
        }
        ran += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("f16 kernels verified on {ran} adapter(s)");
}

#[test]
fn f16_is_refused_for_kernels_without_an_f16_gpu_kernel() {
    let Some(gpu) = open_vulkan() else {
        return;
    };
    let w = Workload::new(Kernel::StreamTriad { n: 8 }, Dtype::F16);
    let why = gpu.unsupported(&w).expect("refused");
    assert!(why.contains("f16"), "{why}");
}

#[test]
fn device_record_has_measured_peaks_and_flags_software_adapters() {
    let Some(gpu) = open_vulkan() else {
        return;
    };
    let rec = gpu.record();
    assert_eq!(rec.backend, "vulkan");
    assert!(rec.peak_gbps.unwrap_or(0.0) > 0.0, "{}", rec.peak_source);
    assert!(rec.peak_gflops.unwrap_or(0.0) > 0.0, "{}", rec.peak_source);
    let peaks = rec.peaks.as_ref().expect("schema 2 peaks");
    let measured = peaks.gbps.measured.as_ref().expect("measured bandwidth");
    assert!(measured.value.is_finite() && measured.value > 0.0);
    assert!(
        measured.source.contains("copy kernel"),
        "{}",
        measured.source
    );
    let fma = peaks.gflops.measured.as_ref().expect("measured FLOP/s");
    assert!(fma.value.is_finite() && fma.value > 0.0);
    assert!(peaks.cache_bytes.unwrap_or(0) > 0, "{}", peaks.cache_source);
    // The dispatch probe checked its chain's count before timing it.
    let dispatch = rec.dispatch_ns.as_ref().expect("dispatch probe");
    assert!(dispatch.value.is_finite() && dispatch.value > 0.0);
    assert!(
        dispatch.source.contains("256 dependent dispatches"),
        "{}",
        dispatch.source
    );
    if gpu.info().software {
        assert_eq!(rec.device_type.as_deref(), Some("cpu"));
        assert!(rec.peak_source.contains("not GPU performance"));
    }
}

#[test]
fn every_quick_suite_workload_verifies_on_the_vulkan_adapter() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    let suite = accelbench::suite::by_name("quick").unwrap();
    let mut failures = Vec::new();
    for w in &suite.workloads {
        if gpu.unsupported(w).is_some() {
            continue;
        }
        if let Err(e) = verify(&mut gpu, w) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn memory_bound_plans_rotate_copies_past_the_l2_and_stay_correct() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    let w = Workload::new(Kernel::Gemv { n: 300, k: 257 }, Dtype::F32);
    let inputs = reference::inputs(&w);
    let mut p = gpu.prepare(&w, &inputs).unwrap();
    // 300 x 260 f32 weights are far smaller than any L2: the plan keeps several copies.
    assert!(p.copies() > 1, "{}", p.copies());
    let first = p.run_and_read().unwrap();
    assert!(p.time(3).unwrap() > 0);
    assert!(p.time(2).unwrap() > 0);
    assert_eq!(first, p.run_and_read().unwrap());
    assert!(reference::check(&w, &inputs, &first).ok);
}
