use super::*;
use crate::assert::AssertDetail;
use crate::scx::ScxExit;

/// What the host saw of an uneventful trial; tests override the fields they are about.
fn uneventful<'a>() -> Seen<'a> {
    Seen {
        requested_topology: "1n2l2c1t",
        eevdf: false,
        messages: &[GuestMessage::Started],
        report: None,
        timed_out: false,
        console: "",
        kmsg: &[],
        qemu_status: None,
        qemu_stderr: "",
    }
}

fn report(edit: impl FnOnce(&mut GuestReport)) -> GuestReport {
    let mut report = GuestReport {
        topology: TopologySeen::Matched,
        test: TestEnd::Returned {
            result: AssertResult::pass(),
        },
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
    classify(&Seen {
        eevdf,
        messages,
        report,
        timed_out,
        console,
        ..uneventful()
    })
    .0
}

/// A report whose test returned `result`.
fn returned(result: AssertResult) -> GuestReport {
    report(|r| r.test = TestEnd::Returned { result })
}

/// What the classifier makes of `report` after an uneventful start, under EEVDF or a sched_ext scheduler.
fn from_report(eevdf: bool, report: GuestReport) -> OutcomeKind {
    kind(eevdf, &[GuestMessage::Started], Some(&report), false, "")
}

#[test]
fn a_returned_verdict_is_a_pass_a_check_failure_or_a_skip() {
    let starved = AssertDetail::new(DetailKind::Starved, "tid 5 starved (0 work units)");
    let cases = [
        (AssertResult::pass(), OutcomeKind::Passed),
        (AssertResult::fail(starved), OutcomeKind::ChecksFailed),
        (AssertResult::skip("needs 2 LLCs"), OutcomeKind::Skipped),
    ];
    for (result, want) in cases {
        let got = from_report(true, returned(result.clone()));
        assert_eq!(got, want, "{result:?}");
    }
}

#[test]
fn a_report_that_shows_the_scheduler_gone_is_a_dead_scheduler() {
    let died = AssertDetail::new(DetailKind::SchedulerDied, "scheduler process died");
    let exit = ScxExit {
        scheduler: "qmap".into(),
        reason: "runnable task stall".into(),
        detail: None,
    };
    let reports = [
        report(|r| r.scx_exit = Some(exit)),
        report(|r| r.scheduler_alive = false),
        returned(AssertResult::fail(died)),
    ];
    for report in reports {
        let got = from_report(false, report.clone());
        assert_eq!(got, OutcomeKind::SchedulerDied, "{report:?}");
    }
}

#[test]
fn a_test_that_did_not_return_is_classed_by_how_it_ended() {
    let panicked = TestEnd::Panicked {
        message: "boom".into(),
    };
    let failed = TestEnd::Failed {
        error: "bad".into(),
    };
    let killed = TestEnd::Killed {
        signal: 9,
        signal_name: "SIGKILL".into(),
        oom: true,
    };
    let cases = [
        (panicked, OutcomeKind::TestPanicked),
        (failed, OutcomeKind::TestError),
        (killed, OutcomeKind::TestKilled),
    ];
    for (end, want) in cases {
        let report = report(|r| r.test = end.clone());
        assert_eq!(from_report(true, report), want, "{end:?}");
    }
}

#[test]
fn a_topology_other_than_requested_is_a_mismatch() {
    let mismatch = TopologySeen::Mismatched {
        shape: "1n1l4c1t".into(),
    };
    let report = report(|r| r.topology = mismatch);
    assert_eq!(from_report(true, report), OutcomeKind::TopologyMismatch);
}

#[test]
fn every_class_the_host_sees_without_a_verdict_is_reachable() {
    let failed_start = [GuestMessage::SchedulerFailed {
        output: "usage: scx_qmap".into(),
        reason: String::new(),
        diagnostic_output: None,
    }];
    let not_run = report(|r| r.test = TestEnd::NotRun);
    assert_eq!(
        kind(false, &failed_start, Some(&not_run), false, ""),
        OutcomeKind::SchedulerFailedToStart
    );
    let started = [GuestMessage::Started];
    let panic = "Kernel panic - not syncing: sysrq triggered crash";
    assert_eq!(
        kind(true, &started, None, false, panic),
        OutcomeKind::GuestKernelPanic
    );
    assert_eq!(kind(true, &started, None, true, ""), OutcomeKind::TimedOut);
    assert_eq!(kind(true, &started, None, false, ""), OutcomeKind::NoReport);
}

#[test]
fn under_eevdf_there_is_no_scheduler_to_die() {
    let quiet = report(|r| r.scheduler_alive = false);
    assert_eq!(
        kind(true, &[], Some(&quiet), false, ""),
        OutcomeKind::Passed
    );
}

fn failed(output: &str, reason: &str, diagnostic: Option<&str>) -> Vec<GuestMessage> {
    vec![GuestMessage::SchedulerFailed {
        output: output.into(),
        reason: reason.into(),
        diagnostic_output: diagnostic.map(str::to_string),
    }]
}

fn start_reason(messages: &[GuestMessage]) -> String {
    let (kind, reason) = classify(&Seen {
        messages,
        ..uneventful()
    });
    assert_eq!(kind, OutcomeKind::SchedulerFailedToStart);
    reason
}

#[test]
fn a_failed_start_names_the_diagnosed_cause_from_the_verbose_run() {
    let quiet = "Error: Failed to load BPF program\n";
    let verbose = "libbpf: extern (var ksym) 'cpufreq_cpu_data': not found in kernel BTF\n";
    let reason = start_reason(&failed(quiet, "it exited (exit status: 1)", Some(verbose)));
    assert!(
        reason.contains("cpufreq_cpu_data") && reason.contains("CONFIG_CPU_FREQ=y"),
        "{reason}"
    );
    let reason = start_reason(&failed(quiet, "it exited (exit status: 1)", None));
    assert_eq!(
        reason,
        "the scheduler did not attach (it exited (exit status: 1)): Error: Failed to load BPF program"
    );
}

#[test]
fn a_failed_start_quotes_the_error_line_not_the_usage_text_and_says_how_it_ended() {
    let usage = "invalid option -- 'Z'\nUsage: scx_qmap [-s SLICE_US]\n  -v  verbose\n";
    let reason = start_reason(&failed(usage, "it exited (exit status: 1)", None));
    assert!(reason.contains("invalid option -- 'Z'"), "{reason}");
    let silent = start_reason(&failed("", "it exited (exit status: 0)", None));
    assert_eq!(
        silent,
        "the scheduler did not attach (it exited (exit status: 0)) and printed nothing"
    );
}

#[test]
fn a_vm_that_qemu_could_not_run_quotes_qemu() {
    use std::os::unix::process::ExitStatusExt;
    let stderr = "qemu-system-x86_64: error: kvm run failed Invalid argument\nKVM internal error. Suberror: 1\n";
    let observed = |status: Option<std::process::ExitStatus>, stderr: &'static str| {
        classify(&Seen {
            eevdf: true,
            messages: &[],
            qemu_status: status,
            qemu_stderr: stderr,
            ..uneventful()
        })
    };
    let (kind, reason) = observed(Some(std::process::ExitStatus::from_raw(1 << 8)), stderr);
    assert_eq!(kind, OutcomeKind::NoReport);
    assert_eq!(
        reason,
        "QEMU failed (exit status: 1): KVM internal error. Suberror: 1"
    );
    let (_, reason) = observed(Some(std::process::ExitStatus::from_raw(1 << 8)), "");
    assert_eq!(reason, "QEMU failed (exit status: 1) and printed nothing");
    let (_, reason) = observed(Some(std::process::ExitStatus::from_raw(0)), "");
    assert_eq!(reason, "the guest ended without a report or any message");
    let (kind, reason) = classify(&Seen {
        eevdf: true,
        messages: &[],
        timed_out: true,
        qemu_stderr: "qemu: warning: Number of SMP cpus requested (4) exceeds (2)\n",
        ..uneventful()
    });
    assert_eq!(kind, OutcomeKind::TimedOut);
    assert!(
        reason.starts_with("the guest sent nothing within its boot allowance")
            && reason.ends_with(
                "QEMU said: qemu: warning: Number of SMP cpus requested (4) exceeds (2)"
            ),
        "{reason}"
    );
}

#[test]
fn sched_ext_ejecting_the_scheduler_outranks_the_symptom_the_guest_reported() {
    let console = "[    9.100000] sched_ext: BPF scheduler \"qmap\" enabled\n\
        [   16.305812] sched_ext: BPF scheduler \"qmap\" disabled (runnable task stall)\n\
        [   16.305900] sched_ext: qmap: busybox[89] failed to run for 7.106s\n";
    let symptom = report(|r| {
        r.test = TestEnd::Failed {
            error: "step 0: write cpuset.cpus timed out after 2s".into(),
        };
    });
    let (kind, reason) = classify(&Seen {
        report: Some(&symptom),
        console,
        ..uneventful()
    });
    assert_eq!(kind, OutcomeKind::SchedulerDied);
    assert_eq!(
        reason,
        "sched_ext ejected scheduler \"qmap\": runnable task stall (busybox[89] failed to run for 7.106s); \
         then: step 0: write cpuset.cpus timed out after 2s"
    );
}

#[test]
fn stopping_the_scheduler_at_the_end_is_not_an_ejection() {
    let console = "sched_ext: BPF scheduler \"simple\" enabled\n\
        sched_ext: BPF scheduler \"simple\" disabled (unregistered from user space)\n";
    let failed = report(|r| {
        r.test = TestEnd::Returned {
            result: AssertResult::fail(AssertDetail::new(DetailKind::Starved, "starved")),
        };
    });
    let (kind, _) = classify(&Seen {
        report: Some(&failed),
        console,
        ..uneventful()
    });
    assert_eq!(kind, OutcomeKind::ChecksFailed);
}

/// The streamed kernel log is evidence too: an ejection the console missed, or one logged while the
/// guest hung and never reported, still names the cause.
#[test]
fn an_ejection_in_the_streamed_kernel_log_outranks_a_timeout() {
    let kmsg = vec![
        "sched_ext: BPF scheduler \"qmap\" disabled (runnable task stall)".to_string(),
        "sched_ext: qmap: kworker/0:1[12] failed to run for 5.004s".to_string(),
    ];
    let (kind, reason) = classify(&Seen {
        timed_out: true,
        kmsg: &kmsg,
        ..uneventful()
    });
    assert_eq!(kind, OutcomeKind::SchedulerDied);
    assert_eq!(
        reason,
        "sched_ext ejected scheduler \"qmap\": runnable task stall (kworker/0:1[12] failed to run for 5.004s); \
         then: no report before the deadline; the guest hung before the test started, while setting up or \
         starting the scheduler"
    );
}

#[test]
fn an_ejection_only_the_reports_kernel_log_tail_holds_still_names_the_cause() {
    let symptom = report(|r| {
        r.test = TestEnd::Failed {
            error: "step 0: write cgroup.procs timed out after 2s".into(),
        };
        r.kmsg_tail =
            vec!["sched_ext: BPF scheduler \"qmap\" disabled (runnable task stall)".into()];
    });
    let (kind, reason) = classify(&Seen {
        report: Some(&symptom),
        ..uneventful()
    });
    assert_eq!(kind, OutcomeKind::SchedulerDied);
    assert!(
        reason.ends_with("then: step 0: write cgroup.procs timed out after 2s"),
        "{reason}"
    );
}

#[test]
fn a_test_killed_by_the_oom_killer_says_so() {
    let oom = report(|r| {
        r.test = TestEnd::Killed {
            signal: 9,
            signal_name: "SIGKILL".into(),
            oom: true,
        }
    });
    let (kind, reason) = classify(&Seen {
        eevdf: true,
        report: Some(&oom),
        ..uneventful()
    });
    assert_eq!(kind, OutcomeKind::TestKilled);
    assert_eq!(
        reason,
        "the test process was killed by the OOM killer (signal 9, SIGKILL)"
    );
}

#[test]
fn set_up_failures_and_unreadable_topologies_are_named() {
    let cases = [
        (
            GuestReport::setup_failed("this binary has no test named \"x\""),
            OutcomeKind::TestError,
            "this binary has no test named \"x\"",
        ),
        (
            GuestReport {
                topology: TopologySeen::Unreadable {
                    reason: "no cpu0".into(),
                },
                ..GuestReport::default()
            },
            OutcomeKind::TopologyMismatch,
            "requested topology 1n2l2c1t but the guest could not read its own: no cpu0",
        ),
    ];
    for (report, want_kind, want_reason) in cases {
        let (kind, reason) = classify(&Seen {
            report: Some(&report),
            ..uneventful()
        });
        assert_eq!((kind, reason.as_str()), (want_kind, want_reason));
    }
}

fn silent(messages: &[GuestMessage], eevdf: bool, timed_out: bool) -> (OutcomeKind, String) {
    classify(&Seen {
        eevdf,
        messages,
        timed_out,
        ..uneventful()
    })
}

#[test]
fn a_hang_before_the_test_started_is_told_apart_from_a_test_that_never_returned() {
    use GuestMessage::{Started, TestEnded, TestStarted};
    let ready = GuestMessage::SchedulerReady {
        pid: 7,
        ops_name: "qmap".into(),
    };
    let cases = [
        (
            vec![Started],
            true,
            "the guest hung before the test started, during set-up",
        ),
        (
            vec![Started],
            false,
            "the guest hung before the test started, while setting up or starting the scheduler",
        ),
        (
            vec![Started, ready.clone()],
            false,
            "the guest hung before the test started, after the scheduler attached",
        ),
        (
            vec![Started, ready.clone(), TestStarted],
            false,
            "the test function never returned",
        ),
        (
            vec![Started, TestStarted],
            true,
            "the test function never returned",
        ),
        (
            vec![Started, TestStarted, TestEnded],
            true,
            "the guest hung after the test function returned, while stopping the scheduler or \
             cleaning up",
        ),
    ];
    for (messages, eevdf, stage) in cases {
        let (kind, reason) = silent(&messages, eevdf, true);
        assert_eq!(kind, OutcomeKind::TimedOut, "{messages:?}");
        assert_eq!(
            reason,
            format!("{stage}: no report before the deadline; QEMU was killed")
        );
    }
}

#[test]
fn a_guest_that_ended_without_a_report_says_when_and_whether_it_powered_off() {
    use GuestMessage::{Started, TestEnded, TestStarted};
    let ended = |messages: &[GuestMessage], console: &str| {
        classify(&Seen {
            eevdf: true,
            messages,
            console,
            ..uneventful()
        })
    };
    let power_down = "[    4.2] reboot: Power down\n";
    let cases = [
        (
            vec![Started, TestStarted],
            power_down,
            "the guest powered off without a report while the test function ran",
        ),
        (
            vec![Started],
            "",
            "the guest ended without a report before the test started",
        ),
        (
            vec![Started, TestStarted, TestEnded],
            power_down,
            "the guest powered off without a report after the test function returned",
        ),
    ];
    for (messages, console, want) in cases {
        let (kind, reason) = ended(&messages, console);
        assert_eq!((kind, reason.as_str()), (OutcomeKind::NoReport, want));
    }
}

#[test]
fn a_skipped_verdict_is_its_own_class_with_its_reasons_and_a_partial_skip_still_passes() {
    let returned = |result: AssertResult| {
        let r = report(|r| r.test = TestEnd::Returned { result });
        classify(&Seen {
            report: Some(&r),
            ..uneventful()
        })
    };
    let both = AssertResult::skip("steady_llc needs 2 LLCs")
        .merge(AssertResult::skip("cross_llc needs 2 LLCs"));
    assert_eq!(
        returned(both),
        (
            OutcomeKind::Skipped,
            "skipped: steady_llc needs 2 LLCs; cross_llc needs 2 LLCs".into()
        )
    );
    let partial = AssertResult::skip("steady_llc needs 2 LLCs").merge(AssertResult::pass());
    assert_eq!(returned(partial).0, OutcomeKind::Passed);
    let failed_too = AssertResult::skip("x").merge(AssertResult::fail_msg("unfair"));
    assert_eq!(returned(failed_too).0, OutcomeKind::ChecksFailed);
    let silent = AssertResult {
        details: Vec::new(),
        ..AssertResult::skip("dropped")
    };
    assert_eq!(
        returned(silent).1,
        "skipped: the verdict judged nothing and gave no reason"
    );
}
