//! The log lines that tell what happened to a sched_ext scheduler, as Linux 6.12 and the example schedulers
//! print them:
//!
//! ```text
//! sched_ext: BPF scheduler "qmap" enabled                      kernel, on attach (" (partial)" if not all tasks)
//! sched_ext: BPF scheduler "qmap" disabled (runnable task stall)        kernel, on detach
//! sched_ext: qmap: busybox[89] failed to run for 7.106s        kernel, the exit message after an error
//! EXIT: runnable task stall (busybox[89] failed to run for 7.106s)      the scheduler's own stderr
//! ```

use serde::{Deserialize, Serialize};

const KERNEL_PREFIX: &str = "sched_ext: ";
const BPF_SCHEDULER: &str = "BPF scheduler \"";
const USER_EXIT: &str = "EXIT: ";

/// One line about a sched_ext scheduler's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ScxLogEvent {
    /// The kernel attached `scheduler`; `partial` when it schedules only the tasks that opted in.
    Enabled { scheduler: String, partial: bool },
    /// The kernel detached `scheduler` for `reason`.
    Disabled { scheduler: String, reason: String },
    /// The kernel's message explaining an error exit, logged right after `Disabled`.
    ExitMessage { scheduler: String, message: String },
    /// The scheduler's own report of its exit (`EXIT: reason (message)`).
    UserExit {
        reason: String,
        message: Option<String>,
    },
}

impl ScxLogEvent {
    /// Parses a kernel log message, a console line (`[   7.305812] ...`) or a line the scheduler printed.
    pub fn parse(line: &str) -> Option<ScxLogEvent> {
        let line = strip_console_timestamp(line.trim_end_matches(['\n', '\r']));
        if let Some(rest) = line.strip_prefix(USER_EXIT) {
            return Some(parse_user_exit(rest));
        }
        let rest = line.strip_prefix(KERNEL_PREFIX)?;
        match rest.strip_prefix(BPF_SCHEDULER) {
            Some(quoted) => parse_transition(quoted),
            None => parse_exit_message(rest),
        }
    }
}

/// `[    7.305812] text` → `text`; any other line unchanged.
fn strip_console_timestamp(line: &str) -> &str {
    let stamped = line
        .strip_prefix('[')
        .and_then(|rest| rest.split_once("] "))
        .filter(|(stamp, _)| {
            let stamp = stamp.trim_start();
            !stamp.is_empty() && stamp.chars().all(|c| c.is_ascii_digit() || c == '.')
        });
    stamped.map_or(line, |(_, text)| text)
}

/// `NAME" enabled`, `NAME" enabled (partial)` or `NAME" disabled (REASON)`.
fn parse_transition(quoted: &str) -> Option<ScxLogEvent> {
    let (name, what) = quoted.split_once("\" ")?;
    if !is_ops_name(name) {
        return None;
    }
    let scheduler = name.to_string();
    match what {
        "enabled" | "enabled (partial)" => Some(ScxLogEvent::Enabled {
            scheduler,
            partial: what != "enabled",
        }),
        _ => {
            let reason = what.strip_prefix("disabled (")?.strip_suffix(')')?;
            Some(ScxLogEvent::Disabled {
                scheduler,
                reason: reason.to_string(),
            })
        }
    }
}

/// `NAME: MESSAGE`, where NAME is a valid ops name.
fn parse_exit_message(rest: &str) -> Option<ScxLogEvent> {
    let (name, message) = rest.split_once(": ")?;
    is_ops_name(name).then(|| ScxLogEvent::ExitMessage {
        scheduler: name.to_string(),
        message: message.to_string(),
    })
}

/// `REASON` or `REASON (MESSAGE)`; the kernel's reasons never contain " (".
fn parse_user_exit(rest: &str) -> ScxLogEvent {
    let split = rest
        .split_once(" (")
        .and_then(|(reason, tail)| Some((reason, tail.strip_suffix(')')?)));
    let (reason, message) = match split {
        Some((reason, message)) => (reason, Some(message.to_string())),
        None => (rest, None),
    };
    ScxLogEvent::UserExit {
        reason: reason.to_string(),
        message,
    }
}

/// sched_ext ops names are BPF object names: letters, digits, `_` and `.`.
fn is_ops_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

#[cfg(test)]
#[path = "log_event_tests.rs"]
mod tests;
