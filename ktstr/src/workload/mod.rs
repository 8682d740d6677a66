//! Forked worker processes: configuration, work loops, and their reports.

mod collect;
mod config;
mod cpu_time;
mod error;
pub mod exit_code;
mod fork;
mod handle;
mod names;
mod plan;
mod report;
mod shm;
mod syscall;
mod validate;
mod work_type;
mod worker;

pub use config::{AffinityMode, SchedPolicy, WorkloadConfig};
pub use cpu_time::CpuTimes;
pub use error::WorkloadError;
pub use handle::WorkloadHandle;
pub use report::{ExitInfo, Migration, WorkerReport};
pub(crate) use syscall::now_ns;
pub use validate::MAX_WORKERS;
pub use work_type::{CustomFn, Phase, WorkType};
#[doc(hidden)]
pub use worker::spin_burst;
