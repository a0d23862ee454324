//! GPU tests: kernels compiled without wgpu's shader runtime checks and workgroup zero-fill
//! (`ACCELBENCH_SHADER_CHECKS=off`). Each kernel still matches the reference with its workgroup
//! memory filled with a poison value first, so none reads workgroup memory it did not write.

use super::*;

#[test]
fn every_kernel_with_its_workgroup_memory_poisoned_still_validates() {
    for k in gpu::KERNELS {
        let src = if k.needs_coop {
            gpu::emulate_coop(k.source).unwrap()
        } else {
            k.source.to_string()
        };
        let poisoned = gpu::poison_workgroup(&src).unwrap_or_else(|e| panic!("{}: {e:#}", k.name));
        let arrays = src.matches("var<workgroup>").count();
        assert_eq!(
            poisoned.matches("poison_i += ").count(),
            arrays,
            "{}: one fill per workgroup array",
            k.name
        );
        let module = naga::front::wgsl::parse_str(&poisoned)
            .unwrap_or_else(|e| panic!("poisoned {}: {}", k.name, e.emit_to_string(&poisoned)));
        let caps = naga::valid::Capabilities::all() - naga::valid::Capabilities::COOPERATIVE_MATRIX;
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
            .validate(&module)
            .unwrap_or_else(|e| panic!("poisoned {}: {e:?}", k.name));
    }
}

#[test]
fn poisoning_fills_every_array_before_a_barrier_and_refuses_what_it_cannot_read() {
    let src = "var<workgroup> a: array<f32, 8>;\nvar<workgroup> b: array<vec4<f16>, 3>;\n\
               @compute @workgroup_size(4, 2)\nfn main(@builtin(local_invocation_index) li: u32) {\n    a[li] = 1.0;\n}\n";
    let out = gpu::poison_workgroup(src).unwrap();
    let body = &out[out.find("fn main(").unwrap()..];
    assert_eq!(
        body.matches("for (var poison_i = li; poison_i < ").count(),
        2,
        "each invocation starts at its own index: {out}"
    );
    assert!(body.contains("poison_i < 8u; poison_i += 8u)"), "{out}");
    let fill_a = body
        .find("a [poison_i] = f32(f32(1e30))")
        .expect("a filled");
    let fill_b = body
        .find("b [poison_i] = vec4<f16>(f16(60000.0h))")
        .expect("b filled");
    let barrier = body.find("workgroupBarrier()").expect("a barrier");
    let own = body.find("a[li] = 1.0").unwrap();
    assert!(
        fill_a < barrier && fill_b < barrier && barrier < own,
        "{out}"
    );
    for bad in [
        "var<workgroup> x: f32;\nfn main() {}\n",
        "var<workgroup> m: array<mat4x4<f32>, 4>;\nfn main() {}\n",
        "const N = 4u;\nvar<workgroup> x: array<f32, N>;\nfn main() {}\n",
        "var<workgroup> x: array<f32, 4>;\nfn other() {}\n",
        "var<workgroup> x: array<f32, 4>;\n@compute @workgroup_size(4)\nfn main() {}\n",
        "var<workgroup> x: array<f32, 4>;\n@compute @workgroup_size(W)\nfn main(@builtin(local_invocation_index) li: u32) {}\n",
    ] {
        assert!(gpu::poison_workgroup(bad).is_err(), "{bad}");
    }
    let none = "fn main() {}\n";
    assert_eq!(gpu::poison_workgroup(none).unwrap(), none);
}

#[test]
fn without_shader_checks_every_kernel_matches_the_reference_with_workgroup_memory_poisoned() {
    let Some(mut gpu) = open_vulkan() else {
        return;
    };
    assert_eq!(
        gpu.shader_checks(),
        std::env::var("ACCELBENCH_SHADER_CHECKS").as_deref() != Ok("off"),
        "checks are on unless ACCELBENCH_SHADER_CHECKS=off"
    );
    gpu.set_shader_checks(false);
    gpu.set_workgroup_poison(true);
    let f16 = gpu.info().features.iter().any(|f| f == "SHADER_F16");
    let mut all = small_workloads();
    if f16 {
        all.extend(small_f16_workloads());
    }
    let mut failures = Vec::new();
    let mut check = |gpu: &mut GpuBackend, w: &Workload, how: &str| {
        let inputs = reference::inputs(w);
        match gpu.prepare(w, &inputs) {
            Ok(p) => {
                let (variant, note) = (
                    p.variant().unwrap_or_default(),
                    p.note().unwrap_or_default(),
                );
                assert!(variant.ends_with(" (unchecked)"), "{w}: {variant}");
                assert!(note.contains("ACCELBENCH_SHADER_CHECKS=off"), "{w}: {note}");
            }
            Err(e) => failures.push(format!("{how}: {w}: prepare failed: {e:#}")),
        }
        if let Err(e) = verify(gpu, w) {
            failures.push(format!("{how}: {e}"));
        }
    };
    for w in &all {
        check(&mut gpu, w, "default kernels");
    }
    // The workgroup-memory reductions, and the fused decode layer and grouped attention.
    gpu.set_use_subgroups(false);
    for w in all.iter().filter(|w| {
        matches!(
            w.kernel,
            Kernel::Gemv { .. } | Kernel::DecodeStep { .. } | Kernel::DecodeToken { .. }
        )
    }) {
        check(&mut gpu, w, "shared-memory reductions");
    }
    gpu.set_use_subgroups(true);
    gpu.set_decode_fused(true);
    gpu.set_attention_gqa(true);
    for w in all.iter().filter(|w| {
        matches!(
            w.kernel,
            Kernel::DecodeAttention(_) | Kernel::DecodeStep { .. } | Kernel::DecodeToken { .. }
        )
    }) {
        check(&mut gpu, w, "fused layer, grouped attention");
    }
    gpu.set_decode_fused(false);
    gpu.set_attention_gqa(false);
    if f16 {
        let gemm = |m, n, k| Workload::new(Kernel::Gemm { m, n, k }, Dtype::F16);
        for v in gpu::COOP_GEMMS {
            // Where the adapter has cooperative matrices the real kernels run (their
            // fragments are the driver's, not poisoned); else their emulation.
            if gpu::coop_fallback(gpu.info()).is_some() {
                gpu.set_coop_emulation(Some(v.name)).unwrap();
            } else {
                gpu.set_coop_variant(Some(v.name)).unwrap();
            }
            for w in [gemm(131, 261, 70), gemm(33, 40, 570)] {
                check(&mut gpu, &w, v.name);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Instructions in a SPIR-V module (words after the 5-word header, each instruction's word
/// count in its first word's high half).
fn spirv_instructions(words: &[u32]) -> usize {
    let (mut i, mut n) = (5, 0);
    while i < words.len() {
        i += ((words[i] >> 16) as usize).max(1);
        n += 1;
    }
    n
}

/// What the checks cost in instructions, as wgpu's Vulkan backend writes SPIR-V for an NVIDIA
/// adapter (robust buffer access 2 and native workgroup zero-fill, so buffer indices are left
/// to the driver either way): array-index clamps, a counter in every loop and division
/// guards. Prints the table with `--nocapture`.
#[test]
fn without_shader_checks_no_kernel_compiles_to_more_spirv_and_kernels_with_loops_to_less() {
    use naga::back::spv;
    use naga::proc::{BoundsCheckPolicies, BoundsCheckPolicy};
    let options = |checked: bool| {
        let index = if checked {
            BoundsCheckPolicy::Restrict
        } else {
            BoundsCheckPolicy::Unchecked
        };
        spv::Options {
            lang_version: (1, 4),
            bounds_check_policies: BoundsCheckPolicies {
                index,
                buffer: BoundsCheckPolicy::Unchecked,
                image_load: BoundsCheckPolicy::Unchecked,
                binding_array: BoundsCheckPolicy::Unchecked,
            },
            zero_initialize_workgroup_memory: spv::ZeroInitializeWorkgroupMemoryMode::Native,
            force_loop_bounding: checked,
            emit_int_div_checks: checked,
            ..Default::default()
        }
    };
    eprintln!("{:34} {:>8} {:>10}", "kernel", "checked", "unchecked");
    for k in gpu::KERNELS {
        let module = naga::front::wgsl::parse_str(k.source).unwrap();
        let info = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::all(),
        )
        .validate(&module)
        .unwrap();
        let count = |checked| {
            spirv_instructions(&spv::write_vec(&module, &info, &options(checked), None).unwrap())
        };
        let (with, without) = (count(true), count(false));
        eprintln!("{:34} {with:>8} {without:>10}", k.name);
        assert!(without <= with, "{}: {without} > {with}", k.name);
        if k.source.contains("for (") || k.source.contains("loop {") {
            assert!(without < with, "{}: a loop, yet no check removed", k.name);
        }
    }
}
