//! `GuestReport`: what the guest measured and saw in one trial; the host classifies the trial from it.

use serde::{Deserialize, Serialize};

use crate::assert::AssertResult;
use crate::sched::{ScxExit, ScxState};

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
