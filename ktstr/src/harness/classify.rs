//! Classifying a finished trial from what the guest sent, whether the deadline hit, and the console.

use crate::assert::{AssertResult, DetailKind};
use crate::outcome::OutcomeKind;
use crate::protocol::{GuestMessage, GuestReport, TestEnd, TopologySeen};
use crate::sched::{diagnose_load_failure, strip_ansi, LoadCause, LoadDiagnosis};
use crate::scx::ScxLogEvent;

/// What the classifier judges: the host's observation of one trial, with what was requested.
pub(crate) struct Seen<'a> {
    pub requested_topology: &'a str,
    pub eevdf: bool,
    pub messages: &'a [GuestMessage],
    pub report: Option<&'a GuestReport>,
    pub timed_out: bool,
    pub console: &'a str,
    /// Kernel log records the guest streamed while it ran.
    pub kmsg: &'a [String],
    /// QEMU's exit status; `None` when it was killed at the deadline.
    pub qemu_status: Option<std::process::ExitStatus>,
    pub qemu_stderr: &'a str,
}

/// The outcome class and a one-line reason: the first cause the evidence shows, then its symptoms. The
/// kernel's own evidence (a panic, sched_ext ejecting the scheduler) outranks what the guest reported; it
/// is read from the console, the streamed kernel log, and the kernel log tail the report carries (a line
/// logged just before power-off can miss the first two).
pub(crate) fn classify(seen: &Seen) -> (OutcomeKind, String) {
    let reported_tail = seen
        .report
        .map(|r| r.kmsg_tail.as_slice())
        .unwrap_or_default();
    let kernel_log = || {
        seen.console
            .lines()
            .chain(seen.kmsg.iter().map(String::as_str))
            .chain(reported_tail.iter().map(String::as_str))
    };
    if let Some(line) = kernel_log().find(|l| l.contains("Kernel panic - not syncing")) {
        return (OutcomeKind::GuestKernelPanic, line.trim().to_string());
    }
    if let Some(reason) = failed_start_reason(seen.messages) {
        return (OutcomeKind::SchedulerFailedToStart, reason);
    }
    if let Some(report) = seen.report {
        if let Some(outcome) = before_the_test(seen, report) {
            return outcome;
        }
    }
    if let Some(ejection) = ejection(kernel_log()).filter(|_| !seen.eevdf) {
        let symptom = match seen.report {
            Some(report) => first_symptom(report),
            None if seen.timed_out => Some(format!(
                "no report before the deadline; {}",
                Stage::of(seen).hang()
            )),
            None => Some(format!(
                "the guest ended without a report {}",
                Stage::of(seen).when()
            )),
        };
        let then = symptom.map(|s| format!("; then: {s}")).unwrap_or_default();
        return (OutcomeKind::SchedulerDied, format!("{ejection}{then}"));
    }
    match seen.report {
        Some(report) => classify_report(seen, report),
        None if seen.timed_out => (OutcomeKind::TimedOut, timeout_reason(seen)),
        None => (OutcomeKind::NoReport, no_report_reason(seen)),
    }
}

/// A trial that failed before its test ran: the guest could not read the trial or set itself up, or the
/// topology it saw is not the one requested.
fn before_the_test(seen: &Seen, report: &GuestReport) -> Option<(OutcomeKind, String)> {
    let requested = seen.requested_topology;
    match &report.topology {
        TopologySeen::Mismatched { shape } => Some((
            OutcomeKind::TopologyMismatch,
            format!("requested topology {requested} but the guest saw {shape}"),
        )),
        TopologySeen::Unreadable { reason } => Some((
            OutcomeKind::TopologyMismatch,
            format!(
                "requested topology {requested} but the guest could not read its own: {reason}"
            ),
        )),
        TopologySeen::NotChecked | TopologySeen::Matched => report
            .setup_error
            .clone()
            .map(|error| (OutcomeKind::TestError, error)),
    }
}

/// sched_ext's own record of ejecting a scheduler, from the kernel log (console or streamed), with the kernel's exit message when it
/// gave one. This is the cause even when the guest saw only a symptom first (a cgroup write that timed out,
/// a starved worker) and reported that. Stopping the scheduler at the end of a trial ("unregistered from
/// user space") is not an ejection.
fn ejection<'a>(log: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut events = log.filter_map(ScxLogEvent::parse);
    let (scheduler, reason) = events.by_ref().find_map(|event| match event {
        ScxLogEvent::Disabled { scheduler, reason } if reason != "unregistered from user space" => {
            Some((scheduler, reason))
        }
        _ => None,
    })?;
    let detail = events.find_map(|event| match event {
        ScxLogEvent::ExitMessage {
            scheduler: s,
            message,
        } if s == scheduler => Some(message),
        _ => None,
    });
    Some(match detail {
        Some(detail) => format!("sched_ext ejected scheduler {scheduler:?}: {reason} ({detail})"),
        None => format!("sched_ext ejected scheduler {scheduler:?}: {reason}"),
    })
}

/// What the test saw go wrong, to list under the cause.
fn first_symptom(report: &GuestReport) -> Option<String> {
    match &report.test {
        TestEnd::NotRun => report.setup_error.clone(),
        TestEnd::Returned { result } if !result.passed => {
            result.details.first().map(|d| d.message.clone())
        }
        TestEnd::Returned { .. } => None,
        TestEnd::Failed { error } => Some(error.clone()),
        TestEnd::Panicked { message } => Some(format!("the test function panicked: {message}")),
        killed @ TestEnd::Killed { .. } => killed_reason(killed),
    }
}

/// "the test process was killed by SIGKILL (the OOM killer)" for a killed test.
fn killed_reason(end: &TestEnd) -> Option<String> {
    let TestEnd::Killed {
        signal,
        signal_name,
        oom,
    } = end
    else {
        return None;
    };
    let by_oom = if *oom { " by the OOM killer" } else { "" };
    Some(format!(
        "the test process was killed{by_oom} (signal {signal}, {signal_name})"
    ))
}

/// How far a guest that sent no report got, read from the messages it did send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Under EEVDF: reading the trial, checking the topology, sysctls, the cgroup root.
    SettingUp,
    /// The same, then starting the scheduler; the guest says nothing between the two.
    SettingUpOrStartingScheduler,
    SchedulerAttached,
    InTest,
    AfterTest,
}

impl Stage {
    fn of(seen: &Seen) -> Stage {
        let sent = |want: fn(&GuestMessage) -> bool| seen.messages.iter().any(want);
        if sent(|m| matches!(m, GuestMessage::TestEnded)) {
            Stage::AfterTest
        } else if sent(|m| matches!(m, GuestMessage::TestStarted)) {
            Stage::InTest
        } else if sent(|m| matches!(m, GuestMessage::SchedulerReady { .. })) {
            Stage::SchedulerAttached
        } else if seen.eevdf {
            Stage::SettingUp
        } else {
            Stage::SettingUpOrStartingScheduler
        }
    }

    /// What a guest that stopped here without a word did.
    fn hang(self) -> &'static str {
        match self {
            Stage::SettingUp => "the guest hung before the test started, during set-up",
            Stage::SettingUpOrStartingScheduler => {
                "the guest hung before the test started, while setting up or starting the scheduler"
            }
            Stage::SchedulerAttached => {
                "the guest hung before the test started, after the scheduler attached"
            }
            Stage::InTest => "the test function never returned",
            Stage::AfterTest => {
                "the guest hung after the test function returned, while stopping the scheduler or \
                 cleaning up"
            }
        }
    }

    /// When, relative to the test function, a guest that ended without a report ended.
    fn when(self) -> &'static str {
        match self {
            Stage::SettingUp | Stage::SettingUpOrStartingScheduler | Stage::SchedulerAttached => {
                "before the test started"
            }
            Stage::InTest => "while the test function ran",
            Stage::AfterTest => "after the test function returned",
        }
    }
}

/// QEMU's last non-empty stderr line.
fn qemu_said<'a>(seen: &Seen<'a>) -> Option<&'a str> {
    seen.qemu_stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
}

/// Why the deadline passed: a guest that never spoke did not boot (with QEMU's last words if it had
/// any); one that did hung where its last message leaves it.
fn timeout_reason(seen: &Seen) -> String {
    if !seen.messages.is_empty() {
        return format!(
            "{}: no report before the deadline; QEMU was killed",
            Stage::of(seen).hang()
        );
    }
    match qemu_said(seen) {
        Some(line) => format!(
            "the guest sent nothing within its boot allowance; QEMU was killed; QEMU said: {line}"
        ),
        None => "the guest sent nothing within its boot allowance; QEMU was killed".into(),
    }
}

/// Why the guest sent no report: QEMU's own words when it failed, else how far the guest got and
/// whether the kernel powered it off.
fn no_report_reason(seen: &Seen) -> String {
    let said = qemu_said(seen);
    let status = seen.qemu_status.filter(|s| !s.success());
    match (status, said) {
        (Some(status), Some(line)) => format!("QEMU failed ({status}): {line}"),
        (Some(status), None) => format!("QEMU failed ({status}) and printed nothing"),
        (None, Some(line)) if seen.messages.is_empty() => {
            format!("the guest ended without a report or any message; QEMU said: {line}")
        }
        _ if seen.messages.is_empty() => "the guest ended without a report or any message".into(),
        _ => {
            let how = match seen.console.contains(POWER_DOWN) {
                true => "the guest powered off",
                false => "the guest ended",
            };
            format!("{how} without a report {}", Stage::of(seen).when())
        }
    }
}

/// What the kernel prints as it powers the machine off.
const POWER_DOWN: &str = "reboot: Power down";

/// The diagnosis of a scheduler that failed to load, from its diagnostic run's output first (libbpf's
/// log is on there), else from its own.
pub(crate) fn load_diagnosis(messages: &[GuestMessage]) -> Option<LoadDiagnosis> {
    let failure = scheduler_failure(messages)?;
    failure
        .diagnostic_output
        .and_then(diagnose_load_failure)
        .or_else(|| diagnose_load_failure(failure.output))
}

/// The guest's report of a scheduler that did not attach.
pub(crate) struct SchedulerFailure<'a> {
    pub output: &'a str,
    pub reason: &'a str,
    pub diagnostic_output: Option<&'a str>,
}

pub(crate) fn scheduler_failure(messages: &[GuestMessage]) -> Option<SchedulerFailure<'_>> {
    messages.iter().find_map(|m| match m {
        GuestMessage::SchedulerFailed {
            output,
            reason,
            diagnostic_output,
        } => Some(SchedulerFailure {
            output,
            reason,
            diagnostic_output: diagnostic_output.as_deref(),
        }),
        _ => None,
    })
}

/// Why the scheduler did not attach: the diagnosed cause, else how it ended and the line of its
/// output that explains it.
fn failed_start_reason(messages: &[GuestMessage]) -> Option<String> {
    let SchedulerFailure { output, reason, .. } = scheduler_failure(messages)?;
    if let Some(diagnosis) = load_diagnosis(messages) {
        let what = match diagnosis.cause {
            LoadCause::BadArguments => "did not start",
            _ => "could not load",
        };
        return Some(format!("the scheduler {what}: {}", diagnosis.summary()));
    }
    let how = if reason.is_empty() {
        "it did not attach"
    } else {
        reason
    };
    let output = strip_ansi(output);
    Some(match explaining_line(&output) {
        Some(line) => format!("the scheduler did not attach ({how}): {line}"),
        None => format!("the scheduler did not attach ({how}) and printed nothing"),
    })
}

/// The last line that reads like an error, else the last non-empty line.
fn explaining_line(output: &str) -> Option<&str> {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let errorish = |l: &&&str| {
        let lower = l.to_ascii_lowercase();
        ["error", "fail", "exit:", "invalid", "cannot", "panick"]
            .iter()
            .any(|w| lower.contains(w))
    };
    lines.iter().rev().find(errorish).or(lines.last()).copied()
}

/// A trial whose test ran (or was meant to) and whose kernel log shows no ejection.
fn classify_report(seen: &Seen, report: &GuestReport) -> (OutcomeKind, String) {
    if let Some(reason) = killed_reason(&report.test) {
        return (OutcomeKind::TestKilled, reason);
    }
    if let TestEnd::Panicked { message } = &report.test {
        return (
            OutcomeKind::TestPanicked,
            format!("the test function panicked: {message}"),
        );
    }
    let result = report.test.result();
    let died_in_steps = result
        .iter()
        .flat_map(|r| &r.details)
        .find(|d| d.kind == DetailKind::SchedulerDied);
    if let Some(exit) = &report.scx_exit {
        return (
            OutcomeKind::SchedulerDied,
            format!("scheduler {:?} ejected: {}", exit.scheduler, exit.reason),
        );
    }
    if !seen.eevdf && (!report.scheduler_alive || died_in_steps.is_some()) {
        let reason = died_in_steps
            .map_or("the scheduler process exited during the test".into(), |d| {
                d.message.clone()
            });
        return (OutcomeKind::SchedulerDied, reason);
    }
    match &report.test {
        TestEnd::Failed { error } => (OutcomeKind::TestError, error.clone()),
        TestEnd::Returned { result } if result.passed && result.skipped => {
            (OutcomeKind::Skipped, skip_reason(result))
        }
        TestEnd::Returned { result } if result.passed => (OutcomeKind::Passed, "passed".into()),
        TestEnd::Returned { result } => {
            let first = result
                .details
                .first()
                .map_or("(no detail)", |d| d.message.as_str());
            (OutcomeKind::ChecksFailed, format!("checks failed: {first}"))
        }
        _ => (OutcomeKind::NoReport, "the report holds no verdict".into()),
    }
}

/// "skipped: " and why, from the verdict's `Skip` details.
pub(crate) fn skip_reason(result: &AssertResult) -> String {
    let why: Vec<&str> = result
        .details
        .iter()
        .filter(|d| d.kind == DetailKind::Skip)
        .map(|d| d.message.as_str())
        .collect();
    match why.is_empty() {
        true => "skipped: the verdict judged nothing and gave no reason".into(),
        false => format!("skipped: {}", why.join("; ")),
    }
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
