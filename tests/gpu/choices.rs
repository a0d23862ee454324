//! GPU tests: the kernel choices `run` times against each other (`run/tune.rs`): which a
//! workload has, that each verifies, that choosing one runs its kernels and that `None`
//! restores the default. Timings on lavapipe mean nothing, so there `Backend::choices` offers
//! none; `kernel_choices` lists them regardless.

use super::*;

fn step(model: accelbench::model::ModelShape, d: Dtype) -> Workload {
    Workload::new(Kernel::DecodeStep { model, context: 70 }, d)
}

#[test]
fn decode_and_attention_choices_each_verify_and_run_their_kernels() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    assert!(gpu.info().software || !gpu.choices(&step(tiny_model(), Dtype::F32)).is_empty());
    if gpu.info().software {
        assert!(
            gpu.choices(&step(tiny_model(), Dtype::F32)).is_empty(),
            "a software adapter's timings choose nothing"
        );
    }
    let mut failures = Vec::new();
    let mut cases = vec![(step(tiny_model(), Dtype::F32), vec!["unfused", "fused"])];
    if gpu.info().features.iter().any(|f| f == "SHADER_F16") {
        // head_dim 6: the grouped kernel does not apply.
        cases.push((step(tiny_model(), Dtype::F16), vec!["unfused", "fused"]));
        let mut grouped = tiny_model();
        grouped.head_dim = 8;
        grouped.hidden = 32;
        cases.push((
            step(grouped, Dtype::F16),
            vec!["unfused", "fused", "unfused+gqa", "fused+gqa"],
        ));
        cases.push((attention(130, 4, 2, 20, Dtype::F16), vec!["default", "gqa"]));
        // head_dim 21: not a multiple of 4, nothing to choose.
        cases.push((attention(131, 4, 2, 21, Dtype::F16), vec![]));
    }
    for (w, want) in &cases {
        let got = gpu.kernel_choices(w);
        assert_eq!(got, *want, "{w}");
        for c in &got {
            gpu.choose_kernel(Some(c)).unwrap();
            let inputs = reference::inputs(w);
            let p = gpu.prepare(w, &inputs).unwrap();
            let (variant, n) = (p.variant().unwrap(), p.dispatches().unwrap());
            drop(p);
            if matches!(w.kernel, Kernel::DecodeStep { .. }) {
                assert_eq!(n, if c.starts_with("fused") { 7 } else { 11 }, "{w} {c}");
            }
            assert_eq!(
                variant.contains("_gqa"),
                c.contains("gqa"),
                "{w} {c}: {variant}"
            );
            if let Err(e) = verify(&mut gpu, w) {
                failures.push(format!("{c}: {e}"));
            }
        }
        gpu.choose_kernel(None).unwrap();
        let inputs = reference::inputs(w);
        let p = gpu.prepare(w, &inputs).unwrap();
        assert!(
            !p.variant().unwrap().contains("gemv_norm"),
            "{w}: default restored"
        );
        assert!(
            !p.variant().unwrap().contains("_gqa"),
            "{w}: default restored"
        );
    }
    assert!(gpu.choose_kernel(Some("no-such-kernel")).is_err());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn both_f32_gemm_tiles_are_choices_the_rule_first_and_each_verifies() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    let gemm = |m, n, k| Workload::new(Kernel::Gemm { m, n, k }, Dtype::F32);
    // 256 tiles of 128 x 128 and more: the rule takes the big tiles; fewer: the small ones.
    let (big, small) = (gemm(2049, 2047, 5), gemm(67, 130, 45));
    assert_eq!(
        gpu.kernel_choices(&big),
        gpu::GEMM_F32_KERNELS
            .map(String::from)
            .iter()
            .rev()
            .cloned()
            .collect::<Vec<_>>()
    );
    assert_eq!(
        gpu.kernel_choices(&small),
        gpu::GEMM_F32_KERNELS.map(String::from)
    );
    let mut failures = Vec::new();
    for w in [&big, &small] {
        for c in gpu.kernel_choices(w) {
            gpu.choose_kernel(Some(&c)).unwrap();
            assert!(
                gpu.kernel_choices(w).is_empty(),
                "chosen: nothing left to choose"
            );
            let inputs = reference::inputs(w);
            let variant = gpu.prepare(w, &inputs).unwrap().variant().unwrap();
            assert_eq!(variant, c, "{w}");
            if let Err(e) = verify(&mut gpu, w) {
                failures.push(format!("{c}: {e}"));
            }
        }
        gpu.choose_kernel(None).unwrap();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_cooperative_matrix_gemm_is_a_choice_and_verifies_where_one_runs() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    if !gpu.info().features.iter().any(|f| f == "SHADER_F16") {
        return;
    }
    let w = Workload::new(
        Kernel::Gemm {
            m: 131,
            n: 261,
            k: 70,
        },
        Dtype::F16,
    );
    let emulated = gpu::coop_fallback(gpu.info()).is_some();
    if emulated {
        assert!(
            gpu.kernel_choices(&w).is_empty(),
            "the tiled fallback alone"
        );
        // Emulated on lavapipe: an explicit variant fixes the choice, none leaves it open.
        gpu.set_coop_emulation(Some(gpu::COOP_GEMMS[0].name))
            .unwrap();
        assert!(gpu.kernel_choices(&w).is_empty(), "a variant was set");
        gpu.choose_kernel(None).unwrap();
    }
    let names: Vec<String> = gpu::COOP_GEMMS.iter().map(|v| v.name.to_string()).collect();
    assert_eq!(gpu.kernel_choices(&w), names);
    let mut failures = Vec::new();
    for (c, v) in names.iter().zip(gpu::COOP_GEMMS) {
        gpu.choose_kernel(Some(c)).unwrap();
        let inputs = reference::inputs(&w);
        let variant = gpu.prepare(&w, &inputs).unwrap().variant().unwrap();
        // Split-K with one slice runs the plain kernel.
        assert!(
            variant.starts_with(c.as_str()) || variant.starts_with(gpu::unsplit(v).name),
            "{c}: {variant}"
        );
        if let Err(e) = verify(&mut gpu, &w) {
            failures.push(format!("{c}: {e}"));
        }
    }
    gpu.choose_kernel(None).unwrap();
    if emulated {
        gpu.set_coop_emulation(None).unwrap();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
