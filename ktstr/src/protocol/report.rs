//! `GuestReport`: what the guest measured and saw in one trial; the host classifies the trial from it.

use serde::{Deserialize, Serialize};

use crate::assert::AssertResult;
use crate::scx::{ScxExit, ScxState};

/// The topology the guest read from sysfs, against the one the trial asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "seen", rename_all = "snake_case")]
pub enum TopologySeen {
    /// The guest failed before it looked (the trial could not be read).
    #[default]
    NotChecked,
    Matched,
    /// The guest saw another shape, written as `XnYlZcWt`.
    Mismatched {
        shape: String,
    },
    /// sysfs could not be read or the topology is not uniform; the reason says which.
    Unreadable {
        reason: String,
    },
}

/// The sched_ext state in sysfs at the end of the trial.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "seen", rename_all = "snake_case")]
pub enum SchedExtSeen {
    #[default]
    NotRead,
    State {
        state: ScxState,
    },
    Unreadable {
        reason: String,
    },
}

/// How the test function ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "end", rename_all = "snake_case")]
pub enum TestEnd {
    /// An earlier phase failed, so it never ran.
    #[default]
    NotRun,
    /// It returned a verdict.
    Returned {
        result: AssertResult,
    },
    /// It returned an `Err`, rendered with its causes.
    Failed {
        error: String,
    },
    Panicked {
        message: String,
    },
    /// Its process was killed by a signal; `oom` when the kernel logged an OOM kill of it.
    Killed {
        signal: i32,
        signal_name: String,
        oom: bool,
    },
}

impl TestEnd {
    /// A test function's `Err`, with its causes.
    pub fn failed_with(error: &anyhow::Error) -> TestEnd {
        TestEnd::Failed {
            error: error_chain(error),
        }
    }

    /// The verdict, when the test function returned one.
    pub fn result(&self) -> Option<&AssertResult> {
        match self {
            TestEnd::Returned { result } => Some(result),
            _ => None,
        }
    }

    /// True when the test function did not return a passing verdict.
    pub fn failed(&self) -> bool {
        !matches!(self, TestEnd::Returned { result } if result.passed)
    }
}

/// An error and its causes, `: `-separated; a cause is left out when the message before it already
/// ends with it (an error that prints its source and also returns it from `source()`).
pub fn error_chain(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain().map(ToString::to_string) {
        if text.is_empty() {
            text = cause;
        } else if !text.ends_with(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}

/// What the guest measured and saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GuestReport {
    pub topology: TopologySeen,
    /// The guest's own set-up failed before the test ran (reading the trial, a sysctl, the cgroup root,
    /// starting the scheduler).
    pub setup_error: Option<String>,
    pub test: TestEnd,
    /// Whether the scheduler process was alive when the test function returned.
    pub scheduler_alive: bool,
    /// sched_ext's reason when the scheduler was ejected or exited.
    pub scx_exit: Option<ScxExit>,
    pub scheduler_output_tail: String,
    pub sched_ext: SchedExtSeen,
    pub kmsg_tail: Vec<String>,
}

impl GuestReport {
    /// A report of a guest that failed before it could run anything.
    pub fn setup_failed(error: impl Into<String>) -> GuestReport {
        GuestReport {
            setup_error: Some(error.into()),
            ..GuestReport::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("no CPU 10")]
    struct Inner;

    /// Prints its source and returns it from `source()` too, as many `thiserror` errors do.
    #[derive(Debug, thiserror::Error)]
    #[error("cgroup \"x\": {source}")]
    struct Outer {
        #[source]
        source: Inner,
    }

    #[test]
    fn a_cause_the_message_already_shows_is_not_repeated() {
        let echoing = anyhow::Error::new(Outer { source: Inner }).context("step 0");
        assert_eq!(error_chain(&echoing), "step 0: cgroup \"x\": no CPU 10");
        let plain = anyhow::anyhow!("no such cgroup").context("step 1");
        assert_eq!(error_chain(&plain), "step 1: no such cgroup");
        assert_eq!(
            TestEnd::failed_with(&plain),
            TestEnd::Failed {
                error: "step 1: no such cgroup".into()
            }
        );
    }
}
