//! Forked worker processes: configuration, work loops, and their reports.

mod config;
mod report;
mod work_type;

pub use config::{AffinityMode, SchedPolicy, WorkloadConfig};
pub use report::{ExitInfo, Migration, WorkerReport};
pub use work_type::{CustomFn, Phase, WorkType};
