//! The verdict block printed for every trial, walking the outcome's parts in order.

use std::fmt::Write;

use super::{OutcomeKind, TrialOutcome};
use crate::assert::ReportHeader;
use crate::protocol::TopologySeen;

/// Header, the test's failures and stats, the scheduler's log tail and exit record, the host's evidence
/// when the trial crashed or did not end as expected, and the timings.
pub(super) fn render(outcome: &TrialOutcome) -> String {
    let mut out = header(outcome);
    if let Some(result) = outcome.result() {
        let header = ReportHeader {
            test: outcome.trial.name.clone(),
            scheduler: Some(outcome.scheduler.name.clone())
                .filter(|_| !outcome.scheduler.is_eevdf()),
            topology: Some(outcome.trial.topology.clone()),
        };
        out += &result.format_human(&header);
    }
    out += &scheduler_sections(outcome);
    let verdict = &outcome.verdict;
    let crashed = matches!(
        verdict.kind,
        OutcomeKind::GuestKernelPanic | OutcomeKind::TimedOut | OutcomeKind::NoReport
    );
    let skipped = verdict.kind == OutcomeKind::Skipped && verdict.expected == OutcomeKind::Passed;
    if crashed || (verdict.kind != verdict.expected && !skipped) {
        out += &evidence(outcome);
    }
    let t = &outcome.timings;
    let waited = match t.start_wait_ms {
        0..50 => String::new(),
        ms => format!(", waited {ms} ms for host CPUs"),
    };
    let _ = writeln!(
        out,
        "prep {} ms, boot {} ms{waited}, trial {} ms",
        t.prep_ms,
        t.boot_ms.map_or("?".into(), |b| b.to_string()),
        t.wall_ms
    );
    out
}

/// The first lines: the outcome against the expected one, what ran where, and the reason.
fn header(outcome: &TrialOutcome) -> String {
    let mut out = String::new();
    let (verdict, sched, vm) = (&outcome.verdict, &outcome.scheduler, &outcome.vm);
    let matched = match verdict.kind {
        kind if kind == verdict.expected => "as expected",
        OutcomeKind::Skipped if verdict.expected == OutcomeKind::Passed => "skipped, not judged",
        _ => "UNEXPECTED",
    };
    let _ = writeln!(
        out,
        "=== ktstr {}: {:?} ({matched}; expected {:?})",
        outcome.trial.name, verdict.kind, verdict.expected
    );
    let ops = sched
        .ops_name
        .as_deref()
        .map(|o| format!(" (ops {o})"))
        .unwrap_or_default();
    let args: String = sched.args.iter().map(|a| format!(" {a}")).collect();
    let _ = writeln!(
        out,
        "topology {} | scheduler {}{args}{ops} | profile {} | accel {} | kernel {}",
        outcome.trial.topology,
        sched.name,
        sched.profile,
        vm.accel,
        vm.kernel.display()
    );
    if let Some(binary) = &sched.binary {
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
            topology_seen(&report.topology, &outcome.trial.topology)
        );
    }
    let _ = writeln!(out, "reason: {}", verdict.reason);
    if let Some(diagnosis) = &sched.load_diagnosis {
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
        .scheduler
        .failed_output
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
        let stripped = crate::sched::strip_ansi(&log);
        let lines: Vec<&str> = stripped.lines().collect();
        for line in tail(&lines, 20) {
            let _ = writeln!(out, "{line}");
        }
    }
    if let Some(exit) = outcome.report.as_ref().and_then(|r| r.scx_exit.as_ref()) {
        let _ = writeln!(out, "--- sched_ext exit ---\n{exit:?}");
    }
    out
}

/// The console tail, the streamed kernel log (when unexpected) and QEMU's stderr.
fn evidence(outcome: &TrialOutcome) -> String {
    let evidence = &outcome.evidence;
    let mut out = "--- console (tail) ---\n".to_string();
    for line in &evidence.console_tail {
        let _ = writeln!(out, "{line}");
    }
    if !evidence.kmsg_tail.is_empty() && outcome.verdict.kind != outcome.verdict.expected {
        out += "--- kernel log, as the guest streamed it (tail) ---\n";
        for line in tail(&evidence.kmsg_tail, 20) {
            let _ = writeln!(out, "{line}");
        }
    }
    if !evidence.qemu_stderr_tail.is_empty() {
        out += "--- QEMU stderr (tail) ---\n";
        for line in &evidence.qemu_stderr_tail {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// The last `n` of `lines`.
fn tail<T>(lines: &[T], n: usize) -> &[T] {
    &lines[lines.len().saturating_sub(n)..]
}
