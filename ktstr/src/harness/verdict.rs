//! The verdict block printed for every trial, and the JSON run record written beside the build.

use std::fmt::Write;
use std::path::PathBuf;

use super::{OutcomeKind, TrialOutcome};
use crate::assert::ReportHeader;
use crate::protocol::TopologySeen;

/// The human verdict: header, failures, stats, scheduler log tail, console tail on a crash.
pub fn render(outcome: &TrialOutcome, expected: OutcomeKind) -> String {
    let mut out = header(outcome, expected);
    if let Some(result) = outcome.report.as_ref().and_then(|r| r.test.result()) {
        let header = ReportHeader {
            test: outcome.test.clone(),
            scheduler: Some(outcome.scheduler.clone()).filter(|s| s != "eevdf"),
            topology: Some(outcome.topology.clone()),
        };
        out += &result.format_human(&header);
    }
    out += &scheduler_sections(outcome);
    let crashed = matches!(
        outcome.kind,
        OutcomeKind::GuestKernelPanic | OutcomeKind::TimedOut | OutcomeKind::NoReport
    );
    let skipped = outcome.kind == OutcomeKind::Skipped && expected == OutcomeKind::Passed;
    if crashed || (outcome.kind != expected && !skipped) {
        out += &evidence(outcome, expected);
    }
    let _ = writeln!(
        out,
        "prep {} ms, boot {} ms, trial {} ms",
        outcome.prep_ms,
        outcome.boot_ms.map_or("?".into(), |b| b.to_string()),
        outcome.wall_ms
    );
    out
}

/// The first lines: the outcome against the expected one, what ran where, and the reason.
fn header(outcome: &TrialOutcome, expected: OutcomeKind) -> String {
    let mut out = String::new();
    let matched = match outcome.kind {
        kind if kind == expected => "as expected",
        OutcomeKind::Skipped if expected == OutcomeKind::Passed => "skipped, not judged",
        _ => "UNEXPECTED",
    };
    let _ = writeln!(
        out,
        "=== ktstr {}: {:?} ({matched}; expected {:?})",
        outcome.test, outcome.kind, expected
    );
    let ops = outcome
        .ops_name
        .as_deref()
        .map(|o| format!(" (ops {o})"))
        .unwrap_or_default();
    let args: String = outcome
        .scheduler_args
        .iter()
        .map(|a| format!(" {a}"))
        .collect();
    let _ = writeln!(
        out,
        "topology {} | scheduler {}{args}{ops} | profile {} | accel {} | kernel {}",
        outcome.topology,
        outcome.scheduler,
        outcome.profile,
        outcome.accel,
        outcome.kernel.display()
    );
    if let Some(binary) = &outcome.scheduler_binary {
        let _ = writeln!(
            out,
            "scheduler binary {} ({})",
            binary.path.display(),
            binary.source
        );
    }
    if let Some(report) = &outcome.report {
        let _ = writeln!(
            out,
            "{}",
            topology_seen(&report.topology, &outcome.topology)
        );
    }
    let _ = writeln!(out, "reason: {}", outcome.reason);
    if let Some(diagnosis) = &outcome.load_diagnosis {
        out += "--- why the scheduler could not load ---\n";
        for line in &diagnosis.evidence {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

fn topology_seen(seen: &TopologySeen, requested: &str) -> String {
    match seen {
        TopologySeen::NotChecked => "the guest did not check its topology".to_string(),
        TopologySeen::Matched => format!("guest saw topology {requested}"),
        TopologySeen::Mismatched { shape } => format!("guest saw topology {shape}"),
        TopologySeen::Unreadable { reason } => {
            format!("the guest could not read its topology: {reason}")
        }
    }
}

/// The scheduler's log tail and sched_ext's exit record.
fn scheduler_sections(outcome: &TrialOutcome) -> String {
    let mut out = String::new();
    let sched_log = outcome
        .scheduler_failed_output
        .clone()
        .or_else(|| {
            outcome
                .report
                .as_ref()
                .map(|r| r.scheduler_output_tail.clone())
        })
        .filter(|s| !s.trim().is_empty());
    if let Some(log) = sched_log {
        out += "--- scheduler log (tail) ---\n";
        for line in tail(&crate::sched::strip_ansi(&log), 20) {
            let _ = writeln!(out, "{line}");
        }
    }
    if let Some(exit) = outcome.report.as_ref().and_then(|r| r.scx_exit.as_ref()) {
        let _ = writeln!(out, "--- sched_ext exit ---\n{exit:?}");
    }
    out
}

/// The console tail, the streamed kernel log (when unexpected) and QEMU's stderr.
fn evidence(outcome: &TrialOutcome, expected: OutcomeKind) -> String {
    let mut out = "--- console (tail) ---\n".to_string();
    for line in &outcome.console_tail {
        let _ = writeln!(out, "{line}");
    }
    if !outcome.kmsg_tail.is_empty() && outcome.kind != expected {
        out += "--- kernel log, as the guest streamed it (tail) ---\n";
        for line in tail_of(&outcome.kmsg_tail, 20) {
            let _ = writeln!(out, "{line}");
        }
    }
    if !outcome.qemu_stderr_tail.is_empty() {
        out += "--- QEMU stderr (tail) ---\n";
        for line in &outcome.qemu_stderr_tail {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

fn tail_of(lines: &[String], n: usize) -> &[String] {
    &lines[lines.len().saturating_sub(n)..]
}

fn tail(text: &str, lines: usize) -> Vec<&str> {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].to_vec()
}

/// Where run directories go (`ktstr::runs::runs_root`).
pub fn runs_dir() -> PathBuf {
    crate::runs::runs_root()
}

/// A record as written: the outcome, flattened, with the record's schema, run and repeat, and every metric
/// the checks saw.
#[derive(serde::Serialize)]
struct RecordOut<'a> {
    schema_version: u32,
    run_id: &'a str,
    repeat: u32,
    metrics: std::collections::BTreeMap<String, f64>,
    #[serde(flatten)]
    outcome: &'a TrialOutcome,
}

/// Writes the outcome as a record of repeat `repeat` into this process's run directory; returns the file.
pub fn write_record(outcome: &TrialOutcome, repeat: u32) -> std::io::Result<PathBuf> {
    let run = crate::runs::RunDir::current()?;
    let metrics = outcome
        .report
        .as_ref()
        .and_then(|r| r.test.result())
        .map(|r| crate::runs::metrics_of(r, outcome.duration_ms as f64 / 1000.0))
        .unwrap_or_default();
    let record = RecordOut {
        schema_version: crate::runs::SCHEMA_VERSION,
        run_id: &run.id,
        repeat,
        metrics,
        outcome,
    };
    run.write(&record, &outcome.test, repeat)
}
