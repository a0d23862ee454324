//! compare: the generator of tests/fixtures/compare.

use super::statistics::*;
use super::*;

// ---------------------------------------------------------------------------------------------
// Fixture generator. Run with
// `ACCELBENCH_REGENERATE_FIXTURES=1 cargo test --release compare::fixtures::regenerate -- --ignored`.

pub(super) fn fixture_row(
    device: &str,
    workload: Workload,
    noise: Noise,
    n: usize,
    rng: &mut Rng,
) -> ResultRow {
    let samples = fixed_samples(noise, n, rng);
    let (ns, ci) = measure::summarize(&samples);
    ResultRow {
        device: device.to_string(),
        kernel: workload.kernel_name().to_string(),
        shape: workload.shape_map(),
        dtype: workload.dtype.name().to_string(),
        flops: workload.flops(),
        bytes: workload.bytes(),
        samples: n as u64,
        iters_per_sample: 1,
        timer: TimerKind::Wall,
        ns,
        ci95_ns: ci,
        gflops: workload.flops() as f64 / ns.p50,
        gbps: workload.bytes() as f64 / ns.p50,
        pct_peak_flops: None,
        pct_peak_bw: None,
        tokens_per_s: None,
        verified: Verified {
            ok: true,
            max_abs_err: 1e-6,
            tolerance: 1e-3,
        },
        histogram: accelbench::results::histogram::encode(&samples).unwrap(),
        error: None,
        extra: Default::default(),
    }
}

pub(super) fn failed(mut row: ResultRow) -> ResultRow {
    row.verified.ok = false;
    row.verified.max_abs_err = 0.5;
    row.error =
        Some("verification failed: max abs error 5.000e-1 exceeds tolerance 1.000e-3".into());
    row.gflops = 0.0;
    row.gbps = 0.0;
    row.samples = 0;
    row.histogram = String::new();
    row
}

pub(super) fn fixture_run(gpu_id: &str, cpu_name: &str, rows: Vec<ResultRow>) -> RunResults {
    RunResults {
        schema_version: SCHEMA_VERSION,
        tool_version: "0.1.0".into(),
        started_at: "2026-11-23T12:00:00Z".into(),
        host: Host {
            hostname: "fixture-host".into(),
            os: "Fixture OS".into(),
            kernel: "6.0".into(),
            cpu_model: cpu_name.into(),
            cores: 2,
            threads: 2,
            memory_bytes: 8 << 30,
            git_commit: None,
            rustc: None,
        },
        devices: vec![
            DeviceRecord {
                cooperative_matrix: Vec::new(),
                copy_gbps_after: None,
                dispatch_ns: None,
                id: "cpu".into(),
                kind: DeviceKind::Cpu,
                name: cpu_name.into(),
                backend: "native".into(),
                driver: "".into(),
                device_type: None,
                peak_gflops: None,
                peak_gbps: None,
                peak_source: "fixture".into(),
                peaks: None,
            },
            DeviceRecord {
                cooperative_matrix: Vec::new(),
                copy_gbps_after: None,
                dispatch_ns: None,
                id: gpu_id.into(),
                kind: DeviceKind::Gpu,
                name: "Fixture GPU".into(),
                backend: "vulkan".into(),
                driver: "fixture".into(),
                device_type: Some("discrete".into()),
                peak_gflops: None,
                peak_gbps: None,
                peak_source: "fixture".into(),
                peaks: None,
            },
        ],
        results: rows,
        partial: false,
        settings: Some(RunSettings {
            suite: "quick".into(),
            threads: 2,
            max_time_per_workload_s: 0.5,
            target_rel_ci: 0.02,
            tune: None,
        }),
    }
}

pub(super) fn fixture_workloads() -> [Workload; 5] {
    [
        Workload::new(
            Kernel::Gemm {
                m: 512,
                n: 512,
                k: 512,
            },
            Dtype::F32,
        ),
        Workload::new(Kernel::Gemv { n: 4096, k: 4096 }, Dtype::F32),
        Workload::new(
            Kernel::Softmax {
                rows: 32,
                cols: 4096,
            },
            Dtype::F32,
        ),
        Workload::new(Kernel::StreamTriad { n: 8 << 20 }, Dtype::F32),
        Workload::new(
            Kernel::RmsNorm {
                rows: 64,
                cols: 4096,
            },
            Dtype::F32,
        ),
    ]
}

/// Median latencies of the fixture workloads, ns.
pub(super) const FIXTURE_MEDIANS_NS: [f64; 5] = [3.0e6, 9.0e6, 60.0e3, 12.0e6, 80.0e3];

pub(super) fn fixture_rows(
    seed: u64,
    gpu_id: &str,
    scale: [f64; 5],
    include: [bool; 5],
) -> Vec<ResultRow> {
    let mut rng = Rng::new(seed);
    let mut rows = Vec::new();
    for (i, w) in fixture_workloads().into_iter().enumerate() {
        if !include[i] {
            continue;
        }
        let noise = Noise {
            median_ns: FIXTURE_MEDIANS_NS[i] * scale[i],
            sigma: 0.02,
            outliers: 0.03,
        };
        rows.push(fixture_row("cpu", w, noise, 60, &mut rng));
    }
    let gemm = fixture_workloads()[0].clone();
    let gpu_noise = Noise {
        median_ns: 400.0e3,
        sigma: 0.03,
        outliers: 0.0,
    };
    rows.push(fixture_row(gpu_id, gemm, gpu_noise, 40, &mut rng));
    rows
}

#[test]
#[ignore = "writes tests/fixtures/compare; run by hand when the schema changes"]
pub(super) fn regenerate_fixtures() {
    if std::env::var_os("ACCELBENCH_REGENERATE_FIXTURES").is_none() {
        return;
    }
    let dir = fixtures();
    std::fs::create_dir_all(&dir).unwrap();
    let cpu = "Fixture CPU 9000";
    let same = [1.0; 5];
    let four = [true, true, true, true, false];
    let save = |name: &str, run: &RunResults| {
        accelbench::results::save(run, &dir.join(name), true).unwrap();
    };
    let baseline = fixture_run("gpu0", cpu, fixture_rows(1, "gpu0", same, four));
    save("baseline.json", &baseline);
    save(
        "candidate_same.json",
        &fixture_run("gpu1", cpu, fixture_rows(2, "gpu1", same, four)),
    );
    save(
        "candidate_slower.json",
        &fixture_run(
            "gpu0",
            cpu,
            fixture_rows(3, "gpu0", [1.2, 1.0, 0.8, 1.0, 1.0], four),
        ),
    );
    let mut rows = fixture_rows(4, "gpu0", same, [true, true, true, false, true]);
    rows[1] = failed(rows[1].clone());
    save("candidate_failed.json", &fixture_run("gpu0", cpu, rows));
    let mut other = fixture_run("gpu0", "Another CPU", fixture_rows(5, "gpu0", same, four));
    other.devices[1].name = "Another GPU".into();
    save("other_device.json", &other);
    let mut bad = baseline.clone();
    bad.results[0].histogram = "bm90IGEgaGlzdG9ncmFt".into();
    save("bad_histogram.json", &bad);

    let text = accelbench::results::to_json(&baseline).unwrap();
    std::fs::write(dir.join("truncated.json"), &text[..text.len() / 2]).unwrap();
    std::fs::write(
        dir.join("not_json.json"),
        "accelbench results\nthis is a text file, not JSON\n",
    )
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["schema_version"] = 99.into();
    std::fs::write(
        dir.join("schema_v99.json"),
        serde_json::to_string_pretty(&v).unwrap(),
    )
    .unwrap();
}
