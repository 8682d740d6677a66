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
#[derive(Debug, Clone)]
pub struct WorkloadConfig {
    pub num_workers: usize,
    pub affinity: AffinityMode,
    pub work_type: WorkType,
    pub sched_policy: SchedPolicy,
}
