//! `WorkType`: what each worker loop iteration does, its constructors, and what it needs from the parent.
//! The table on `WorkType` is the one place that says what each work type means.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::WorkerReport;

/// A user-supplied worker loop: runs until the flag turns true and returns the whole report. Two are equal
/// when they are the same function.
#[derive(Clone, Copy)]
pub struct CustomFn(pub fn(&AtomicBool) -> WorkerReport);

impl CustomFn {
    pub fn call(&self, stop: &AtomicBool) -> WorkerReport {
        (self.0)(stop)
    }
}

impl PartialEq for CustomFn {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::fn_addr_eq(self.0, other.0)
    }
}

impl std::fmt::Debug for CustomFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CustomFn({:p})", self.0 as *const ())
    }
}

/// One phase of a `WorkType::Sequence`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    Spin(Duration),
    Sleep(Duration),
    Yield(Duration),
    Io(Duration),
}

impl Phase {
    /// How long the phase lasts before the next one begins.
    pub fn duration(&self) -> Duration {
        match *self {
            Phase::Spin(d) | Phase::Sleep(d) | Phase::Yield(d) | Phase::Io(d) => d,
        }
    }
}

/// What a worker does in each iteration of its loop. Parameters default as in `from_name`; a zero
/// parameter is rejected by `WorkloadConfig::validate`.
///
/// | work type | each iteration | group | from the parent | defaults |
/// | --- | --- | --- | --- | --- |
/// | `SpinWait` | spins | 1 | | |
/// | `YieldHeavy` | yields, counting one unit of work | 1 | | |
/// | `Mixed` | spins a checkpoint's worth, then yields | 1 | | |
/// | `IoSync` | truncates and rewrites a file, then sleeps briefly | 1 | a temporary file | |
/// | `Bursty` | spins `burst_ms`, then sleeps `sleep_ms` | 1 | | 50, 100 |
/// | `PipeIo` | spins `burst_iters`, then passes a token to its partner over a pipe | 2 | a pipe pair | 1024 |
/// | `FutexPingPong` | spins `spin_iters`, then hands the turn to its partner through a futex | 2 | a futex page | 1024 |
/// | `FutexFanOut` | the messenger spins and wakes `fan_out` receivers, which then spin | `fan_out` + 1 | a futex page | 4, 1024 |
/// | `CachePressure` | walks a `size_kb` buffer `stride` bytes at a time | 1 | | 32, 64 |
/// | `CacheYield` | as `CachePressure`, then yields | 1 | | 32, 64 |
/// | `CachePipe` | walks `burst_iters` strides of a `size_kb` buffer, then passes a token as `PipeIo` | 2 | a pipe pair | 32, 1024 |
/// | `Sequence` | runs its phases in order (spin, sleep, yield, I/O), then again | 1 | a temporary file if a phase does I/O | |
/// | `ForkExit` | forks a child that exits at once and reaps it | 1 | | |
/// | `NiceSweep` | walks nice -20..=19, spinning and yielding at each | 1 | | |
/// | `AffinityChurn` | spins `spin_iters`, pins itself to a random allowed CPU, yields | 1 | | 1024 |
/// | `PolicyChurn` | spins `spin_iters`, switches scheduling policy, yields | 1 | | 1024 |
/// | `PageFaultChurn` | faults in `touches_per_cycle` random pages of a `region_kb` region, drops them, spins `spin_iters` | 1 | | 4096, 256, 64 |
/// | `MutexContention` | spins `work_iters`, then `hold_iters` holding a lock shared by `contenders` | `contenders` | a futex page | 4, 256, 1024 |
/// | `Custom` | the user's loop, which owns the whole run and its report | 1 | | |
///
/// The "group" and "from the parent" columns are `WorkType::needs`.
///
/// ```
/// use ktstr::workload::WorkType;
/// let wt = WorkType::from_name("Bursty").unwrap();
/// assert_eq!(wt, WorkType::bursty(50, 100));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum WorkType {
    #[default]
    SpinWait,
    YieldHeavy,
    Mixed,
    IoSync,
    Bursty {
        burst_ms: u64,
        sleep_ms: u64,
    },
    PipeIo {
        burst_iters: u64,
    },
    FutexPingPong {
        spin_iters: u64,
    },
    FutexFanOut {
        fan_out: usize,
        spin_iters: u64,
    },
    CachePressure {
        size_kb: usize,
        stride: usize,
    },
    CacheYield {
        size_kb: usize,
        stride: usize,
    },
    CachePipe {
        size_kb: usize,
        burst_iters: u64,
    },
    Sequence {
        first: Phase,
        rest: Vec<Phase>,
    },
    ForkExit,
    NiceSweep,
    AffinityChurn {
        spin_iters: u64,
    },
    PolicyChurn {
        spin_iters: u64,
    },
    PageFaultChurn {
        region_kb: usize,
        touches_per_cycle: usize,
        spin_iters: u64,
    },
    MutexContention {
        contenders: usize,
        hold_iters: u64,
        work_iters: u64,
    },
    Custom {
        name: &'static str,
        run: CustomFn,
    },
}

impl WorkType {
    pub const fn bursty(burst_ms: u64, sleep_ms: u64) -> Self {
        WorkType::Bursty { burst_ms, sleep_ms }
    }

    pub const fn pipe_io(burst_iters: u64) -> Self {
        WorkType::PipeIo { burst_iters }
    }

    pub const fn futex_ping_pong(spin_iters: u64) -> Self {
        WorkType::FutexPingPong { spin_iters }
    }

    pub const fn futex_fan_out(fan_out: usize, spin_iters: u64) -> Self {
        WorkType::FutexFanOut {
            fan_out,
            spin_iters,
        }
    }

    pub const fn cache_pressure(size_kb: usize, stride: usize) -> Self {
        WorkType::CachePressure { size_kb, stride }
    }

    pub const fn cache_yield(size_kb: usize, stride: usize) -> Self {
        WorkType::CacheYield { size_kb, stride }
    }

    pub const fn cache_pipe(size_kb: usize, burst_iters: u64) -> Self {
        WorkType::CachePipe {
            size_kb,
            burst_iters,
        }
    }

    pub const fn affinity_churn(spin_iters: u64) -> Self {
        WorkType::AffinityChurn { spin_iters }
    }

    pub const fn policy_churn(spin_iters: u64) -> Self {
        WorkType::PolicyChurn { spin_iters }
    }

    pub const fn page_fault_churn(
        region_kb: usize,
        touches_per_cycle: usize,
        spin_iters: u64,
    ) -> Self {
        WorkType::PageFaultChurn {
            region_kb,
            touches_per_cycle,
            spin_iters,
        }
    }

    pub const fn mutex_contention(contenders: usize, hold_iters: u64, work_iters: u64) -> Self {
        WorkType::MutexContention {
            contenders,
            hold_iters,
            work_iters,
        }
    }

    /// Phases run in order, then the loop starts again at `first`.
    pub fn sequence(first: Phase, rest: Vec<Phase>) -> Self {
        WorkType::Sequence { first, rest }
    }

    /// A user loop: `run` owns the loop and the report; ktstr fills in `tid` and `index`.
    pub const fn custom(name: &'static str, run: fn(&AtomicBool) -> WorkerReport) -> Self {
        WorkType::Custom {
            name,
            run: CustomFn(run),
        }
    }

    /// What the parent prepares for a group of this work type: the "group" and "from the parent" columns
    /// of the table above.
    pub(crate) fn needs(&self) -> Needs {
        use WorkType::*;
        let solo = Needs::solo();
        match *self {
            SpinWait | YieldHeavy | Mixed | Bursty { .. } | CachePressure { .. } => solo,
            CacheYield { .. } | ForkExit | NiceSweep | AffinityChurn { .. } => solo,
            PolicyChurn { .. } | PageFaultChurn { .. } | Custom { .. } => solo,
            IoSync => Needs {
                io_file: true,
                ..solo
            },
            Sequence {
                ref first,
                ref rest,
            } => Needs {
                io_file: std::iter::once(first)
                    .chain(rest)
                    .any(|p| matches!(p, Phase::Io(_))),
                ..solo
            },
            PipeIo { .. } | CachePipe { .. } => Needs {
                group: 2,
                pipes: true,
                ..solo
            },
            FutexPingPong { .. } => Needs::futex(2),
            FutexFanOut { fan_out, .. } => Needs::futex(fan_out.saturating_add(1)),
            MutexContention { contenders, .. } => Needs::futex(contenders),
        }
    }

    /// Workers that cooperate as one unit: pairs, a messenger with its receivers, or a lock's contenders.
    pub fn worker_group_size(&self) -> usize {
        self.needs().group
    }

    /// Whether the group shares a futex page mapped before fork.
    pub fn needs_shared_mem(&self) -> bool {
        self.needs().shared_mem
    }
}

/// What the parent prepares for one group of workers of a work type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Needs {
    /// Workers that cooperate as one unit.
    pub group: usize,
    /// A futex page mapped before fork, shared by the group.
    pub shared_mem: bool,
    /// A pipe pair between partners.
    pub pipes: bool,
    /// A per-worker temporary file.
    pub io_file: bool,
}

impl Needs {
    const fn solo() -> Needs {
        Needs {
            group: 1,
            shared_mem: false,
            pipes: false,
            io_file: false,
        }
    }

    const fn futex(group: usize) -> Needs {
        Needs {
            group,
            shared_mem: true,
            ..Needs::solo()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_a(_: &AtomicBool) -> WorkerReport {
        WorkerReport::default()
    }

    fn report_b(_: &AtomicBool) -> WorkerReport {
        WorkerReport {
            completed: true,
            ..WorkerReport::default()
        }
    }

    #[test]
    fn equality_is_field_wise_and_custom_by_function() {
        let cases = [
            (WorkType::SpinWait, WorkType::SpinWait, true),
            (WorkType::SpinWait, WorkType::YieldHeavy, false),
            (WorkType::bursty(1, 2), WorkType::bursty(1, 2), true),
            (WorkType::bursty(1, 2), WorkType::bursty(1, 3), false),
            (
                WorkType::cache_pressure(32, 64),
                WorkType::cache_yield(32, 64),
                false,
            ),
            (
                WorkType::custom("x", report_a),
                WorkType::custom("x", report_a),
                true,
            ),
            (
                WorkType::custom("x", report_a),
                WorkType::custom("x", report_b),
                false,
            ),
            (
                WorkType::custom("x", report_a),
                WorkType::custom("y", report_a),
                false,
            ),
            (
                WorkType::sequence(Phase::Spin(Duration::from_millis(1)), vec![]),
                WorkType::sequence(Phase::Sleep(Duration::from_millis(1)), vec![]),
                false,
            ),
        ];
        for (a, b, equal) in cases {
            assert_eq!(a == b, equal, "{a:?} == {b:?}");
        }
    }

    #[test]
    fn group_sizes() {
        let cases = [
            (WorkType::SpinWait, 1),
            (WorkType::pipe_io(1), 2),
            (WorkType::futex_ping_pong(1), 2),
            (WorkType::cache_pipe(1, 1), 2),
            (WorkType::futex_fan_out(4, 1), 5),
            (WorkType::mutex_contention(3, 1, 1), 3),
            (WorkType::ForkExit, 1),
        ];
        for (wt, size) in cases {
            assert_eq!(wt.worker_group_size(), size, "{wt:?}");
        }
    }

    #[test]
    fn shared_memory_only_for_futex_types() {
        assert!(WorkType::futex_ping_pong(1).needs_shared_mem());
        assert!(WorkType::futex_fan_out(1, 1).needs_shared_mem());
        assert!(WorkType::mutex_contention(2, 1, 1).needs_shared_mem());
        assert!(!WorkType::pipe_io(1).needs_shared_mem());
        assert!(!WorkType::SpinWait.needs_shared_mem());
    }

    #[test]
    fn io_file_for_io_sync_and_io_phases_pipes_for_partners() {
        let ms = Duration::from_millis(1);
        let io_file = |wt: WorkType| wt.needs().io_file;
        assert!(io_file(WorkType::IoSync));
        assert!(io_file(WorkType::sequence(
            Phase::Spin(ms),
            vec![Phase::Io(ms)]
        )));
        assert!(!io_file(WorkType::sequence(
            Phase::Spin(ms),
            vec![Phase::Sleep(ms)]
        )));
        assert!(!io_file(WorkType::Mixed));
        assert!(WorkType::pipe_io(1).needs().pipes);
        assert!(WorkType::cache_pipe(1, 1).needs().pipes);
        assert!(!WorkType::futex_ping_pong(1).needs().pipes);
    }
}
