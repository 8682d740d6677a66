//! Worker configuration: scheduling policy, resolved affinity, and `WorkloadConfig`.

use serde::{Deserialize, Serialize};

use super::WorkType;
use crate::topology::CpuSet;

/// Scheduling policy a worker applies to itself after start. RT priorities are 1..=99.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SchedPolicy {
    #[default]
    Normal,
    Batch,
    Idle,
    Fifo(u8),
    RoundRobin(u8),
}

impl SchedPolicy {
    pub const fn fifo(priority: u8) -> Self {
        SchedPolicy::Fifo(priority)
    }

    pub const fn round_robin(priority: u8) -> Self {
        SchedPolicy::RoundRobin(priority)
    }

    /// The `SCHED_*` constant and the static priority for `sched_setscheduler`.
    pub(crate) fn to_raw(self) -> (libc::c_int, libc::c_int) {
        match self {
            SchedPolicy::Normal => (libc::SCHED_OTHER, 0),
            SchedPolicy::Batch => (libc::SCHED_BATCH, 0),
            SchedPolicy::Idle => (libc::SCHED_IDLE, 0),
            SchedPolicy::Fifo(p) => (libc::SCHED_FIFO, libc::c_int::from(p)),
            SchedPolicy::RoundRobin(p) => (libc::SCHED_RR, libc::c_int::from(p)),
        }
    }
}

/// Affinity after resolution against a cgroup's cpuset and the topology.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AffinityMode {
    /// No `sched_setaffinity` call.
    #[default]
    None,
    Fixed(CpuSet),
    /// Each worker picks `count` random CPUs of `from`.
    Random {
        from: CpuSet,
        count: usize,
    },
    SingleCpu(usize),
}

/// Everything needed to fork one group of identical workers.
///
/// ```
/// use ktstr::workload::{SchedPolicy, WorkType, WorkloadConfig};
/// let config = WorkloadConfig::new(WorkType::pipe_io(1024)).workers(4).sched_policy(SchedPolicy::Batch);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct WorkloadConfig {
    pub num_workers: usize,
    pub affinity: AffinityMode,
    pub work_type: WorkType,
    pub sched_policy: SchedPolicy,
    /// Nice value each worker sets on itself (-20..=19); 0 leaves it alone.
    pub nice: i32,
}

impl WorkloadConfig {
    /// One worker of `work_type`, no affinity, `SCHED_NORMAL`.
    pub fn new(work_type: WorkType) -> Self {
        WorkloadConfig {
            num_workers: 1,
            affinity: AffinityMode::None,
            work_type,
            sched_policy: SchedPolicy::Normal,
            nice: 0,
        }
    }

    pub fn workers(mut self, num_workers: usize) -> Self {
        self.num_workers = num_workers;
        self
    }

    pub fn affinity(mut self, affinity: AffinityMode) -> Self {
        self.affinity = affinity;
        self
    }

    pub fn work_type(mut self, work_type: WorkType) -> Self {
        self.work_type = work_type;
        self
    }

    pub fn sched_policy(mut self, sched_policy: SchedPolicy) -> Self {
        self.sched_policy = sched_policy;
        self
    }

    pub fn nice(mut self, nice: i32) -> Self {
        self.nice = nice;
        self
    }
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig::new(WorkType::SpinWait)
    }
}
