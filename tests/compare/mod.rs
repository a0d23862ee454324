//! Integration tests: compare. Statistics on synthetic samples (seeded, deterministic), the CLI
//! on fixture results files, and bad input.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use accelbench::compare::{self, Verdict};
use accelbench::measure::{self, MeasureConfig};
use accelbench::results::{
    DeviceKind, DeviceRecord, Host, ResultRow, RunResults, RunSettings, SCHEMA_VERSION, TimerKind,
    Verified,
};
use accelbench::stats;
use accelbench::workload::{Dtype, Kernel, Workload};
use assert_cmd::Command;
use predicates::prelude::*;

mod cli;
mod fixtures;
mod replicates;
mod statistics;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compare")
}

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

fn accelbench() -> Command {
    Command::cargo_bin("accelbench").expect("binary builds")
}
