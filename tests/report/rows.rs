//! report: failed rows, software adapters, units, and hostile names in every format.

use super::*;

#[test]
fn failed_results_show_failed_and_never_a_number() {
    let md = render(&["machine_a.json"], ReportFormat::Md, false);
    let gemv = md
        .lines()
        .find(|l| l.starts_with("| gemv k=4096 n=4096 f32 |"))
        .unwrap();
    let cells: Vec<&str> = gemv.split(" | ").collect();
    // workload, cpu, gpu0 (the failed one).
    assert!(cells[2].starts_with("**FAILED**"), "{gemv}");
    assert!(md.contains("## Failed workloads"));
    assert!(md.contains("verification failed: max abs error 1.000e-1"));

    let csv = render(&["machine_a.json"], ReportFormat::Csv, false);
    let records = parse_csv(&csv);
    let header = &records[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let failed: Vec<&Vec<String>> = records
        .iter()
        .filter(|r| r[col("status")] == "FAILED")
        .collect();
    assert_eq!(failed.len(), 1);
    for field in ["throughput", "p50_ns", "p99_ns", "gflops", "gbps"] {
        assert_eq!(failed[0][col(field)], "", "{field} of a failed row");
    }

    let json: Value =
        serde_json::from_str(&render(&["machine_a.json"], ReportFormat::Json, false)).unwrap();
    let failed: Vec<&Value> = json["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w["results"].as_array().unwrap())
        .filter(|r| r["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["throughput"].is_null());
    assert!(failed[0]["row"].get("gbps").is_none());

    let bmf: Value =
        serde_json::from_str(&render(&["machine_a.json"], ReportFormat::Bmf, false)).unwrap();
    assert!(
        bmf.get("gemv k=4096 n=4096 f32 @ fixture-host-a/gpu0")
            .is_none()
    );
    assert!(
        bmf.get("gemv k=4096 n=4096 f32 @ fixture-host-a/cpu")
            .is_some()
    );
    let gab: Value =
        serde_json::from_str(&render(&["machine_a.json"], ReportFormat::Gab, false)).unwrap();
    assert!(
        gab.as_array()
            .unwrap()
            .iter()
            .all(|e| e["name"] != "gemv k=4096 n=4096 f32 @ fixture-host-a/gpu0")
    );
}

#[test]
fn software_adapters_are_labelled_in_every_table() {
    let md = render(&["machine_a.json"], ReportFormat::Md, false);
    assert!(
        md.contains(
            "| workload | fixture-host-a/cpu<br>Fixture CPU 8-core @ 3.0 GHz | fixture-host-a/gpu0<br>llvmpipe (LLVM 19.1.7, 256 bits)<br>(software adapter) |"
        )
    );
    assert!(md.contains("gpu (cpu)<br>**software adapter**"));
    let csv = render(&["machine_a.json"], ReportFormat::Csv, false);
    assert!(
        csv.lines()
            .filter(|l| l.contains("fixture-host-a/gpu0"))
            .all(|l| l.contains(",true,"))
    );
}

#[test]
fn throughput_uses_the_meaningful_unit_per_kernel() {
    let md = render(&["machine_a.json"], ReportFormat::Md, false);
    let unit_of = |prefix: &str| -> String {
        let line = md.lines().find(|l| l.starts_with(prefix)).unwrap();
        line.split(" | ").nth(1).unwrap().to_string()
    };
    assert!(unit_of("| gemm ").contains("GFLOP/s"));
    assert!(unit_of("| gemv ").contains("GB/s"));
    assert!(unit_of("| stream_triad ").contains("GB/s"));
    assert!(unit_of("| decode_attention ").contains("GB/s"));
    assert!(unit_of("| decode_step ").contains("tokens/s"));
}

// ---------------------------------------------------------------------------------------------
// Escaping: strings from results files must render as text and keep tables intact.

#[test]
fn hostile_names_keep_the_markdown_table_intact() {
    let md = render(&["hostile.json"], ReportFormat::Md, false);
    assert!(!md.contains("<script>"), "raw script tag in:\n{md}");
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(md.contains("a\\|b,\"c\""));
    // Every line of a table has as many unescaped pipes as its header.
    let mut expected = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let n = unescaped_pipes(line);
            match expected {
                None => expected = Some(n),
                Some(e) => assert_eq!(n, e, "row breaks its table: {line}"),
            }
        } else {
            expected = None;
        }
    }
}

#[test]
fn hostile_names_keep_the_csv_columns_intact() {
    let csv = render(&["hostile.json"], ReportFormat::Csv, false);
    let records = parse_csv(&csv);
    assert!(records.len() >= 3);
    for r in &records {
        assert_eq!(r.len(), records[0].len(), "record {r:?}");
    }
    let names: Vec<&str> = records.iter().map(|r| r[5].as_str()).collect();
    assert!(names.contains(&"<script>alert(1)</script>"));
    assert!(names.contains(&"a|b,\"c\""));
    // A formula-looking driver string is shown as text by spreadsheets.
    assert!(records.iter().any(|r| r[10].starts_with("'=")));
}

#[test]
fn hostile_names_render_as_text_in_html() {
    let html = render(&["hostile.json"], ReportFormat::Html, false);
    assert!(
        !html.to_lowercase().contains("<script"),
        "script tag in HTML"
    );
    assert!(!html.contains("<img"), "img tag in HTML");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("a|b,&quot;c&quot;"));
    // The tables stay tables: as many opened rows as closed ones.
    assert_eq!(html.matches("<tr>").count(), html.matches("</tr>").count());
    assert_eq!(html.matches("<td").count(), html.matches("</td>").count());
}

#[test]
fn hostile_names_are_plain_strings_in_json_formats() {
    for format in [ReportFormat::Json, ReportFormat::Bmf, ReportFormat::Gab] {
        let text = render(&["hostile.json"], format, false);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(text.contains("alert(1)"), "{format:?}");
        assert!(!v.is_null());
    }
}

#[test]
fn gemm_cells_name_their_kernel_and_in_cache_cells_say_so() {
    // A real run: the H200's standard suite, f16 GEMM on cooperative matrices.
    let out = accelbench()
        .args([
            "report",
            "results/h200-vulkan-standard-2026-12-01.json",
            "--format",
            "md",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let md = String::from_utf8(out.stdout).unwrap();
    let row = |prefix: &str| {
        md.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no row {prefix} in:\n{md}"))
            .to_string()
    };
    let gemm = row("| gemm k=4096 m=4096 n=4096 f16 |");
    assert!(gemm.contains("kernel gemm_f16_coop_k64"), "{gemm}");
    let rmsnorm = row("| rmsnorm cols=4096 rows=1 f32 |");
    assert!(rmsnorm.contains("in cache"), "{rmsnorm}");
    assert!(
        !rmsnorm.contains("kernel "),
        "only GEMM cells name the kernel: {rmsnorm}"
    );
}

#[test]
fn cells_timed_at_a_reduced_clock_say_so() {
    // The H200 run with one row given a device state as `run` records it from nvidia-smi.
    let mut file: Value = serde_json::from_str(
        &std::fs::read_to_string("results/h200-vulkan-standard-2026-12-01.json").unwrap(),
    )
    .unwrap();
    let rows = file["results"].as_array_mut().unwrap();
    let rms = rows
        .iter_mut()
        .find(|r| r["kernel"] == "rmsnorm" && r["shape"]["rows"] == 1 && r["device"] == "gpu0")
        .unwrap();
    rms["device_state"] = serde_json::json!({
        "source": "nvidia-smi -i 0 every 100 ms while the workload was timed",
        "samples": 4,
        "sm_clock_mhz": {"min": 990.0, "p50": 990.0, "max": 1980.0},
        "max_sm_clock_mhz": 1980.0,
        "mem_clock_mhz": {"min": 3201.0, "p50": 3201.0, "max": 3201.0},
        "limit_reasons": ["sw_power_cap"]
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h200.json");
    std::fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();
    let md = crate::common::stdout_of(accelbench().args([
        "report",
        path.to_str().unwrap(),
        "--format",
        "md",
    ]));
    let line = |prefix: &str| {
        md.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap()
            .to_string()
    };
    let rms = line("| rmsnorm cols=4096 rows=1 f32 |");
    assert!(
        rms.contains("reduced clock: clock 990/1980 MHz, sw_power_cap"),
        "{rms}"
    );
    let other = line("| rmsnorm cols=4096 rows=512 f32 |");
    assert!(!other.contains("reduced clock"), "{other}");

    // CSV: the clocks and the note in their own columns, beside the kernel that ran.
    let csv = crate::common::stdout_of(accelbench().args([
        "report",
        path.to_str().unwrap(),
        "--format",
        "csv",
    ]));
    let records = parse_csv(&csv);
    let col = |name: &str| records[0].iter().position(|h| h == name).unwrap();
    let find = |workload: &str| {
        records
            .iter()
            .find(|r| r[col("workload")] == workload && r[col("device_id")] == "gpu0")
            .unwrap_or_else(|| panic!("no {workload} row"))
    };
    let rms = find("rmsnorm cols=4096 rows=1 f32");
    assert_eq!(rms[col("sm_clock_mhz")], "990");
    assert_eq!(rms[col("mem_clock_mhz")], "3201");
    assert_eq!(
        rms[col("reduced_clock")],
        "clock 990/1980 MHz, sw_power_cap"
    );
    assert_eq!(rms[col("kernel_variant")], "rmsnorm_f32");
    assert_eq!(rms[col("in_cache")], "true");
    let other = find("rmsnorm cols=4096 rows=512 f32");
    assert_eq!(other[col("sm_clock_mhz")], "");
    assert_eq!(other[col("reduced_clock")], "");
}

#[test]
fn cells_whose_samples_had_outliers_say_how_many_and_how_far() {
    // The H200 run's Llama-3.1-8B whole model, whose samples came from two states (p50 10.3 ms,
    // max 30.3 ms), given the `outliers` that `run` now records.
    let mut file: Value = serde_json::from_str(
        &std::fs::read_to_string("results/h200-vulkan-standard-2026-12-01.json").unwrap(),
    )
    .unwrap();
    let rows = file["results"].as_array_mut().unwrap();
    let token = rows
        .iter_mut()
        .find(|r| r["kernel"] == "decode_token" && r["shape"]["model"] == "llama-3.1-8b")
        .unwrap();
    assert_eq!(token["samples"], 30);
    token["outliers"] = serde_json::json!({
        "slow": 9, "fast": 0, "max_over_median": 2.956, "min_over_median": 0.996
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h200.json");
    std::fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();
    let md = crate::common::stdout_of(accelbench().args([
        "report",
        path.to_str().unwrap(),
        "--format",
        "md",
    ]));
    let line = |needle: &str| {
        md.lines()
            .find(|l| l.starts_with("| decode_token") && l.contains(needle))
            .unwrap_or_else(|| panic!("no decode_token row with {needle} in:\n{md}"))
            .to_string()
    };
    let big = line("llama-3.1-8b");
    assert!(
        big.contains("outliers: 9 of 30 samples, up to 2.96x the p50"),
        "{big}"
    );
    let small = line("llama-3.2-1b");
    assert!(!small.contains("outliers"), "{small}");

    let csv = crate::common::stdout_of(accelbench().args([
        "report",
        path.to_str().unwrap(),
        "--format",
        "csv",
    ]));
    let records = parse_csv(&csv);
    let col = |name: &str| records[0].iter().position(|h| h == name).unwrap();
    let token = |model: &str| {
        records
            .iter()
            .find(|r| {
                r[col("kernel")] == "decode_token"
                    && r[col("workload")].contains(model)
                    && r[col("device_id")] == "gpu0"
            })
            .unwrap_or_else(|| panic!("no {model} row"))
    };
    let big = token("llama-3.1-8b");
    assert_eq!(big[col("outlier_samples")], "9");
    assert_eq!(big[col("outlier_max_over_p50")], "2.956");
    assert_eq!(token("llama-3.2-1b")[col("outlier_samples")], "");
}
