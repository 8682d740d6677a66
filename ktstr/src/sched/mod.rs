//! The scheduler under test: what a test names (`Scheduler`), the spec that travels to the guest, and the
//! guest-side lifecycle — launch, wait for sched_ext to report it attached, watch it, stop it — plus readers of
//! the sched_ext sysfs files, `/dev/kmsg` and the scheduler's own exit line.

mod error;
mod exit;
mod kmsg;
mod launch;
mod output;
mod process;
mod running;
mod scheduler;
mod scx_log;
mod sysfs;

pub use error::{KmsgError, SchedulerError, StopError, SysfsError};
pub use exit::{ScxExit, ScxExitKind, TaskStall};
pub use kmsg::{read_kmsg, KmsgRecord, KMSG_PATH};
pub use launch::{
    launch, LaunchFailure, LaunchFailureReason, LaunchOptions, DEFAULT_ATTACH_TIMEOUT,
    DEFAULT_STOP_GRACE,
};
pub use output::OUTPUT_LIMIT;
pub use running::{RunningScheduler, SchedulerEnd};
pub use scheduler::{Scheduler, SchedulerSpec, IN_TREE_SCHEDULERS};
pub use scx_log::ScxLogEvent;
pub use sysfs::{ScxState, ScxSysfs, SCHED_EXT_SYSFS};
