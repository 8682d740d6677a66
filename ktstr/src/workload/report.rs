//! `WorkerReport`: what one worker measured, sent to the parent as JSON over its report pipe.

use serde::{Deserialize, Serialize};

use super::exit_code;

/// One observed CPU change at a sampling checkpoint; times are ns since the worker's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migration {
    /// The checkpoint that first saw `to_cpu`.
    pub at_ns: u64,
    /// The last checkpoint that saw `from_cpu` (the worker moved somewhere in between).
    #[serde(default)]
    pub from_seen_until_ns: u64,
    pub from_cpu: usize,
    pub to_cpu: usize,
}

/// How a worker that sent no valid report ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitInfo {
    Exited(i32),
    Signaled(i32),
    /// Killed by the kernel's OOM killer (the kernel log names its pid).
    OomKilled,
    /// Still running at the collect deadline; it was then killed.
    TimedOut,
    WaitFailed(String),
}

impl ExitInfo {
    /// A sentence for failure messages, naming ktstr's own worker exit codes.
    pub fn describe(&self) -> String {
        match self {
            ExitInfo::Exited(code) => match exit_code::meaning(*code) {
                Some(meaning) => format!("exited with code {code}: {meaning}"),
                None => format!("exited with code {code} without a report"),
            },
            ExitInfo::Signaled(signal) => format!("killed by signal {signal}"),
            ExitInfo::OomKilled => "killed by the OOM killer".to_string(),
            ExitInfo::TimedOut => {
                "sent no report before the collect deadline and was killed".to_string()
            }
            ExitInfo::WaitFailed(error) => format!("could not be waited for: {error}"),
        }
    }
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
    /// CLOCK_MONOTONIC at the start of the worker's clocks, which `Migration` times count from.
    #[serde(default)]
    pub started_at_ns: u64,
    pub off_cpu_ns: u64,
    /// Deltas of the three fields of /proc/self/schedstat between loop start and end.
    pub schedstat_cpu_time_ns: u64,
    pub schedstat_run_delay_ns: u64,
    pub schedstat_run_count: u64,
    pub migration_count: u64,
    /// The first 10 000 CPU changes; `migration_count` counts all.
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
    /// Set only on sentinel reports of workers that sent none.
    pub exit_info: Option<ExitInfo>,
    pub is_messenger: bool,
}

impl WorkerReport {
    /// The report of a worker that sent none: `completed = false` and how it ended.
    pub(crate) fn sentinel(tid: i32, index: usize, iterations: u64, exit_info: ExitInfo) -> Self {
        WorkerReport {
            tid,
            index,
            iterations,
            completed: false,
            exit_info: Some(exit_info),
            ..WorkerReport::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_descriptions_name_the_cause() {
        let cases = [
            (
                ExitInfo::Exited(exit_code::POLICY_FAILED),
                "scheduling policy",
            ),
            (ExitInfo::Exited(3), "code 3 without a report"),
            (ExitInfo::Signaled(9), "signal 9"),
            (ExitInfo::TimedOut, "deadline"),
            (ExitInfo::WaitFailed("ECHILD".into()), "ECHILD"),
        ];
        for (info, needle) in cases {
            assert!(
                info.describe().contains(needle),
                "{info:?}: {}",
                info.describe()
            );
        }
    }

    #[test]
    fn reports_round_trip_through_json() {
        let report = WorkerReport {
            tid: 5,
            work_units: 1 << 40,
            migrations: vec![Migration {
                at_ns: 1,
                from_seen_until_ns: 0,
                from_cpu: 0,
                to_cpu: 1,
            }],
            exit_info: Some(ExitInfo::Signaled(9)),
            ..WorkerReport::default()
        };
        let json = serde_json::to_vec(&report).expect("encode");
        assert_eq!(
            serde_json::from_slice::<WorkerReport>(&json).expect("decode"),
            report
        );
    }
}
