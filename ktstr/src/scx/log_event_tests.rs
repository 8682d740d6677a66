//! Each line format of Linux 6.12 and user_exit_info.h, lines that must not match, and a property test.

use super::*;
use proptest::prelude::*;

fn enabled(name: &str, partial: bool) -> Option<ScxLogEvent> {
    Some(ScxLogEvent::Enabled {
        scheduler: name.into(),
        partial,
    })
}

fn disabled(name: &str, reason: &str) -> Option<ScxLogEvent> {
    Some(ScxLogEvent::Disabled {
        scheduler: name.into(),
        reason: reason.into(),
    })
}

fn message(name: &str, text: &str) -> Option<ScxLogEvent> {
    Some(ScxLogEvent::ExitMessage {
        scheduler: name.into(),
        message: text.into(),
    })
}

fn user(reason: &str, text: Option<&str>) -> Option<ScxLogEvent> {
    Some(ScxLogEvent::UserExit {
        reason: reason.into(),
        message: text.map(Into::into),
    })
}

#[test]
fn parses_every_lifecycle_line() {
    let cases = [
        (
            r#"sched_ext: BPF scheduler "qmap" enabled"#,
            enabled("qmap", false),
        ),
        (
            r#"sched_ext: BPF scheduler "simple" enabled (partial)"#,
            enabled("simple", true),
        ),
        (
            r#"sched_ext: BPF scheduler "qmap" disabled (runnable task stall)"#,
            disabled("qmap", "runnable task stall"),
        ),
        (
            r#"[    9.123456] sched_ext: BPF scheduler "central" disabled (unregistered from user space)"#,
            disabled("central", "unregistered from user space"),
        ),
        (
            "sched_ext: qmap: busybox[89] failed to run for 7.106s",
            message("qmap", "busybox[89] failed to run for 7.106s"),
        ),
        (
            "[12.5] sched_ext: flatcg: ops.dispatch(): error (code -22)",
            message("flatcg", "ops.dispatch(): error (code -22)"),
        ),
        (
            "EXIT: runnable task stall (busybox[89] failed to run for 7.106s)\n",
            user(
                "runnable task stall",
                Some("busybox[89] failed to run for 7.106s"),
            ),
        ),
        (
            "EXIT: unregistered from user space",
            user("unregistered from user space", None),
        ),
        (
            "EXIT: scx_bpf_error (bad (nested) thing)",
            user("scx_bpf_error", Some("bad (nested) thing")),
        ),
        (
            "EXIT: reason (unterminated",
            user("reason (unterminated", None),
        ),
    ];
    for (line, want) in cases {
        assert_eq!(ScxLogEvent::parse(line), want, "{line}");
    }
}

#[test]
fn other_lines_are_not_events() {
    let lines = [
        "",
        "sched_ext: BPF scheduler not yet used",
        r#"sched_ext: "qmap" does not implement cgroup cpu.weight"#,
        "sched_ext: ops error detected without ops (runtime error)",
        "sched_ext: Failed to register kfunc sets (-22)",
        r#"sched_ext: BPF scheduler "bad name" enabled"#,
        r#"sched_ext: BPF scheduler "qmap" exploded"#,
        r#"sched_ext: BPF scheduler "qmap" disabled"#,
        "sched_ext: sh[1] has zero slice in pick_next_task_scx()",
        "Sched_ext: qmap (enabled+all), task: runnable_at=-5ms",
        "[notatime] sched_ext: qmap: x",
        "  EXIT: indented",
        "xsched_ext: qmap: x",
    ];
    for line in lines {
        assert_eq!(ScxLogEvent::parse(line), None, "{line:?}");
    }
}

proptest! {
    #[test]
    fn disabled_lines_round_trip(name in "[A-Za-z0-9_.]{1,15}", reason in "[a-z][a-z -]{0,40}") {
        let line = format!("sched_ext: BPF scheduler \"{name}\" disabled ({reason})");
        prop_assert_eq!(ScxLogEvent::parse(&line), disabled(&name, &reason));
    }

    #[test]
    fn user_exit_lines_round_trip(reason in "[a-z][a-z_-]{0,30}", msg in "[ -~]{0,60}") {
        let line = format!("EXIT: {reason} ({msg})");
        prop_assert_eq!(ScxLogEvent::parse(&line), user(&reason, Some(&msg)));
    }

    #[test]
    fn parse_never_panics(line in "\\PC{0,80}") {
        let _ = ScxLogEvent::parse(&line);
    }
}
