//! The scheduler under test: what a test names (`Scheduler`), the spec that travels to the guest, and the
//! guest-side lifecycle — launch, wait for sched_ext to report it attached, watch it, stop it — plus readers of
//! the sched_ext sysfs files, `/dev/kmsg` and the scheduler's own exit line.

mod declare;
mod diagnose;
mod error;
mod exit;
mod install;
mod launch;
mod lookup;
mod output;
mod process;
mod running;
mod scheduler;
mod scx_log;
mod store;
mod sysfs;

pub use declare::{FlagDecl, Profile, Sysctl, TopologyConstraints, MAX_FLAGS};
pub use diagnose::{diagnose_load_failure, strip_ansi, LoadCause, LoadDiagnosis};
pub use error::{SchedulerError, StopError, SysfsError};
pub use exit::{ScxExit, ScxExitKind, TaskStall};
pub use install::{install_scheduler, InstallError, InstallOutcome, InstallSpec, LLVM_DIR};
pub use launch::{
    launch, LaunchFailure, LaunchFailureReason, LaunchOptions, DEFAULT_ATTACH_TIMEOUT,
    DEFAULT_STOP_GRACE,
};
pub use lookup::{cargo_target_dirs, find_in_path, find_in_target_dirs};
pub use output::OUTPUT_LIMIT;
pub use running::{RunningScheduler, SchedulerEnd};
pub use scheduler::{BinarySource, LocatedBinary, Scheduler, SchedulerSpec, IN_TREE_SCHEDULERS};
pub use scx_log::ScxLogEvent;
pub use store::{InstalledMetadata, InstalledScheduler, SchedulerStore};
pub use sysfs::{ScxState, ScxSysfs, SCHED_EXT_SYSFS};
