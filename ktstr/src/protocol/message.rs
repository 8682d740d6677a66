//! `GuestMessage`: what the guest tells the host over the `ktstr.0` port, one JSON object per line.

use serde::{Deserialize, Serialize};

use super::GuestReport;

/// One guest→host message, serialized as `{"type":"snake_case_name", ...fields}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GuestMessage {
    /// PID 1 is running and the channel works.
    Started,
    /// The scheduler is attached: sched_ext reports it enabled under `ops_name`.
    SchedulerReady { pid: u32, ops_name: String },
    /// The scheduler exited or never attached: how (`reason`), what it printed (`output`), and what it
    /// printed when started once more with its diagnostic arguments (libbpf's log), if it has any.
    SchedulerFailed {
        output: String,
        #[serde(default)]
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        diagnostic_output: Option<String>,
    },
    /// The guest booted and saw its topology: PID 1 waits for the host's `START_LINE` before it sets up,
    /// starts the scheduler and calls the test function, so that all of it runs on host CPUs no other guest
    /// is busy on.
    AwaitingStart,
    /// PID 1 is about to call the test function.
    TestStarted,
    /// The test function ended (returned, failed, panicked or was killed); PID 1 goes on to report.
    TestEnded,
    /// A line for the host's log.
    Log { line: String },
    /// A kernel log record, forwarded as the kernel wrote it so the host keeps the evidence even when the
    /// guest never reports.
    Kmsg { line: String },
    /// The trial's report.
    Report { report: Box<GuestReport> },
    /// The guest is done and about to power off.
    Finished { exit_code: i32 },
}

/// The host's one message to the guest: run the test now.
pub const START_LINE: &str = "start";

impl GuestMessage {
    /// The message as one JSON line, newline included.
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).unwrap_or_else(|e| {
            // Only a map with non-string keys can fail, and these types have none.
            unreachable!("GuestMessage always serializes: {e}")
        });
        line.push('\n');
        line
    }

    /// Parses one line, with or without its newline.
    pub fn from_line(line: &str) -> Result<GuestMessage, serde_json::Error> {
        serde_json::from_str(line.trim_end_matches(['\n', '\r']))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::TopologySeen;

    fn all() -> Vec<(GuestMessage, &'static str)> {
        vec![
            (GuestMessage::Started, r#"{"type":"started"}"#),
            (
                GuestMessage::SchedulerReady {
                    pid: 42,
                    ops_name: "simple".into(),
                },
                r#"{"type":"scheduler_ready","pid":42,"ops_name":"simple"}"#,
            ),
            (
                GuestMessage::SchedulerFailed {
                    output: "EXIT: stall\n".into(),
                    reason: "exited".into(),
                    diagnostic_output: None,
                },
                r#"{"type":"scheduler_failed","output":"EXIT: stall\n","reason":"exited"}"#,
            ),
            (GuestMessage::TestStarted, r#"{"type":"test_started"}"#),
            (GuestMessage::TestEnded, r#"{"type":"test_ended"}"#),
            (
                GuestMessage::Log { line: "hi".into() },
                r#"{"type":"log","line":"hi"}"#,
            ),
            (
                GuestMessage::Kmsg {
                    line: "sched_ext: BPF scheduler \"qmap\" disabled (runnable task stall)".into(),
                },
                r#"{"type":"kmsg","line":"sched_ext: BPF scheduler \"qmap\" disabled (runnable task stall)"}"#,
            ),
            (
                GuestMessage::Finished { exit_code: -1 },
                r#"{"type":"finished","exit_code":-1}"#,
            ),
        ]
    }

    #[test]
    fn wire_format_is_stable() {
        for (message, text) in all() {
            assert_eq!(message.to_line(), format!("{text}\n"));
            assert_eq!(GuestMessage::from_line(text).expect(text), message);
            assert_eq!(
                GuestMessage::from_line(&format!("{text}\r\n")).expect(text),
                message
            );
        }
    }

    #[test]
    fn reports_cross_typed() {
        let report = GuestReport {
            topology: TopologySeen::Mismatched {
                shape: "1n1l4c1t".into(),
            },
            ..GuestReport::setup_failed("no cgroup v2")
        };
        let message = GuestMessage::Report {
            report: Box::new(report),
        };
        let line = message.to_line();
        assert!(
            line.contains(r#""topology":{"seen":"mismatched","shape":"1n1l4c1t"}"#),
            "{line}"
        );
        assert_eq!(GuestMessage::from_line(&line).expect("parses"), message);
        let untyped = r#"{"type":"report","report":{"topology":"1n2l2c1t"}}"#;
        assert!(GuestMessage::from_line(untyped).is_err());
    }

    #[test]
    fn bad_lines_are_errors() {
        let bad = [
            "",
            "not json",
            r#"{"type":"exploded"}"#,
            r#"{"type":"finished"}"#,
            r#"{"type":"finished","exit_code":"zero"}"#,
            r#"{"type":"log"}"#,
            r#"{"pid":1}"#,
            "[1,2]",
        ];
        for line in bad {
            assert!(GuestMessage::from_line(line).is_err(), "{line:?}");
        }
    }
}
