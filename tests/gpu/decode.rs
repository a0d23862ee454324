//! GPU tests: the opt-in decode paths: the grouped f16 attention kernel and the fused decode
//! layer, against the reference.

use super::*;

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
        // Llama-3.1-8B's heads (8 value slices of 128-wide heads for 4 query heads), and the
        // largest group at the largest head (2 slices, all 4096 floats of the scratch).
        attention(130, 32, 8, 128, Dtype::F16),
        attention(70, 8, 1, 256, Dtype::F16),
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
    // What the row records as `dispatches`: the prepared workload's count.
    let count = |gpu: &mut GpuBackend, w: &Workload, inputs: &reference::Inputs| {
        gpu.prepare(w, inputs).unwrap().dispatches().unwrap() as usize
    };
    gpu.set_decode_fused(false);
    assert_eq!(count(&mut gpu, &step, &step_in), 11);
    // Every layer, then the final RMSNorm, the LM head GEMV and the argmax.
    assert_eq!(count(&mut gpu, &token, &token_in), 11 * layers + 3);
    gpu.set_decode_fused(true);
    assert_eq!(count(&mut gpu, &step, &step_in), 7);
    // Every layer, then the final norm fused into the LM head GEMV, and the argmax.
    assert_eq!(count(&mut gpu, &token, &token_in), 7 * layers + 2);
}
