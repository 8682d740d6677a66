//! What travels between host and guest for one trial: the `TrialSpec` on the kernel command line and the
//! `GuestReport` back over the channel.

use serde::{Deserialize, Serialize};

use crate::assert::{Assert, AssertResult};
use crate::sched::{SchedulerSpec, ScxExit};
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

/// What the guest measured and saw; the host classifies the trial from it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GuestReport {
    /// The topology the guest read from sysfs, as `1n2l2c1t`, or why it could not.
    pub topology_seen: String,
    /// The test function's verdict; `None` when it did not return one.
    pub result: Option<AssertResult>,
    /// The test function's `Err`, rendered.
    pub error: Option<String>,
    /// The test function's panic message.
    pub panic: Option<String>,
    /// Whether the scheduler process was alive when the test function returned.
    pub scheduler_alive: bool,
    /// sched_ext's reason when the scheduler was ejected or exited.
    pub scx_exit: Option<ScxExit>,
    pub scheduler_output_tail: String,
    pub sched_ext_state: String,
    pub kmsg_tail: Vec<String>,
}
