//! Exit kinds, stall details, and combining the kernel log with the scheduler's output.

use super::*;
use proptest::prelude::*;

fn exit(reason: &str, detail: Option<&str>) -> ScxExit {
    ScxExit {
        scheduler: "qmap".into(),
        reason: reason.into(),
        detail: detail.map(Into::into),
    }
}

#[test]
fn kinds_follow_the_kernel_reasons() {
    for (reason, kind) in REASONS {
        assert_eq!(exit(reason, None).kind(), kind, "{reason}");
    }
    assert_eq!(exit("<UNKNOWN>", None).kind(), ScxExitKind::Other);
    let errors: Vec<bool> = [
        "unregistered from user space",
        "disabled by sysrq-S",
        "runnable task stall",
        "?",
    ]
    .into_iter()
    .map(|r| exit(r, None).is_error())
    .collect();
    assert_eq!(errors, [false, false, true, true]);
}

#[test]
fn stall_details_name_the_task_and_duration() {
    let cases = [
        (
            "busybox[89] failed to run for 7.106s",
            Some(("busybox", 89, 7106)),
        ),
        (
            "kworker/0:1[12] failed to run for 30.000s",
            Some(("kworker/0:1", 12, 30_000)),
        ),
        (
            "odd [x] name[7] failed to run for 0.050s",
            Some(("odd [x] name", 7, 50)),
        ),
        ("busybox[89] failed to run for 7.1s", None),
        ("busybox[+89] failed to run for 7.106s", None),
        ("busybox[89] failed to run for .106s", None),
        ("busybox failed to run for 7.106s", None),
        ("ops.dispatch(): error", None),
    ];
    for (detail, want) in cases {
        let got = exit("runnable task stall", Some(detail)).stall();
        let want = want.map(|(comm, pid, ms)| TaskStall {
            comm: comm.into(),
            pid,
            stalled_for: Duration::from_millis(ms),
        });
        assert_eq!(got, want, "{detail}");
    }
    assert_eq!(exit("runnable task stall", None).stall(), None);
}

const STALL_KMSG: [&str; 5] = [
    r#"sched_ext: BPF scheduler "qmap" enabled"#,
    "random: crng init done",
    r#"sched_ext: BPF scheduler "qmap" disabled (runnable task stall)"#,
    "sched_ext: qmap: busybox[89] failed to run for 7.106s",
    "sched_ext: qmap: a later unrelated message",
];

#[test]
fn kernel_log_gives_reason_and_detail() {
    let got = ScxExit::from_logs("qmap", &STALL_KMSG, "");
    assert_eq!(
        got,
        Some(exit(
            "runnable task stall",
            Some("busybox[89] failed to run for 7.106s")
        ))
    );
}

#[test]
fn scheduler_output_fills_in_without_a_kernel_log() {
    let output = "starting\nEXIT: runnable task stall (busybox[89] failed to run for 7.106s)\n";
    let none: [&str; 0] = [];
    let want = exit(
        "runnable task stall",
        Some("busybox[89] failed to run for 7.106s"),
    );
    assert_eq!(
        ScxExit::from_logs("qmap", &none, output),
        Some(want.clone())
    );
    let no_detail = [r#"sched_ext: BPF scheduler "qmap" disabled (runnable task stall)"#];
    assert_eq!(ScxExit::from_logs("qmap", &no_detail, output), Some(want));
}

#[test]
fn kernel_wins_over_the_scheduler_output() {
    let output = "EXIT: something else (other detail)";
    let got = ScxExit::from_logs("qmap", &STALL_KMSG, output).expect("exit");
    assert_eq!(got.reason, "runnable task stall");
    assert_eq!(
        got.detail.as_deref(),
        Some("busybox[89] failed to run for 7.106s")
    );
}

#[test]
fn only_the_named_scheduler_after_its_last_enable_counts() {
    let mut kmsg = STALL_KMSG.to_vec();
    kmsg.push(r#"sched_ext: BPF scheduler "qmap" enabled"#);
    kmsg.push(r#"sched_ext: BPF scheduler "simple" disabled (runtime error)"#);
    assert_eq!(ScxExit::from_logs("qmap", &kmsg, ""), None);
    assert_eq!(ScxExit::from_logs("central", &STALL_KMSG, ""), None);
    kmsg.push(r#"sched_ext: BPF scheduler "qmap" disabled (unregistered from user space)"#);
    let clean = ScxExit::from_logs("qmap", &kmsg, "").expect("exit");
    assert_eq!(clean, exit("unregistered from user space", None));
    assert!(!clean.is_error());
}

proptest! {
    #[test]
    fn stall_details_round_trip(comm in "[ -~]{1,16}", pid: u32, ms in 0u64..10_000_000) {
        let text = format!("{comm}[{pid}] failed to run for {}.{:03}s", ms / 1000, ms % 1000);
        let want = TaskStall { comm, pid, stalled_for: Duration::from_millis(ms) };
        prop_assert_eq!(TaskStall::parse(&text), Some(want));
    }
}
