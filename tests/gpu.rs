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
fn cooperative_matrix_kernels_need_the_capability_and_compile_to_spirv() {
    let coop: Vec<_> = gpu::KERNELS.iter().filter(|k| k.needs_coop).collect();
    assert!(
        !coop.is_empty(),
        "the cooperative-matrix GEMMs are registered"
    );
    for k in gpu::KERNELS {
        let module = naga::front::wgsl::parse_str(k.source).unwrap();
        let without =
            naga::valid::Capabilities::all() - naga::valid::Capabilities::COOPERATIVE_MATRIX;
        let ok = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), without)
            .validate(&module)
            .is_ok();
        assert_eq!(ok, !k.needs_coop, "{}", k.name);
    }
    for v in gpu::COOP_GEMMS {
        assert!(
            coop.iter().any(|k| k.name == v.name),
            "{} is registered as a cooperative-matrix kernel",
            v.name
        );
    }
    for k in coop {
        // What wgpu's Vulkan backend does with it: validate with the capabilities a Vulkan
        // adapter with cooperative matrices grants, then write SPIR-V.
        let module = naga::front::wgsl::parse_str(k.source).unwrap();
        let caps = naga::valid::Capabilities::COOPERATIVE_MATRIX
            | naga::valid::Capabilities::SHADER_FLOAT16;
        let info = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
            .validate(&module)
            .unwrap_or_else(|e| panic!("kernels/{}.wgsl: {e:?}", k.name));
        let options = naga::back::spv::Options {
            lang_version: (1, 4),
            ..Default::default()
        };
        let words = naga::back::spv::write_vec(&module, &info, &options, None)
            .unwrap_or_else(|e| panic!("kernels/{}.wgsl to SPIR-V: {e:?}", k.name));
        assert_eq!(words[0], 0x0723_0203, "SPIR-V magic number");
    }
}

#[test]
fn emulated_cooperative_matrix_kernels_validate_without_the_capability() {
    for k in gpu::KERNELS.iter().filter(|k| k.needs_coop) {
        let src = gpu::emulate_coop(k.source).unwrap_or_else(|e| panic!("{}: {e:#}", k.name));
        let module = naga::front::wgsl::parse_str(&src)
            .unwrap_or_else(|e| panic!("emulated {}: {}", k.name, e.emit_to_string(&src)));
        let caps = naga::valid::Capabilities::all() - naga::valid::Capabilities::COOPERATIVE_MATRIX;
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
            .validate(&module)
            .unwrap_or_else(|e| panic!("emulated {}: {e:?}", k.name));
    }
    // Anything the translation does not know is an error, not a silently real kernel.
    assert!(gpu::emulate_coop("enable f16;\nfn main() {}\n").is_err());
}

/// Each cooperative-matrix GEMM, its cooperative-matrix operations emulated in plain WGSL,
/// through the real plan (grid, split-K partials and the reduce kernel) on lavapipe: checks the
/// generated indexing at ragged shapes before a GPU with tensor cores runs it.
#[test]
fn every_cooperative_matrix_gemm_emulated_matches_the_reference_at_ragged_shapes() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    if !gpu.info().features.iter().any(|f| f == "SHADER_F16") {
        eprintln!("no SHADER_F16: nothing to check");
        return;
    }
    if gpu::coop_fallback(gpu.info()).is_none() {
        eprintln!("the adapter has cooperative matrices: the real kernels are tested instead");
        return;
    }
    let gemm = |m, n, k| Workload::new(Kernel::Gemm { m, n, k }, Dtype::F16);
    let mut failures = Vec::new();
    for v in gpu::COOP_GEMMS {
        gpu.set_coop_emulation(Some(v.name)).unwrap();
        // Past one tile in m and n, ragged; K not a multiple of the K tile (odd tile counts
        // for the two-tiles-per-iteration kernels).
        // k = 130: 3 K tiles of 64, 5 of 32 (an odd last tile for the two-tile loops).
        let mut shapes = vec![gemm(131, 261, 70), gemm(67, 129, 130), gemm(5, 3, 7)];
        if v.split_k {
            // 9 K tiles in 5 slices of 2 (the last of one partial tile); 4 slices of one; 3 x 2
            // tiles of C in 5 slices of one.
            shapes = vec![
                gemm(33, 40, 570),
                gemm(130, 7, 200),
                gemm(257, 130, 300),
                gemm(5, 3, 7),
            ];
        }
        for w in &shapes {
            let (m, n, k) = match w.kernel {
                Kernel::Gemm { m, n, k } => (m, n, k),
                _ => unreachable!(),
            };
            let inputs = reference::inputs(w);
            match gpu.prepare(w, &inputs) {
                Ok(p) => {
                    let variant = p.variant().unwrap_or_default();
                    let note = p.note().unwrap_or_default();
                    assert!(note.contains("emulated"), "{w}: {note}");
                    let s = gpu::split_k(m, n, k, v, u64::MAX);
                    if v.split_k && s.splits > 1 {
                        assert_eq!(variant, format!("{}+{}", v.name, gpu::SPLITK_REDUCE), "{w}");
                        assert!(
                            note.contains(&format!("split-K: {} slices", s.splits)),
                            "{w}: {note}"
                        );
                    } else if v.split_k {
                        assert_eq!(variant, "gemm_f16_coop_k64", "{w}: one slice");
                    } else {
                        assert_eq!(variant, v.name, "{w}");
                    }
                }
                Err(e) => failures.push(format!("{}: {w}: prepare failed: {e:#}", v.name)),
            }
            if let Err(e) = verify(&mut gpu, w) {
                failures.push(format!("{} (emulated): {e}", v.name));
            }
        }
    }
    gpu.set_coop_emulation(None).unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// On an adapter with cooperative matrices (not lavapipe): every variant, for real, at ragged
/// shapes, split-K with several slices; the variant that ran is the one asked for.
#[test]
fn every_cooperative_matrix_gemm_matches_the_reference_where_the_adapter_has_them() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    if let Some(why) = gpu::coop_fallback(gpu.info()) {
        eprintln!("no cooperative-matrix GEMM here ({why}); the emulated test covers the indexing");
        return;
    }
    let gemm = |m, n, k| Workload::new(Kernel::Gemm { m, n, k }, Dtype::F16);
    let mut failures = Vec::new();
    for v in gpu::COOP_GEMMS {
        gpu.set_coop_variant(Some(v.name)).unwrap();
        let shapes = [
            gemm(131, 261, 70),
            gemm(5, 3, 7),
            gemm(33, 40, 570),
            gemm(257, 300, 1000),
            // 2 x 3 tiles of C, 32 K tiles: 8 slices of split-K.
            gemm(256, 520, 2048),
        ];
        for w in &shapes {
            let inputs = reference::inputs(w);
            match gpu.prepare(w, &inputs) {
                Ok(p) => {
                    let variant = p.variant().unwrap_or_default();
                    assert!(
                        variant.starts_with(v.name)
                            || (v.split_k && variant == "gemm_f16_coop_k64"),
                        "{w}: asked for {}, ran {variant}",
                        v.name
                    );
                }
                Err(e) => failures.push(format!("{}: {w}: prepare failed: {e:#}", v.name)),
            }
            if let Err(e) = verify(&mut gpu, w) {
                failures.push(format!("{}: {e}", v.name));
            }
        }
    }
    gpu.set_coop_variant(None).unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn f16_gemm_on_an_adapter_without_cooperative_matrices_runs_the_tiled_fallback_and_says_so() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    let w = Workload::new(
        Kernel::Gemm {
            m: 33,
            n: 17,
            k: 29,
        },
        Dtype::F16,
    );
    let inputs = reference::inputs(&w);
    let fallback = gpu::coop_fallback(gpu.info());
    let p = gpu.prepare(&w, &inputs).expect("f16 GEMM prepares");
    match fallback {
        Some(why) => {
            assert_eq!(p.variant().as_deref(), Some("gemm_f16_tiled"));
            let note = p.note().expect("the row says why the fallback ran");
            assert_eq!(note, why);
            assert!(
                note.contains("fallback") || note.contains("ACCELBENCH_"),
                "{note}"
            );
        }
        None => {
            let v = p.variant().unwrap_or_default();
            assert!(v.starts_with("gemm_f16_coop_"), "{v}");
            if v.contains("splitk") {
                // ACCELBENCH_GEMM_F16=gemm_f16_coop_k64_splitk: the note gives the split.
                let note = p.note().unwrap_or_default();
                assert!(note.contains("split-K"), "{note}");
            } else {
                assert_eq!(p.note(), None, "no fallback, nothing to explain");
            }
        }
    }
}

#[test]
fn the_cooperative_matrix_gemm_is_chosen_only_where_the_adapter_lists_its_configuration() {
    let mut info = gpu::AdapterInfo {
        index: 1,
        name: "NVIDIA H200".into(),
        backend: "vulkan".into(),
        device_type: "discrete".into(),
        driver: "test".into(),
        features: vec!["SHADER_F16".into(), "SUBGROUP".into()],
        max_storage_buffer_binding_size: 1 << 32,
        max_buffer_size: 1 << 40,
        max_compute_workgroups_per_dimension: 65535,
        subgroup_sizes: Some((32, 32)),
        software: false,
        cooperative_matrix: Vec::new(),
        state_source: None,
    };
    if std::env::var_os("ACCELBENCH_GEMM_F16").is_some()
        || std::env::var_os("ACCELBENCH_NO_COOP").is_some()
    {
        return; // the overrides are the user's to set; this test checks the rule without them
    }
    let why = gpu::coop_fallback(&info).expect("no feature: fallback");
    assert!(why.contains("EXPERIMENTAL_COOPERATIVE_MATRIX"), "{why}");
    info.features.push("EXPERIMENTAL_COOPERATIVE_MATRIX".into());
    info.cooperative_matrix = vec!["8x8x8 f32->f32".into()];
    let why = gpu::coop_fallback(&info).expect("only 8x8 f32 listed: fallback");
    assert!(
        why.contains(gpu::COOP_CONFIG) && why.contains("8x8x8 f32->f32"),
        "{why}"
    );
    info.cooperative_matrix.push(gpu::COOP_CONFIG.into());
    assert_eq!(gpu::coop_fallback(&info), None);
    info.subgroup_sizes = Some((32, 64));
    let why = gpu::coop_fallback(&info).expect("subgroups of 64 possible: fallback");
    assert!(why.contains("32"), "{why}");
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
fn the_grouped_f16_attention_kernel_matches_the_reference_alone_and_inside_the_decode_paths() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    if !gpu.info().features.iter().any(|f| f == "SHADER_F16") {
        eprintln!("no SHADER_F16: nothing to check");
        return;
    }
    gpu.set_attention_gqa(true);
    // head_dim a multiple of 4 (the kernel reads vec4s); groups of 1, 2, 3 and 8 query heads;
    // contexts of one position, a ragged last split and several splits.
    let gqa_model = accelbench::model::ModelShape {
        name: "tiny-gqa".to_string(),
        layers: 2,
        hidden: 30,
        q_heads: 6,
        kv_heads: 2,
        head_dim: 8,
        ffn: 51,
        vocab: 100,
        tied_embeddings: true,
    };
    let workloads = vec![
        attention(1, 2, 1, 8, Dtype::F16),
        attention(131, 4, 2, 20, Dtype::F16),
        attention(65, 3, 3, 4, Dtype::F16),
        attention(200, 8, 1, 12, Dtype::F16),
        Workload::new(
            Kernel::DecodeStep {
                model: gqa_model.clone(),
                context: 69,
            },
            Dtype::F16,
        ),
        Workload::new(
            Kernel::DecodeToken {
                model: gqa_model,
                context: 33,
            },
            Dtype::F16,
        ),
    ];
    let mut failures = Vec::new();
    for w in &workloads {
        let inputs = reference::inputs(w);
        match gpu.prepare(w, &inputs) {
            Ok(p) => assert!(
                p.variant()
                    .unwrap_or_default()
                    .contains("attention_decode_split_f16_gqa"),
                "{w}: {:?}",
                p.variant()
            ),
            Err(e) => failures.push(format!("{w}: prepare failed: {e:#}")),
        }
        if let Err(e) = verify(&mut gpu, w) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
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

/// Decode workloads for the fused layer: the tiny models in f32 and f16, and a layer whose
/// hidden size and FFN width (1030, 1101) take every invocation of the fused kernels' 256-wide
/// workgroups through their strided loop more than once, neither a multiple of 4.
fn fused_decode_workloads(f16: bool) -> Vec<Workload> {
    let wide = accelbench::model::ModelShape {
        name: "wide-odd".to_string(),
        layers: 1,
        hidden: 1030,
        q_heads: 4,
        kv_heads: 2,
        head_dim: 8,
        ffn: 1101,
        vocab: 300,
        tied_embeddings: true,
    };
    let mut dtypes = vec![Dtype::F32];
    if f16 {
        dtypes.push(Dtype::F16);
    }
    let mut v = Vec::new();
    for d in dtypes {
        v.push(Workload::new(
            Kernel::DecodeStep {
                model: tiny_model(),
                context: 70,
            },
            d,
        ));
        v.push(Workload::new(
            Kernel::DecodeToken {
                model: accelbench::model::ModelShape::tiny(),
                context: 33,
            },
            d,
        ));
        v.push(Workload::new(
            Kernel::DecodeStep {
                model: wide.clone(),
                context: 5,
            },
            d,
        ));
    }
    v
}

#[test]
fn the_fused_decode_layer_matches_the_reference_with_and_without_subgroups() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    let f16 = gpu.info().features.iter().any(|f| f == "SHADER_F16");
    let subgroups = gpu.info().features.iter().any(|f| f == "SUBGROUP");
    gpu.set_decode_fused(true);
    let mut failures = Vec::new();
    for (use_subgroups, reduction) in [(true, "subgroup"), (false, "shared")] {
        if use_subgroups && !subgroups {
            continue;
        }
        gpu.set_use_subgroups(use_subgroups);
        for w in fused_decode_workloads(f16) {
            let d = if w.dtype == Dtype::F16 { "f16" } else { "f32" };
            let inputs = reference::inputs(&w);
            match gpu.prepare(&w, &inputs) {
                Ok(p) => {
                    let v = p.variant().unwrap_or_default();
                    let norm = format!("gemv_norm_{d}_{reduction}");
                    let mlp = format!("gemv_gate_up_silu_{d}_{reduction}");
                    assert!(v.starts_with(&norm), "{w}: {v}");
                    assert!(v.contains(&mlp), "{w}: {v}");
                    assert!(
                        !v.contains("rmsnorm") && !v.contains("silu_mul"),
                        "{w}: {v}"
                    );
                }
                Err(e) => failures.push(format!("{w}: prepare failed: {e:#}")),
            }
            if let Err(e) = verify(&mut gpu, &w) {
                failures.push(format!("{reduction}: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_fused_decode_layer_with_grouped_attention_matches_the_reference_in_f16() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    if !gpu.info().features.iter().any(|f| f == "SHADER_F16") {
        eprintln!("no SHADER_F16: nothing to check");
        return;
    }
    gpu.set_decode_fused(true);
    gpu.set_attention_gqa(true);
    let model = accelbench::model::ModelShape {
        name: "tiny-gqa".to_string(),
        layers: 2,
        hidden: 30,
        q_heads: 6,
        kv_heads: 2,
        head_dim: 8,
        ffn: 51,
        vocab: 100,
        tied_embeddings: true,
    };
    for w in [
        Workload::new(
            Kernel::DecodeStep {
                model: model.clone(),
                context: 69,
            },
            Dtype::F16,
        ),
        Workload::new(Kernel::DecodeToken { model, context: 33 }, Dtype::F16),
    ] {
        let inputs = reference::inputs(&w);
        let v = gpu.prepare(&w, &inputs).unwrap().variant().unwrap();
        assert!(
            v.contains("gemv_norm_f16_") && v.contains("attention_decode_split_f16_gqa"),
            "{w}: {v}"
        );
        verify(&mut gpu, &w).unwrap();
    }
}

#[test]
fn the_fused_decode_layer_is_7_dispatches_and_the_default_11() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    let step = Workload::new(
        Kernel::DecodeStep {
            model: tiny_model(),
            context: 70,
        },
        Dtype::F32,
    );
    let model = accelbench::model::ModelShape::tiny();
    let layers = model.layers as usize;
    let token = Workload::new(Kernel::DecodeToken { model, context: 33 }, Dtype::F32);
    let (step_in, token_in) = (reference::inputs(&step), reference::inputs(&token));
    let count = |gpu: &GpuBackend, w: &Workload, inputs: &reference::Inputs| {
        gpu.dispatch_count(w, inputs).unwrap()
    };
    gpu.set_decode_fused(false);
    assert_eq!(count(&gpu, &step, &step_in), 11);
    // Every layer, then the final RMSNorm, the LM head GEMV and the argmax.
    assert_eq!(count(&gpu, &token, &token_in), 11 * layers + 3);
    gpu.set_decode_fused(true);
    assert_eq!(count(&gpu, &step, &step_in), 7);
    // Every layer, then the final norm fused into the LM head GEMV, and the argmax.
    assert_eq!(count(&gpu, &token, &token_in), 7 * layers + 2);
}

/// The GEMV family (`gemv`, `gemv_norm` and `gemv_gate_up_silu`, f32 and f16, subgroup and
/// shared) is written by `scripts/gen_gemv.py`, not by hand: each of those files says so on its
/// first line, and where `python3` is found the generator, run into a temporary directory,
/// writes exactly the files in kernels/, byte for byte.
#[test]
fn the_gemv_kernels_are_what_scripts_gen_gemv_py_writes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = "// Generated by scripts/gen_gemv.py";
    let wgsl_files = |dir: &std::path::Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("wgsl"))
            .map(|p| {
                let name = p.file_name().unwrap().to_str().unwrap().to_string();
                (name, std::fs::read(&p).unwrap())
            })
            .collect();
        v.sort();
        v
    };
    let checked_in: Vec<_> = wgsl_files(&root.join("kernels"))
        .into_iter()
        .filter(|(name, src)| name.starts_with("gemv") || src.starts_with(header.as_bytes()))
        .collect();
    for (name, src) in &checked_in {
        assert!(
            name.starts_with("gemv") && src.starts_with(header.as_bytes()),
            "kernels/{name}: the GEMV family, and only it, starts with `{header}`"
        );
    }
    assert_eq!(checked_in.len(), 12, "the GEMV family is 12 files");

    let out = tempfile::tempdir().unwrap();
    let run = std::process::Command::new("python3")
        .arg(root.join("scripts/gen_gemv.py"))
        .arg(out.path())
        .output();
    let run = match run {
        Ok(run) => run,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("note: no python3 ({e}); not checking kernels/gemv_* against the generator");
            return;
        }
        Err(e) => panic!("python3 scripts/gen_gemv.py: {e}"),
    };
    assert!(
        run.status.success(),
        "python3 scripts/gen_gemv.py failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let generated = wgsl_files(out.path());
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&generated),
        names(&checked_in),
        "files written vs in kernels/"
    );
    for ((name, want), (_, have)) in generated.iter().zip(&checked_in) {
        assert!(
            want == have,
            "kernels/{name} is not what scripts/gen_gemv.py writes: change the generator, not the \
             file, and run `python3 scripts/gen_gemv.py kernels`"
        );
    }
}

/// The f32/f16 pairs (`softmax`, `rmsnorm`, `attention_decode_split`, `attention_decode_reduce`,
/// `kv_append`, `silu_mul`, `argmax`) are written by `scripts/gen_pairs.py`, one template per
/// kernel parameterised by the storage type, not by hand: each of those files says so on its
/// first line, and where `python3` is found the generator, run into a temporary directory,
/// writes exactly the files in kernels/, byte for byte.
#[test]
fn the_f32_f16_kernel_pairs_are_what_scripts_gen_pairs_py_writes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = "// Generated by scripts/gen_pairs.py";
    let pairs = [
        "argmax_f16.wgsl",
        "argmax_f32.wgsl",
        "attention_decode_reduce.wgsl",
        "attention_decode_reduce_f16.wgsl",
        "attention_decode_split.wgsl",
        "attention_decode_split_f16.wgsl",
        "kv_append.wgsl",
        "kv_append_f16.wgsl",
        "rmsnorm_f16.wgsl",
        "rmsnorm_f32.wgsl",
        "silu_mul.wgsl",
        "silu_mul_f16.wgsl",
        "softmax_f16.wgsl",
        "softmax_f32.wgsl",
    ];
    let wgsl_files = |dir: &std::path::Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("wgsl"))
            .map(|p| {
                let name = p.file_name().unwrap().to_str().unwrap().to_string();
                (name, std::fs::read(&p).unwrap())
            })
            .collect();
        v.sort();
        v
    };
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    let checked_in: Vec<_> = wgsl_files(&root.join("kernels"))
        .into_iter()
        .filter(|(name, src)| pairs.contains(&name.as_str()) || src.starts_with(header.as_bytes()))
        .collect();
    assert_eq!(
        names(&checked_in),
        pairs,
        "the f32/f16 pairs in kernels/ are these 14 files"
    );
    for (name, src) in &checked_in {
        assert!(
            pairs.contains(&name.as_str()) && src.starts_with(header.as_bytes()),
            "kernels/{name}: the f32/f16 pairs, and only they, start with `{header}`"
        );
    }

    let out = tempfile::tempdir().unwrap();
    let run = std::process::Command::new("python3")
        .arg(root.join("scripts/gen_pairs.py"))
        .arg(out.path())
        .output();
    let run = match run {
        Ok(run) => run,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "note: no python3 ({e}); not checking the f32/f16 pairs against the generator"
            );
            return;
        }
        Err(e) => panic!("python3 scripts/gen_pairs.py: {e}"),
    };
    assert!(
        run.status.success(),
        "python3 scripts/gen_pairs.py failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let generated = wgsl_files(out.path());
    assert_eq!(
        names(&generated),
        names(&checked_in),
        "files written vs in kernels/"
    );
    for ((name, want), (_, have)) in generated.iter().zip(&checked_in) {
        assert!(
            want == have,
            "kernels/{name} is not what scripts/gen_pairs.py writes: change the generator, not the \
             file, and run `python3 scripts/gen_pairs.py kernels`"
        );
    }
}
