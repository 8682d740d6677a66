//! Worker report fixtures shared by the unit tests of this module.

use crate::workload::{ExitInfo, WorkerReport};

/// A healthy worker: 1 s wall, 0.9 s on CPU, 1000 iterations and work units on cpu0.
pub(crate) fn worker(tid: i32) -> WorkerReport {
    WorkerReport {
        tid,
        work_units: 1000,
        iterations: 1000,
        cpu_time_ns: 900_000_000,
        wall_time_ns: 1_000_000_000,
        off_cpu_ns: 100_000_000,
        schedstat_run_delay_ns: 50_000_000,
        cpus_used: vec![0],
        max_gap_ms: 20,
        completed: true,
        ..WorkerReport::default()
    }
}

/// A worker that sent no report and ended as `how` says.
pub(crate) fn dead(tid: i32, how: ExitInfo) -> WorkerReport {
    WorkerReport {
        tid,
        exit_info: Some(how),
        ..WorkerReport::default()
    }
}
