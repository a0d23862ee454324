//! The comparison as a terminal table and as Markdown for a pull-request comment.

use std::io::Write;

use anyhow::Result;

use super::{Comparison, SideSummary, WorkloadComparison};
use crate::render::Table;
use crate::render::escape::{markdown as md_escape, markdown_code};
use crate::render::units::format_ns;
use crate::results::DeviceKind;

pub(super) fn pct(v: f64) -> String {
    if v.is_finite() {
        // Round first so that -0.04 prints as +0.0%, not -0.0%.
        let r = (v * 10.0).round() / 10.0;
        let r = if r == 0.0 { 0.0 } else { r };
        format!("{r:+.1}%")
    } else {
        "-".to_string()
    }
}

/// The cells every table format shows, in order.
pub(super) fn cells(w: &WorkloadComparison) -> [String; 7] {
    let device = format!(
        "{} {}",
        match w.device_kind {
            DeviceKind::Cpu => "cpu",
            DeviceKind::Gpu => "gpu",
        },
        w.device_name
    );
    let lat = |s: &Option<SideSummary>| match s {
        Some(SideSummary {
            p50_ns: Some(p), ..
        }) => format_ns(*p),
        Some(_) => "failed".to_string(),
        None => "-".to_string(),
    };
    let (change, p99) = match &w.change {
        Some(c) => (
            format!(
                "{} [{}, {}]",
                pct(c.median_pct),
                pct(c.median_ci95_pct[0]),
                pct(c.median_ci95_pct[1])
            ),
            pct(c.p99_pct),
        ),
        None => ("-".to_string(), "-".to_string()),
    };
    [
        device,
        w.workload.clone(),
        lat(&w.baseline),
        lat(&w.candidate),
        change,
        p99,
        w.verdict.words().to_string(),
    ]
}

pub(super) fn summary_sentence(cmp: &Comparison) -> String {
    let s = &cmp.summary;
    let mut parts = vec![
        format!(
            "{} regression{}",
            s.regressions,
            if s.regressions == 1 { "" } else { "s" }
        ),
        format!(
            "{} improvement{}",
            s.improvements,
            if s.improvements == 1 { "" } else { "s" }
        ),
        format!("{} no change", s.no_change),
    ];
    for (n, words) in [
        (s.new_failures, "newly failing"),
        (s.still_failing, "failed in both"),
        (s.fixed, "fixed"),
        (s.only_in_baseline, "only in baseline"),
        (s.only_in_candidate, "only in candidate"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {words}"));
        }
    }
    parts.join(", ")
}

pub(super) fn failures(cmp: &Comparison) -> Vec<String> {
    let mut out = Vec::new();
    for w in &cmp.workloads {
        for (s, which) in [(&w.baseline, "baseline"), (&w.candidate, "candidate")] {
            if let Some(SideSummary {
                ok: false,
                error: Some(e),
                ..
            }) = s
            {
                out.push(format!(
                    "{} on {} ({which}): {e}",
                    w.workload, w.device_name
                ));
            }
        }
    }
    out
}

/// Column headings; the interval's heading names its confidence (95% for one file per side,
/// the per-workload corrected level for replicate runs).
pub(super) fn headers(cmp: &Comparison) -> [String; 7] {
    let ci = match &cmp.replicates {
        None => "change in median [95% CI]".to_string(),
        Some(r) => format!(
            "change in median [{:.1}% CI, runs]",
            100.0 * r.per_workload_confidence
        ),
    };
    let mut h = HEADERS.map(String::from);
    h[4] = ci;
    h
}

pub(super) const HEADERS: [&str; 7] = [
    "device",
    "workload",
    "baseline p50",
    "candidate p50",
    "change in median [95% CI]",
    "p99 change",
    "verdict",
];

/// Terminal table.
pub fn write_table(cmp: &Comparison, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "baseline:  {} ({}, {})",
        cmp.baseline.path, cmp.baseline.hostname, cmp.baseline.started_at
    )?;
    writeln!(
        out,
        "candidate: {} ({}, {})",
        cmp.candidate.path, cmp.candidate.hostname, cmp.candidate.started_at
    )?;
    writeln!(out)?;
    // Numbers right-aligned, words left-aligned; long workload labels wrap.
    let mut t = Table::new(headers(cmp)).numeric(2..=5);
    for w in &cmp.workloads {
        t.push(cells(w));
    }
    write!(out, "{}", t.to_text())?;
    writeln!(out)?;
    writeln!(out, "{}.", summary_sentence(cmp))?;
    writeln!(out, "rule: {}.", cmp.rule)?;
    for f in failures(cmp) {
        writeln!(out, "failed: {f}")?;
    }
    for n in &cmp.notes {
        writeln!(out, "note: {n}")?;
    }
    Ok(())
}

/// Markdown ready for a pull-request comment.
pub fn write_markdown(cmp: &Comparison, out: &mut dyn Write) -> Result<()> {
    let head = if cmp.regressed {
        let mut parts = Vec::new();
        let n = cmp.summary.regressions;
        if n > 0 {
            parts.push(format!(
                "{n} regression{} beyond {}%",
                if n == 1 { "" } else { "s" },
                cmp.threshold_pct
            ));
        }
        let f = cmp.summary.new_failures;
        if f > 0 {
            parts.push(format!(
                "{f} workload{} newly failing",
                if f == 1 { "" } else { "s" }
            ));
        }
        format!("### accelbench: {}", parts.join(", "))
    } else {
        format!(
            "### accelbench: no regression beyond {}%",
            cmp.threshold_pct
        )
    };
    writeln!(out, "{head}")?;
    writeln!(out)?;
    writeln!(
        out,
        "Baseline {} ({}, {}) vs candidate {} ({}, {}): {}.",
        markdown_code(&cmp.baseline.path),
        md_escape(&cmp.baseline.hostname),
        cmp.baseline.started_at,
        markdown_code(&cmp.candidate.path),
        md_escape(&cmp.candidate.hostname),
        cmp.candidate.started_at,
        summary_sentence(cmp)
    )?;
    writeln!(out)?;
    // Our own headings and figures go in as they are; the device and workload names come from
    // results files and are escaped. The verdict of a regression is bold.
    let mut t = Table::new(headers(cmp)).numeric(2..=5).markup();
    for w in &cmp.workloads {
        let mut c = cells(w);
        c[0] = md_escape(&c[0]);
        c[1] = md_escape(&c[1]);
        if w.verdict.is_regression() {
            c[6] = format!("**{}**", c[6]);
        }
        t.push(c);
    }
    write!(out, "{}", t.to_markdown())?;
    writeln!(out)?;
    writeln!(out, "Rule: {}.", cmp.rule)?;
    let fails = failures(cmp);
    let notes = &cmp.notes;
    if !fails.is_empty() || !notes.is_empty() {
        writeln!(out)?;
        for f in fails {
            writeln!(out, "- failed: {}", md_escape(&f))?;
        }
        for n in notes {
            writeln!(out, "- note: {}", md_escape(n))?;
        }
    }
    Ok(())
}
