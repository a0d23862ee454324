//! report: the generator of tests/fixtures/machine_*.json (fake hosts).

use super::*;

fn shape(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Deterministic samples around `p50_ns`: a narrow body and a 2% tail up to 1.6x.
fn samples(p50_ns: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let u = (i * 7919 % n) as f64 / n as f64;
            if u > 0.98 {
                p50_ns * (1.1 + 25.0 * (u - 0.98))
            } else {
                p50_ns * (0.97 + 0.06 * u)
            }
        })
        .collect()
}

struct RowSpec<'a> {
    device: &'a str,
    kernel: &'a str,
    shape: BTreeMap<String, Value>,
    dtype: &'a str,
    flops: u64,
    bytes: u64,
    p50_ns: f64,
    layers: Option<u64>,
}

fn ok_row(s: RowSpec<'_>) -> ResultRow {
    let xs = samples(s.p50_ns, 400);
    let (ns, ci) = measure::summarize(&xs);
    ResultRow {
        device: s.device.into(),
        kernel: s.kernel.into(),
        shape: s.shape,
        dtype: s.dtype.into(),
        flops: s.flops,
        bytes: s.bytes,
        samples: xs.len() as u64,
        iters_per_sample: 1,
        timer: if s.device == "cpu" {
            TimerKind::Wall
        } else {
            TimerKind::GpuTimestamp
        },
        ns,
        ci95_ns: ci,
        gflops: s.flops as f64 / ns.p50,
        gbps: s.bytes as f64 / ns.p50,
        pct_peak_flops: None,
        pct_peak_bw: None,
        tokens_per_s: s.layers.map(|l| 1e9 / (ns.p50 * l as f64)),
        verified: Verified {
            ok: true,
            max_abs_err: 1.5e-6,
            tolerance: 1e-4,
        },
        histogram: accelbench::results::histogram::encode(&xs).unwrap(),
        error: None,
        extra: Default::default(),
    }
}

fn failed_row(s: RowSpec<'_>, error: &str) -> ResultRow {
    ResultRow {
        device: s.device.into(),
        kernel: s.kernel.into(),
        shape: s.shape,
        dtype: s.dtype.into(),
        flops: s.flops,
        bytes: s.bytes,
        samples: 0,
        iters_per_sample: 1,
        timer: TimerKind::GpuTimestamp,
        ns: Default::default(),
        ci95_ns: [0.0, 0.0],
        gflops: 0.0,
        gbps: 0.0,
        pct_peak_flops: None,
        pct_peak_bw: None,
        tokens_per_s: None,
        verified: Verified {
            ok: false,
            max_abs_err: 0.1,
            tolerance: 1e-3,
        },
        histogram: String::new(),
        error: Some(error.into()),
        extra: Default::default(),
    }
}

fn gemm(device: &str, m: u64, p50_ns: f64) -> ResultRow {
    ok_row(RowSpec {
        device,
        kernel: "gemm",
        shape: shape(&[("k", json!(m)), ("m", json!(m)), ("n", json!(m))]),
        dtype: "f32",
        flops: 2 * m * m * m,
        bytes: 4 * 3 * m * m,
        p50_ns,
        layers: None,
    })
}

fn gemv_spec(device: &str, p50_ns: f64) -> RowSpec<'_> {
    RowSpec {
        device,
        kernel: "gemv",
        shape: shape(&[("k", json!(4096)), ("n", json!(4096))]),
        dtype: "f32",
        flops: 2 * 4096 * 4096,
        bytes: 4 * (4096 * 4096 + 2 * 4096),
        p50_ns,
        layers: None,
    }
}

fn triad(device: &str, p50_ns: f64) -> ResultRow {
    let n: u64 = 8 << 20;
    ok_row(RowSpec {
        device,
        kernel: "stream_triad",
        shape: shape(&[("n", json!(n))]),
        dtype: "f32",
        flops: 2 * n,
        bytes: 12 * n,
        p50_ns,
        layers: None,
    })
}

fn cpu_device(name: &str, peak_gflops: f64, peak_gbps: f64) -> DeviceRecord {
    DeviceRecord {
        cooperative_matrix: Vec::new(),
        copy_gbps_after: None,
        dispatch_ns: None,
        id: "cpu".into(),
        kind: DeviceKind::Cpu,
        name: name.into(),
        backend: "native".into(),
        driver: "-".into(),
        device_type: None,
        peak_gflops: Some(peak_gflops),
        peak_gbps: Some(peak_gbps),
        peak_source: "fixture: stated, not measured".into(),
        peaks: None,
    }
}

fn host(name: &str, cpu: &str, cores: usize) -> Host {
    Host {
        hostname: name.into(),
        os: "Debian GNU/Linux 13 (trixie)".into(),
        kernel: "6.12.0-fixture".into(),
        cpu_model: cpu.into(),
        cores,
        threads: 2 * cores,
        memory_bytes: 64 << 30,
        git_commit: Some("0123abc".into()),
        rustc: Some("rustc 1.95.0".into()),
    }
}

fn run(
    host: Host,
    started_at: &str,
    devices: Vec<DeviceRecord>,
    results: Vec<ResultRow>,
) -> RunResults {
    RunResults {
        schema_version: results::SCHEMA_VERSION,
        tool_version: "0.1.0".into(),
        started_at: started_at.into(),
        host,
        devices,
        results,
        partial: false,
        settings: Some(RunSettings {
            suite: "quick".into(),
            threads: 16,
            max_time_per_workload_s: 0.5,
            target_rel_ci: 0.02,
            tune: None,
        }),
    }
}

#[test]
#[ignore = "writes tests/fixtures; run by hand when the schema changes"]
fn regenerate_fixtures() {
    let lavapipe = DeviceRecord {
        cooperative_matrix: Vec::new(),
        copy_gbps_after: None,
        dispatch_ns: None,
        id: "gpu0".into(),
        kind: DeviceKind::Gpu,
        name: "llvmpipe (LLVM 19.1.7, 256 bits)".into(),
        backend: "vulkan".into(),
        driver: "Mesa 25.0.7".into(),
        device_type: Some("cpu".into()),
        peak_gflops: None,
        peak_gbps: Some(18.0),
        peak_source: "bandwidth: measured STREAM triad in this run".into(),
        peaks: None,
    };
    let attention = ok_row(RowSpec {
        device: "cpu",
        kernel: "decode_attention",
        shape: shape(&[
            ("context", json!(1024)),
            ("head_dim", json!(128)),
            ("kv_heads", json!(8)),
            ("q_heads", json!(32)),
        ]),
        dtype: "f32",
        flops: 32 * 1024 * (4 * 128 + 5),
        bytes: 4 * (2 * 8 * 1024 * 128 + 2 * 32 * 128),
        p50_ns: 310_000.0,
        layers: None,
    });
    let decode_step = ok_row(RowSpec {
        device: "cpu",
        kernel: "decode_step",
        shape: shape(&[
            ("context", json!(1024)),
            ("ffn", json!(8192)),
            ("head_dim", json!(64)),
            ("hidden", json!(2048)),
            ("kv_heads", json!(8)),
            ("layers", json!(16)),
            ("model", json!("llama-3.2-1b")),
            ("q_heads", json!(32)),
        ]),
        dtype: "f32",
        flops: 121_634_816,
        bytes: 243_286_016,
        p50_ns: 7_400_000.0,
        layers: Some(16),
    });
    let a = run(
        host("fixture-host-a", "Fixture CPU 8-core @ 3.0 GHz", 8),
        "2026-11-20T10:00:00Z",
        vec![
            cpu_device("Fixture CPU 8-core @ 3.0 GHz", 768.0, 40.0),
            lavapipe.clone(),
        ],
        vec![
            gemm("cpu", 512, 1_900_000.0),
            ok_row(gemv_spec("cpu", 2_100_000.0)),
            attention,
            triad("cpu", 2_600_000.0),
            decode_step,
            gemm("gpu0", 512, 95_000_000.0),
            failed_row(
                gemv_spec("gpu0", 0.0),
                "verification failed: max abs error 1.000e-1 exceeds tolerance 1.000e-3",
            ),
            triad("gpu0", 5_600_000.0),
        ],
    );
    let b = run(
        host("fixture-host-b", "Fixture CPU 16-core @ 3.5 GHz", 16),
        "2026-11-21T09:30:00Z",
        vec![
            cpu_device("Fixture CPU 16-core @ 3.5 GHz", 1792.0, 80.0),
            DeviceRecord {
                cooperative_matrix: Vec::new(),
                copy_gbps_after: None,
                dispatch_ns: None,
                id: "gpu0".into(),
                kind: DeviceKind::Gpu,
                name: "Fixture GPU 9000".into(),
                backend: "vulkan".into(),
                driver: "fixture 1.2.3".into(),
                device_type: Some("discrete".into()),
                peak_gflops: Some(20_000.0),
                peak_gbps: Some(900.0),
                peak_source: "fixture: stated, not measured".into(),
                peaks: None,
            },
        ],
        vec![
            gemm("cpu", 512, 900_000.0),
            ok_row(gemv_spec("cpu", 1_000_000.0)),
            triad("cpu", 1_300_000.0),
            gemm("gpu0", 512, 40_000.0),
            gemm("gpu0", 1024, 190_000.0),
            ok_row(gemv_spec("gpu0", 95_000.0)),
            triad("gpu0", 120_000.0),
        ],
    );
    let a_rerun = run(
        host("fixture-host-a", "Fixture CPU 8-core @ 3.0 GHz", 8),
        "2026-11-22T08:00:00Z",
        vec![cpu_device("Fixture CPU 8-core @ 3.0 GHz", 768.0, 40.0)],
        vec![gemm("cpu", 512, 1_850_000.0)],
    );
    let mut evil_host = host("evil|host,\"x\"\nnext line", "<b>CPU</b> | x", 4);
    evil_host.os = "=cmd|' /C calc'!A0".into();
    let mut evil_kernel = gemm("cpu", 64, 20_000.0);
    evil_kernel.kernel = "<img src=x onerror=alert(1)>|k".into();
    let mut evil_fail = failed_row(
        gemv_spec("gpu0", 0.0),
        "bad\n| broken | row\n<b>bold</b>, \"quoted\"",
    );
    evil_fail.device = "gpu0".into();
    let hostile = run(
        evil_host,
        "2026-11-23T00:00:00Z",
        vec![
            DeviceRecord {
                cooperative_matrix: Vec::new(),
                copy_gbps_after: None,
                dispatch_ns: None,
                name: "<script>alert(1)</script>".into(),
                driver: "=HYPERLINK(\"http://example.invalid\")".into(),
                ..cpu_device("x", 100.0, 10.0)
            },
            DeviceRecord {
                cooperative_matrix: Vec::new(),
                copy_gbps_after: None,
                dispatch_ns: None,
                id: "gpu0".into(),
                kind: DeviceKind::Gpu,
                name: "a|b,\"c\"".into(),
                backend: "vulkan\\".into(),
                driver: "line\nbreak".into(),
                device_type: Some("cpu".into()),
                peak_gflops: None,
                peak_gbps: None,
                peak_source: "*none*".into(),
                peaks: None,
            },
        ],
        vec![
            gemm("cpu", 64, 20_000.0),
            evil_kernel,
            triad("gpu0", 9_000_000.0),
            evil_fail,
        ],
    );
    let dir = fixture("");
    std::fs::create_dir_all(&dir).unwrap();
    results::save(&a, &dir.join("machine_a.json"), true).unwrap();
    results::save(&b, &dir.join("machine_b.json"), true).unwrap();
    results::save(&a_rerun, &dir.join("machine_a_rerun.json"), true).unwrap();
    results::save(&hostile, &dir.join("hostile.json"), true).unwrap();
    let mut v2: Value = serde_json::to_value(&a_rerun).unwrap();
    v2["schema_version"] = json!(99);
    std::fs::write(
        dir.join("schema_v99.json"),
        serde_json::to_string_pretty(&v2).unwrap() + "\n",
    )
    .unwrap();
}
