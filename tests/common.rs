//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};

use accelbench::cost::{CostFormat, CostOptions};
use accelbench::model::ModelShape;
use assert_cmd::Command;

/// A tiny decode-step model with odd sizes everywhere: hidden and ffn not multiples of 4, a
/// GQA group of 2, head_dim 6.
pub fn tiny_model() -> ModelShape {
    ModelShape {
        name: "tiny-test".to_string(),
        layers: 2,
        hidden: 30,
        q_heads: 4,
        kv_heads: 2,
        head_dim: 6,
        ffn: 51,
        vocab: 100,
        tied_embeddings: true,
    }
}

/// `accelbench` run in `dir` (an empty temporary directory, so no `results/` is picked up).
pub fn accelbench_in(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("accelbench").unwrap();
    cmd.current_dir(dir);
    cmd
}

/// A results file with a measured CPU (and a software adapter) for the cost tests.
pub fn cost_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cost-results.json")
}

/// `cost`'s defaults for `model`, JSON output, no results file.
pub fn cost_options(model: &str) -> CostOptions {
    CostOptions {
        model: model.to_string(),
        format: CostFormat::Json,
        ..CostOptions::defaults(Vec::new())
    }
}

/// The `rows` array of `cost --format json` output.
pub fn json_rows(stdout: &[u8]) -> Vec<serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_slice(stdout).expect("cost --format json prints JSON");
    v["rows"].as_array().expect("a rows array").clone()
}

/// Run `cmd`, require success (printing its stderr otherwise) and return its stdout.
pub fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
