//! `TrialSpec`: one trial as the guest needs it, carried on the kernel command line.

use serde::{Deserialize, Serialize};

use crate::assert::Assert;
use crate::scx::SchedulerSpec;
use crate::topology::Topology;

/// One trial as the guest needs it: which test, on what, with which scheduler and settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialSpec {
    pub test: String,
    pub topology: Topology,
    pub scheduler: SchedulerSpec,
    pub duration_ms: u64,
    pub workers_per_cgroup: usize,
    /// Pause after the scenario's first cgroups are created, before its first workers spawn.
    pub settle_ms: u64,
    /// Merged checks: defaults → scheduler → test.
    pub assert: Assert,
    /// `/proc/sys` writes before the scheduler starts, e.g. `kernel/sched_rt_runtime_us = -1`.
    pub sysctls: Vec<(String, String)>,
    /// How long the scheduler may take to attach (its BPF programs are verified in that time).
    pub attach_timeout_ms: u64,
}
