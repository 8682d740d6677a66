//! Classifying a finished trial from what the guest sent, whether the deadline hit, and the console.

use super::{GuestReport, OutcomeKind};
use crate::assert::DetailKind;
use crate::vm::GuestMessage;

/// What the host observed of one trial.
pub(crate) struct Observed<'a> {
    pub requested_topology: &'a str,
    pub eevdf: bool,
    pub messages: &'a [GuestMessage],
    pub report: Option<&'a GuestReport>,
    pub timed_out: bool,
    pub console: &'a str,
}

/// The outcome class and a one-line reason.
pub(crate) fn classify(seen: &Observed) -> (OutcomeKind, String) {
    if let Some(line) = seen
        .console
        .lines()
        .find(|l| l.contains("Kernel panic - not syncing"))
    {
        return (OutcomeKind::GuestKernelPanic, line.trim().to_string());
    }
    let failed_start = seen.messages.iter().find_map(|m| match m {
        GuestMessage::SchedulerFailed { output } => Some(output),
        _ => None,
    });
    if let Some(output) = failed_start {
        let last = output
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("(no output)");
        return (
            OutcomeKind::SchedulerFailedToStart,
            format!("the scheduler did not attach: {last}"),
        );
    }
    match seen.report {
        Some(report) => classify_report(seen, report),
        None if seen.timed_out => (
            OutcomeKind::TimedOut,
            "no report before the deadline; QEMU was killed".into(),
        ),
        None => (
            OutcomeKind::NoReport,
            "the guest ended without a report".into(),
        ),
    }
}

fn classify_report(seen: &Observed, report: &GuestReport) -> (OutcomeKind, String) {
    if let (true, Some(error)) = (report.topology_seen.is_empty(), &report.error) {
        return (OutcomeKind::TestError, error.clone());
    }
    if report.topology_seen != seen.requested_topology {
        let reason = format!(
            "requested topology {} but the guest saw {}",
            seen.requested_topology, report.topology_seen
        );
        return (OutcomeKind::TopologyMismatch, reason);
    }
    if let Some(panic) = &report.panic {
        return (
            OutcomeKind::TestPanicked,
            format!("the test function panicked: {panic}"),
        );
    }
    let died_in_steps = report
        .result
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
    if let Some(error) = &report.error {
        return (OutcomeKind::TestError, error.clone());
    }
    match &report.result {
        Some(result) if result.passed => (OutcomeKind::Passed, "passed".into()),
        Some(result) => {
            let first = result
                .details
                .first()
                .map_or("(no detail)", |d| d.message.as_str());
            (OutcomeKind::ChecksFailed, format!("checks failed: {first}"))
        }
        None => (OutcomeKind::NoReport, "the report holds no verdict".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::{AssertDetail, AssertResult};
    use crate::sched::ScxExit;

    fn report(edit: impl FnOnce(&mut GuestReport)) -> GuestReport {
        let mut report = GuestReport {
            topology_seen: "1n2l2c1t".into(),
            result: Some(AssertResult::pass()),
            scheduler_alive: true,
            ..GuestReport::default()
        };
        edit(&mut report);
        report
    }

    fn kind(
        eevdf: bool,
        messages: &[GuestMessage],
        report: Option<&GuestReport>,
        timed_out: bool,
        console: &str,
    ) -> OutcomeKind {
        classify(&Observed {
            requested_topology: "1n2l2c1t",
            eevdf,
            messages,
            report,
            timed_out,
            console,
        })
        .0
    }

    #[test]
    fn every_outcome_class_is_reachable() {
        let failed = AssertResult::fail(AssertDetail::new(
            DetailKind::Starved,
            "tid 5 starved (0 work units)",
        ));
        let died = AssertResult::fail(AssertDetail::new(
            DetailKind::SchedulerDied,
            "scheduler process died",
        ));
        let exit = ScxExit {
            scheduler: "qmap".into(),
            reason: "runnable task stall".into(),
            detail: None,
        };
        let started = [GuestMessage::Started];
        type Case = (
            bool,
            Vec<GuestMessage>,
            Option<GuestReport>,
            bool,
            &'static str,
            OutcomeKind,
        );
        let cases: Vec<Case> = vec![
            (
                true,
                started.to_vec(),
                Some(report(|_| {})),
                false,
                "",
                OutcomeKind::Passed,
            ),
            (
                true,
                started.to_vec(),
                Some(report(|r| r.result = Some(failed.clone()))),
                false,
                "",
                OutcomeKind::ChecksFailed,
            ),
            (
                false,
                started.to_vec(),
                Some(report(|r| r.scx_exit = Some(exit.clone()))),
                false,
                "",
                OutcomeKind::SchedulerDied,
            ),
            (
                false,
                started.to_vec(),
                Some(report(|r| r.scheduler_alive = false)),
                false,
                "",
                OutcomeKind::SchedulerDied,
            ),
            (
                false,
                started.to_vec(),
                Some(report(|r| r.result = Some(died.clone()))),
                false,
                "",
                OutcomeKind::SchedulerDied,
            ),
            (
                false,
                vec![GuestMessage::SchedulerFailed {
                    output: "usage: scx_qmap".into(),
                }],
                Some(report(|r| r.result = None)),
                false,
                "",
                OutcomeKind::SchedulerFailedToStart,
            ),
            (
                true,
                started.to_vec(),
                Some(report(|r| r.topology_seen = "1n1l4c1t".into())),
                false,
                "",
                OutcomeKind::TopologyMismatch,
            ),
            (
                true,
                started.to_vec(),
                Some(report(|r| r.panic = Some("boom".into()))),
                false,
                "",
                OutcomeKind::TestPanicked,
            ),
            (
                true,
                started.to_vec(),
                Some(report(|r| r.error = Some("bad".into()))),
                false,
                "",
                OutcomeKind::TestError,
            ),
            (
                true,
                started.to_vec(),
                None,
                false,
                "Kernel panic - not syncing: sysrq triggered crash",
                OutcomeKind::GuestKernelPanic,
            ),
            (
                true,
                started.to_vec(),
                None,
                true,
                "",
                OutcomeKind::TimedOut,
            ),
            (
                true,
                started.to_vec(),
                None,
                false,
                "",
                OutcomeKind::NoReport,
            ),
        ];
        for (eevdf, messages, report, timed_out, console, want) in cases {
            assert_eq!(
                kind(eevdf, &messages, report.as_ref(), timed_out, console),
                want,
                "{report:?} {console}"
            );
        }
    }

    #[test]
    fn under_eevdf_there_is_no_scheduler_to_die() {
        let quiet = report(|r| r.scheduler_alive = false);
        assert_eq!(
            kind(true, &[], Some(&quiet), false, ""),
            OutcomeKind::Passed
        );
    }
}
