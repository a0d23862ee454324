//! Integration tests: cost (pricing table, projection, measured rows, rendering, CLI).

use accelbench::cost::pricing::Pricing;
use accelbench::cost::serving::{self, Bound, Hardware, Params, Scenario, Workload};
use accelbench::cost::{self, CostOptions, Precision};
use accelbench::model::{ElemBytes, ModelShape};
use proptest::prelude::*;

use crate::common::{
    accelbench_in, cost_fixture as fixture_path, cost_options as options, json_rows,
};

const BF16: ElemBytes = ElemBytes {
    weight: 2,
    kv: 2,
    activation: 2,
};

// ----------------------------------------------------------------- FLOP and byte counts

#[test]
fn llama_2_7b_decode_step_matches_hand_computed_counts() {
    let m = ModelShape::by_name("llama-2-7b").unwrap();
    // Per layer: QKV 4096x12288, O 4096x4096, MLP 3x4096x11008, two norm gains of 4096.
    assert_eq!(m.layer_weight_params(), 202_383_360);
    let w = m.decode_step_work(1, 1024, BF16);
    // Per layer without attention: 2*4096*12288 + 2*4096*4096 + 6*4096*11008 + elementwise
    // (8*4096 + 2*4096 + 5*11008) = 404,846,336. Attention: 32 heads x 1024 positions x
    // (4*128 + 5) = 16,941,056. Times 32 layers, plus the LM head 2*32000*4096 and the final
    // norm 4*4096: 13,759,356,928.
    assert_eq!(w.flops, 13_759_356_928);
    // Weights read once: 2 bytes x (32 layers x 202,383,360 + final norm 4096 + LM head
    // 32000*4096); the input embedding is a lookup, not a read of the whole table.
    assert_eq!(w.weight_bytes, 13_214_687_232);
    // KV cache: 2 bytes x 32 layers x (K and V) x 32 KV heads x 128 x 1024 positions.
    assert_eq!(w.kv_read_bytes, 536_870_912);
    assert_eq!(w.kv_write_bytes, 524_288);
    // Activations: 2 bytes x (32 x (4*4096 + 12288 + 2*11008) + 4096 + 32000).
    assert_eq!(w.activation_bytes, 3_316_224);
}

#[test]
fn llama_2_7b_prefill_counts_causal_attention_and_one_lm_head_per_prompt() {
    let m = ModelShape::by_name("llama-2-7b").unwrap();
    let w = m.prefill_work(1, 512, BF16);
    // 32 x (512 x 404,846,336 + 16,544 x 512*513/2) + 2*32000*4096 + 4*4096.
    assert_eq!(w.flops, 6_702_790_623_232);
    assert_eq!(w.kv_write_bytes, 2 * 512 * 32 * 2 * 32 * 128);
    assert_eq!(w.kv_read_bytes, 0);
    // Twice the batch is exactly twice the FLOPs, but the weights are still read once.
    let w2 = m.prefill_work(2, 512, BF16);
    assert_eq!(w2.flops, 2 * w.flops);
    assert_eq!(w2.weight_bytes, w.weight_bytes);
}

#[test]
fn decode_kv_cache_reads_grow_linearly_with_context() {
    let m = ModelShape::by_name("llama-3.1-8b").unwrap();
    let a = m.decode_step_work(4, 1000, BF16);
    let b = m.decode_step_work(4, 2000, BF16);
    assert_eq!(b.kv_read_bytes, 2 * a.kv_read_bytes);
    assert_eq!(a.weight_bytes, b.weight_bytes);
    assert!(b.flops > a.flops);
}

#[test]
fn tied_embeddings_are_read_once_as_the_lm_head() {
    let m = ModelShape::by_name("llama-3.2-1b").unwrap();
    assert!(m.tied_embeddings);
    let w = m.decode_step_work(1, 1, BF16);
    assert_eq!(
        w.weight_bytes,
        2 * (m.layers * m.layer_weight_params() + m.hidden + m.vocab * m.hidden)
    );
    // Resident memory counts the shared matrix once.
    assert_eq!(
        m.total_params(),
        m.layers * m.layer_weight_params() + m.vocab * m.hidden + m.hidden
    );
}

// ----------------------------------------------------------------- properties

fn h100x8() -> Hardware {
    let pricing = Pricing::embedded().unwrap();
    let acc = pricing.accelerator("h100-sxm").unwrap();
    Hardware::new(acc, 8, Precision::Bf16, 0.9, 256)
}

/// Round-number parameters for tests of the model's shape (not the fitted ones).
fn params(compute: f64, memory: f64) -> Params {
    Params {
        compute,
        memory,
        link: 0.5,
        allreduce_latency_us: 10.0,
        layer_overhead_us: 1.0,
    }
}

fn workload(model: &str, scenario: Scenario, batch: u64, prompt: u64, output: u64) -> Workload {
    Workload {
        model: ModelShape::by_name(model).unwrap(),
        precision: Precision::Bf16,
        scenario,
        batch: Some(batch),
        tensor_parallel: None,
        overlap_prefill: true,
        prompt_tokens: prompt,
        output_tokens: output,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn more_batch_never_lowers_projected_offline_throughput(
        model in prop::sample::select(ModelShape::preset_names()),
        batch in 1u64..512,
        extra in 1u64..512,
        prompt in 1u64..4096,
        output in 1u64..512,
        chips in prop::sample::select(vec![1u64, 2, 8]),
        eff_c in 0.2f64..1.0,
        eff_m in 0.2f64..1.0,
        overlap in any::<bool>(),
    ) {
        let pricing = Pricing::embedded().unwrap();
        let acc = pricing.accelerator("tpu-v6e").unwrap();
        let hw = Hardware::new(acc, chips, Precision::Bf16, 0.9, 256);
        let p = params(eff_c, eff_m);
        let at = |b| {
            let mut w = workload(model, Scenario::Offline, b, prompt, output);
            w.tensor_parallel = Some(chips);
            w.overlap_prefill = overlap;
            serving::project(&w, &hw, &p)
        };
        let (small, large) = (at(batch), at(batch + extra));
        prop_assume!(small.fits && large.fits);
        let tol = 1.0 - 1e-9;
        prop_assert!(large.output_tokens_per_s >= small.output_tokens_per_s * tol);
        prop_assert!(large.prefill_tokens_per_s >= small.prefill_tokens_per_s * tol);
    }

    #[test]
    fn higher_price_never_lowers_dollars_per_token(
        price in 0.01f64..500.0,
        factor in 1.0f64..10.0,
        batch in 1u64..256,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let at = |p: f64| {
            let path = dir.path().join(format!("p{p}.toml"));
            std::fs::write(
                &path,
                format!("[[instance]]\nname = \"p5.48xlarge\"\nusd_per_hour = {p:?}\nprice_source = \"test\"\n"),
            )
            .unwrap();
            let mut o = options("llama-3.1-8b");
            o.batch = Some(batch);
            o.output_tokens = 16;
            o.pricing = Some(path);
            o.instance = Some("p5.48xlarge".into());
            let r = cost::compute(&o).unwrap();
            let row = &r.rows[0];
            (row.usd_per_m_input.unwrap(), row.usd_per_m_output.unwrap())
        };
        let (in_lo, out_lo) = at(price);
        let (in_hi, out_hi) = at(price * factor);
        prop_assert!(in_hi >= in_lo);
        prop_assert!(out_hi >= out_lo);
    }
}

#[test]
fn batch_one_decode_over_eight_chips_pays_all_reduce_latency_every_layer() {
    // Llama-3.2-1B at batch 1 on 8 H100s: each chip streams its eighth of the weights in
    // ~0.13 ms, while the 2 x 16 all-reduce latencies per token cost 0.32 ms, so eight chips
    // buy far less than 8x, and no chip count can beat one token per 2 x 16 x 10 us.
    let w = workload("llama-3.2-1b", Scenario::Latency, 1, 512, 64);
    let p = params(0.6, 0.7);
    let eight = serving::project_layout(&w, &h100x8(), &p, 8);
    let one = serving::project_layout(&w, &h100x8(), &p, 1);
    assert_eq!(eight.bound, Bound::Communication);
    assert!(eight.comm_share > 0.5, "{}", eight.comm_share);
    let speedup = one.ms_per_output_token / eight.ms_per_output_token;
    assert!(speedup > 1.0 && speedup < 4.0, "{speedup}");
    assert!(1e3 / eight.ms_per_output_token < 1.0 / (2.0 * 16.0 * 10e-6));
    // For one stream the best layout of the instance is whichever is fastest.
    let best = serving::project(&w, &h100x8(), &p);
    assert!(best.ms_per_output_token <= eight.ms_per_output_token.min(one.ms_per_output_token));
}

#[test]
fn continuous_batching_hides_prefill_under_memory_bound_decode() {
    // Offline at batch 64, 512 + 256 tokens: overlapping prompt chunks with decode is never
    // slower than taking turns, and is faster where decode is memory-bound.
    let hw = h100x8();
    let p = params(0.6, 0.7);
    let mut w = workload("llama-3.1-8b", Scenario::Offline, 64, 512, 256);
    w.tensor_parallel = Some(1);
    let mixed = serving::project(&w, &hw, &p);
    w.overlap_prefill = false;
    let turns = serving::project(&w, &hw, &p);
    assert!(mixed.output_tokens_per_s > turns.output_tokens_per_s * 1.05);
    // A static batch (prefill, then decode in lockstep) is slower still per output token
    // than the steady state, and its time per token is one decode step.
    let mut s = workload("llama-3.1-8b", Scenario::Latency, 64, 512, 256);
    s.tensor_parallel = Some(1);
    let stat = serving::project(&s, &hw, &p);
    assert!(stat.output_tokens_per_s < mixed.output_tokens_per_s);
}

// ----------------------------------------------------------------- published reference points

fn projected_output_tokens_per_s(args: &[&str], instance: &str) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let out = accelbench_in(dir.path())
        .args(["cost", "--format", "json", "--instance", instance])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = json_rows(&out.stdout);
    let row = rows
        .iter()
        .find(|r| r["instance"] == instance)
        .expect("the named instance");
    assert_eq!(row["basis"], "projected");
    row["output_tokens_per_s"].as_f64().unwrap()
}

#[test]
fn mlperf_v5_llama_2_70b_offline_on_8_h100_is_reproduced_within_a_factor_of_two() {
    // Out of sample: MLPerf v5.x is reserved for independent checks and is not in the dataset.
    let published = 31_307.0;
    let projected = projected_output_tokens_per_s(
        &[
            "--model",
            "llama-2-70b",
            "--prompt-tokens",
            "512",
            "--output-tokens",
            "256",
            "--precision",
            "fp8",
        ],
        "p5.48xlarge",
    );
    println!(
        "MLPerf v5.0 Llama-2-70B Offline 8xH100: published {published} tok/s, projected {projected:.0} tok/s ({:.2}x)",
        projected / published
    );
    assert!(
        projected > published / 2.0 && projected < published * 2.0,
        "{projected}"
    );
}

#[test]
fn jetstream_llama_2_7b_on_tpu_v5e_8_at_other_lengths_is_within_a_factor_of_two() {
    // The dataset holds this figure at 110 + 305 tokens and batch 96; here the model moves it
    // to 512 + 512 tokens and batch 128, as the earlier calibration asked.
    let published = 3_663.0;
    let projected = projected_output_tokens_per_s(
        &[
            "--model",
            "llama-2-7b",
            "--batch",
            "128",
            "--prompt-tokens",
            "512",
            "--output-tokens",
            "512",
        ],
        "v5litepod-8",
    );
    println!(
        "JetStream TPU v5e-8 Llama-2-7B bf16: published {published} tok/s, projected {projected:.0} tok/s ({:.2}x)",
        projected / published
    );
    assert!(
        projected > published / 2.0 && projected < published * 2.0,
        "{projected}"
    );
}

// ----------------------------------------------------------------- library behaviour

#[test]
fn every_embedded_instance_names_a_known_accelerator_and_a_positive_or_unknown_price() {
    let p = Pricing::embedded().unwrap();
    assert!(p.instances.len() >= 25);
    for i in &p.instances {
        assert!(p.accelerator(&i.accelerator).is_some(), "{}", i.name);
        if let Some(usd) = i.usd_per_hour() {
            assert!(usd > 0.0 && usd.is_finite(), "{}", i.name);
        }
    }
    // TPUs bill per chip-hour: v5litepod-8 is 8 x $1.20.
    assert_eq!(p.instance("v5litepod-8").unwrap().usd_per_hour(), Some(9.6));
    // No published on-demand price: projected but priced as unknown.
    assert_eq!(p.instance("trn2.48xlarge").unwrap().usd_per_hour(), None);
}

#[test]
fn an_instance_without_a_price_is_still_projected_and_priced_once_the_user_supplies_one() {
    let mut o = options("llama-3.1-8b");
    o.instance = Some("trn2.48xlarge".into());
    let r = cost::compute(&o).unwrap();
    let row = &r.rows[0];
    assert!(row.output_tokens_per_s.unwrap() > 0.0);
    assert_eq!(row.usd_per_m_output, None);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(
        &path,
        "[[instance]]\nname = \"trn2.48xlarge\"\nusd_per_hour = 40.0\nprice_source = \"my quote\"\nprice_date = \"2026-11-01\"\n",
    )
    .unwrap();
    o.pricing = Some(path);
    let r = cost::compute(&o).unwrap();
    let row = &r.rows[0];
    assert_eq!(row.usd_per_hour, Some(40.0));
    assert_eq!(row.price_source, "my quote");
    let expected = 40.0 / (row.output_tokens_per_s.unwrap() * 3600.0) * 1e6;
    assert!((row.usd_per_m_output.unwrap() - expected).abs() < 1e-9);
}

#[test]
fn default_rows_take_the_smallest_instance_that_fits_and_flag_those_that_do_not() {
    let mut o = options("llama-2-70b");
    o.batch = Some(4);
    let r = cost::compute(&o).unwrap();
    let h100 = r
        .rows
        .iter()
        .find(|r| r.accelerator.contains("H100"))
        .unwrap();
    // 140 GB of bf16 weights do not fit one 80 GB H100, so the 8-GPU instance is chosen.
    assert_eq!(h100.chips, 8);
    let l4 = r
        .rows
        .iter()
        .find(|r| r.accelerator == "NVIDIA L4")
        .unwrap();
    assert!(!l4.fits);
    assert_eq!(l4.output_tokens_per_s, None);
    assert!(l4.notes.iter().any(|n| n.contains("does not fit")));
}

#[test]
fn measured_rows_come_from_the_results_file_and_leave_the_projection_alone() {
    let mut o = options("llama-3.1-8b");
    o.files = vec![fixture_path()];
    o.price_per_hour = Some(0.5);
    let r = cost::compute(&o).unwrap();
    let local: Vec<_> = r.rows.iter().filter(|r| r.kind == "local").collect();
    // The software adapter in the fixture is never read as GPU speed.
    assert_eq!(local.len(), 1);
    let cpu = local[0];
    assert_eq!(cpu.basis, "measured");
    assert_eq!(cpu.instance, "fixture-host:cpu");
    // Decode measured on llama-3.2-1b at 15 tok/s, scaled down by bytes per token.
    let d = cpu.decode_tokens_per_s.unwrap();
    assert!(d < 15.0 && d > 1.0, "{d}");
    assert!(
        cpu.notes
            .iter()
            .any(|n| n.contains("scaled from measured llama-3.2-1b"))
    );
    // Prefill from the 512x14336x4096 GEMM at 400 GFLOP/s over ~15 GFLOP per prompt token.
    let p = cpu.prefill_tokens_per_s.unwrap();
    assert!(p > 20.0 && p < 40.0, "{p}");
    assert_eq!(cpu.usd_per_hour, Some(0.5));
    // Projected rows are the fitted table's, exactly as without the results file.
    let without = cost::compute(&CostOptions {
        price_per_hour: Some(0.5),
        ..options("llama-3.1-8b")
    })
    .unwrap();
    let projected = |rows: &[cost::CostRow]| -> Vec<cost::CostRow> {
        rows.iter()
            .filter(|r| r.basis == "projected")
            .cloned()
            .collect()
    };
    assert_eq!(projected(&r.rows), projected(&without.rows));
    assert!(projected(&r.rows).iter().all(|r| r.fit.contains("fit")));
}

/// The fixture run plus llama-3.1-8b rows `(kernel, dtype, context, tokens/s)` made from its
/// decode_step row, priced for llama-3.1-8b: the local CPU's cost row.
fn local_row_with(rows: &[(&str, &str, u64, f64)]) -> cost::CostRow {
    let mut run = accelbench::results::load(&fixture_path()).unwrap();
    let base = run
        .results
        .iter()
        .find(|r| r.kernel == "decode_step")
        .unwrap()
        .clone();
    for &(kernel, dtype, context, tps) in rows {
        let mut row = base.clone();
        row.kernel = kernel.into();
        row.shape.insert("model".into(), "llama-3.1-8b".into());
        row.shape.insert("context".into(), context.into());
        row.dtype = dtype.into();
        row.tokens_per_s = Some(tps);
        run.results.push(row);
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.json");
    accelbench::results::save(&run, &file, false).unwrap();
    let mut o = options("llama-3.1-8b");
    o.files = vec![file];
    let r = cost::compute(&o).unwrap();
    r.rows.into_iter().find(|r| r.kind == "local").unwrap()
}

#[test]
fn a_decode_step_measured_in_f16_stands_for_bf16_before_one_in_f32() {
    // The same model measured in f32 and f16: a bf16 projection is compared with the f16 row
    // (the same bytes per weight), whichever comes first in the file.
    let cpu = local_row_with(&[
        ("decode_step", "f32", 1024, 1.0),
        ("decode_step", "f16", 1024, 1.8),
    ]);
    assert_eq!(cpu.decode_tokens_per_s, Some(1.8));
    assert!(
        cpu.notes
            .iter()
            .any(|n| n.contains("measured decode_step llama-3.1-8b context 1024 f16")),
        "{:?}",
        cpu.notes
    );
}

#[test]
fn a_decode_token_row_prices_the_device_before_any_decode_step_row() {
    // A run with the whole model measured: its decode_token row (nearest dtype, then context)
    // is the rate, and the old per-layer figure is not used.
    let cpu = local_row_with(&[
        ("decode_step", "f16", 1024, 9.0),
        ("decode_token", "f32", 1024, 1.0),
        ("decode_token", "f16", 4096, 1.5),
        ("decode_token", "f16", 1024, 1.7),
    ]);
    assert_eq!(cpu.decode_tokens_per_s, Some(1.7));
    assert!(
        cpu.notes
            .iter()
            .any(|n| n.contains("measured decode_token llama-3.1-8b context 1024 f16")),
        "{:?}",
        cpu.notes
    );
    assert!(!cpu.notes.iter().any(|n| n.contains("no decode_token row")));
}

#[test]
fn an_old_file_without_decode_token_is_priced_from_decode_step_and_says_so() {
    let mut o = options("llama-3.1-8b");
    o.files = vec![fixture_path()];
    let r = cost::compute(&o).unwrap();
    let cpu = r.rows.iter().find(|r| r.kind == "local").unwrap();
    assert!(
        cpu.notes.iter().any(|n| n.contains("no decode_token row")),
        "{:?}",
        cpu.notes
    );
}
