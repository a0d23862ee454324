//! GPU tests: the cooperative-matrix (tensor core) GEMMs: validation with and without the
//! capability, their indexing checked on lavapipe through plain-WGSL emulation, every variant
//! for real where the adapter has cooperative matrices, and the fallback rule.

use super::*;

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
                        assert_eq!(variant, gpu::unsplit(v).name, "{w}: one slice");
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
                            || (v.split_k && variant == gpu::unsplit(v).name),
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
