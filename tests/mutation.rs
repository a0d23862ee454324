//! Integration tests: a seeded mutation test over results files. Every mutated file
//! (truncations, bit flips, deleted fields, swapped types, huge numbers, damaged histograms)
//! goes through the loaders of `report`, `compare` and `cost`: none may panic, and every
//! refusal is an error whose message names the file.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use accelbench::reference::SplitMix64;
use accelbench::{compare, cost, report};
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

/// Mutated files checked through the library (three loaders each).
const MUTANTS: usize = 10_000;
/// Mutated files also run through the binary.
const THROUGH_THE_BINARY: usize = 36;

fn fixture() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compare/baseline.json");
    std::fs::read_to_string(p).unwrap()
}

fn below(rng: &mut SplitMix64, n: usize) -> usize {
    (rng.next_u64() % n.max(1) as u64) as usize
}

/// A value of another type, or a number no results file can hold.
fn hostile_value(rng: &mut SplitMix64) -> Value {
    let choices: [Value; 14] = [
        Value::Null,
        true.into(),
        "text".into(),
        Value::Array(vec![]),
        serde_json::json!({"x": 1}),
        (-1).into(),
        0.into(),
        u64::MAX.into(),
        (1u64 << 63).into(),
        i64::MIN.into(),
        1e308.into(),
        (-1e308).into(),
        1e-308.into(),
        "bm90IGEgaGlzdG9ncmFt".into(),
    ];
    choices[below(rng, choices.len())].clone()
}

/// Every path to a value inside `v` (object keys and array indices).
fn paths(v: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                prefix.push(Step::Key(k.clone()));
                out.push(prefix.clone());
                paths(c, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                prefix.push(Step::Index(i));
                out.push(prefix.clone());
                paths(c, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn parent_mut<'a>(v: &'a mut Value, path: &[Step]) -> &'a mut Value {
    let mut cur = v;
    for s in &path[..path.len() - 1] {
        cur = match s {
            Step::Key(k) => &mut cur[k.as_str()],
            Step::Index(i) => &mut cur[*i],
        };
    }
    cur
}

/// One mutant of `text` (the fixture), chosen by `rng`.
fn mutate(text: &str, all: &[Vec<Step>], rng: &mut SplitMix64) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    match below(rng, 6) {
        0 => {
            bytes.truncate(below(rng, bytes.len()));
            bytes
        }
        1 => {
            for _ in 0..1 + below(rng, 4) {
                let i = below(rng, bytes.len());
                bytes[i] ^= 1 << below(rng, 8);
            }
            bytes
        }
        kind => {
            let mut v: Value = serde_json::from_str(text).unwrap();
            let path = &all[below(rng, all.len())];
            let parent = parent_mut(&mut v, path);
            match (kind, path.last().unwrap()) {
                (2, Step::Key(k)) => {
                    parent.as_object_mut().unwrap().remove(k);
                }
                (2, Step::Index(i)) => {
                    parent.as_array_mut().unwrap().remove(*i);
                }
                (3 | 4, Step::Key(k)) => parent[k.as_str()] = hostile_value(rng),
                (3 | 4, Step::Index(i)) => parent[*i] = hostile_value(rng),
                // A damaged histogram: one base64 character changed.
                _ => {
                    let rows = v["results"].as_array_mut().unwrap();
                    let n = rows.len();
                    let row = &mut rows[below(rng, n)];
                    if let Some(h) = row["histogram"].as_str() {
                        let mut h = h.as_bytes().to_vec();
                        if !h.is_empty() {
                            let i = below(rng, h.len());
                            h[i] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
                                [below(rng, 65)];
                        }
                        row["histogram"] = String::from_utf8(h).unwrap().into();
                    }
                }
            }
            serde_json::to_vec(&v).unwrap()
        }
    }
}

/// Run `f`, failing the test on a panic and on an error that does not name `path`.
fn no_panic_and_named<T>(what: &str, path: &Path, f: impl FnOnce() -> anyhow::Result<T>) -> bool {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    match catch_unwind(AssertUnwindSafe(f)) {
        Err(_) => panic!("{what} panicked on {}", path.display()),
        Ok(Err(e)) => {
            let msg = format!("{e:#}");
            assert!(
                msg.contains(&name),
                "{what}: error does not name the file: {msg}"
            );
            false
        }
        Ok(Ok(_)) => true,
    }
}

#[test]
fn ten_thousand_mutated_results_files_never_panic_and_every_error_names_the_file() {
    let text = fixture();
    let mut all = Vec::new();
    paths(
        &serde_json::from_str(&text).unwrap(),
        &mut Vec::new(),
        &mut all,
    );
    let dir = tempfile::tempdir().unwrap();
    let baseline_path = dir.path().join("baseline.json");
    std::fs::write(&baseline_path, &text).unwrap();
    let baseline = compare::load_side(&baseline_path).unwrap();
    let mut rng = SplitMix64::new(0x5eed_0011);
    let (mut accepted, mut refused) = (0usize, 0usize);
    // Hooks print panics; keep the output readable (a panic still fails below).
    for i in 0..MUTANTS {
        let path = dir.path().join(format!("mutant-{i}.json"));
        std::fs::write(&path, mutate(&text, &all, &mut rng)).unwrap();
        let files = vec![path.clone()];
        let ok = no_panic_and_named("report", &path, || report::load_and_merge(&files));
        let loaded = no_panic_and_named("compare", &path, || {
            let side = compare::load_side(&path)?;
            // Loaded: the comparison reads its histograms too.
            let _ = compare::compare_sides(&baseline, &side, 5.0);
            Ok(())
        });
        no_panic_and_named("cost", &path, || {
            cost::compute(&report::cost_options(files.clone()))
        });
        assert_eq!(
            ok,
            loaded,
            "report and compare disagree on {}",
            path.display()
        );
        if ok {
            accepted += 1;
        } else {
            refused += 1;
        }
        std::fs::remove_file(&path).unwrap();
    }
    assert_eq!(accepted + refused, MUTANTS);
    assert!(
        refused > MUTANTS / 2,
        "only {refused} of {MUTANTS} mutants refused"
    );
}

#[test]
fn mutated_results_files_through_the_binary_exit_0_or_2_without_panicking() {
    let text = fixture();
    let mut all = Vec::new();
    paths(
        &serde_json::from_str(&text).unwrap(),
        &mut Vec::new(),
        &mut all,
    );
    let dir = tempfile::tempdir().unwrap();
    let mut rng = SplitMix64::new(0x5eed_0012);
    for i in 0..THROUGH_THE_BINARY {
        let path: PathBuf = dir.path().join(format!("mutant-{i}.json"));
        std::fs::write(&path, mutate(&text, &all, &mut rng)).unwrap();
        let command = ["report", "cost", "compare"][i % 3];
        let mut c = Command::cargo_bin("accelbench").unwrap();
        c.env("NO_COLOR", "1").arg(command);
        if command == "compare" {
            c.arg(&path);
        }
        c.arg(&path);
        let out = c.output().unwrap();
        let code = out.status.code();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            code == Some(0) || code == Some(2),
            "{command} {}: exit {code:?}: {stderr}",
            path.display()
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        if code == Some(2) {
            assert!(
                predicate::str::contains(format!("mutant-{i}.json")).eval(&stderr),
                "{stderr}"
            );
        }
    }
}
