//! The scheduler process in the guest: what it is given (`SchedulerSpec`), launching it and waiting for
//! sched_ext to report it attached, watching and stopping it with its output captured, and reading what
//! sched_ext and the scheduler say about it — the sysfs files, the exit line, the `sched_ext:` log lines.

mod error;
mod exit;
mod launch;
mod log_event;
mod output;
mod process;
mod running;
mod spec;
mod sysfs;

pub use error::{StopError, SysfsError};
pub use exit::{ScxExit, ScxExitKind, TaskStall};
pub use launch::{
    launch, LaunchFailure, LaunchFailureReason, LaunchOptions, DEFAULT_ATTACH_TIMEOUT,
    DEFAULT_STOP_GRACE,
};
pub use log_event::ScxLogEvent;
pub use output::OUTPUT_LIMIT;
pub use running::{RunningScheduler, SchedulerEnd};
pub use spec::SchedulerSpec;
pub use sysfs::{ScxState, ScxSysfs, SCHED_EXT_SYSFS};
