//! `WorkerReport`: what one worker measured, sent to the parent as JSON over its report pipe.

use serde::{Deserialize, Serialize};

/// One observed CPU change at a sampling checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migration {
    pub at_ns: u64,
    pub from_cpu: usize,
    pub to_cpu: usize,
}

/// How a worker that sent no valid report ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitInfo {
    Exited(i32),
    Signaled(i32),
    TimedOut,
    WaitFailed(String),
}

/// Telemetry of one worker process over its whole work loop.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerReport {
    /// Worker pid.
    pub tid: i32,
    /// Index of the worker inside its handle.
    pub index: usize,
    pub work_units: u64,
    pub iterations: u64,
    pub cpu_time_ns: u64,
    pub wall_time_ns: u64,
    pub off_cpu_ns: u64,
    /// Deltas of the three fields of /proc/self/schedstat between loop start and end.
    pub schedstat_cpu_time_ns: u64,
    pub schedstat_run_delay_ns: u64,
    pub schedstat_run_count: u64,
    pub migration_count: u64,
    pub migrations: Vec<Migration>,
    /// CPUs seen at sampling checkpoints.
    pub cpus_used: Vec<usize>,
    pub max_gap_ms: u64,
    pub max_gap_cpu: usize,
    pub max_gap_at_ms: u64,
    /// Bounded reservoir of wake/resume latencies.
    pub resume_latencies_ns: Vec<u64>,
    /// Every latency sample seen, including those the reservoir dropped.
    pub wake_sample_total: u64,
    pub completed: bool,
    pub exit_info: Option<ExitInfo>,
    pub is_messenger: bool,
}
