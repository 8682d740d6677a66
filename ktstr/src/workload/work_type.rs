//! `WorkType`: what each worker loop iteration does, its constructors and its grouping needs.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::WorkerReport;

/// A user-supplied worker loop: runs until the flag turns true and returns the whole report.
pub type CustomFn = fn(&AtomicBool) -> WorkerReport;

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

/// What a worker does in each iteration of its loop. Parameters default as in `from_name`.
///
/// ```
/// use ktstr::workload::WorkType;
/// let wt = WorkType::from_name("Bursty").unwrap();
/// assert_eq!(wt, WorkType::bursty(50, 100));
/// ```
#[derive(Debug, Clone, Default)]
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
    pub const fn custom(name: &'static str, run: CustomFn) -> Self {
        WorkType::Custom { name, run }
    }

    /// Workers that cooperate as one unit: pairs, a messenger with its receivers, or a lock's contenders.
    pub fn worker_group_size(&self) -> usize {
        match *self {
            WorkType::PipeIo { .. }
            | WorkType::FutexPingPong { .. }
            | WorkType::CachePipe { .. } => 2,
            WorkType::FutexFanOut { fan_out, .. } => fan_out.saturating_add(1),
            WorkType::MutexContention { contenders, .. } => contenders,
            _ => 1,
        }
    }

    /// Whether the group shares a futex page mapped before fork.
    pub fn needs_shared_mem(&self) -> bool {
        matches!(
            self,
            WorkType::FutexPingPong { .. }
                | WorkType::FutexFanOut { .. }
                | WorkType::MutexContention { .. }
        )
    }

    /// Whether workers write into a per-worker temporary file.
    pub(crate) fn needs_io_file(&self) -> bool {
        match self {
            WorkType::IoSync => true,
            WorkType::Sequence { first, rest } => std::iter::once(first)
                .chain(rest)
                .any(|p| matches!(p, Phase::Io(_))),
            _ => false,
        }
    }

    /// Whether workers exchange messages with a partner over pipes.
    pub(crate) fn needs_pipes(&self) -> bool {
        matches!(self, WorkType::PipeIo { .. } | WorkType::CachePipe { .. })
    }
}

/// Field-wise equality; `Custom` compares by name because function pointers have no stable identity.
impl PartialEq for WorkType {
    fn eq(&self, other: &Self) -> bool {
        use WorkType::*;
        match (self, other) {
            (Custom { name: a, .. }, Custom { name: b, .. }) => a == b,
            (
                Bursty {
                    burst_ms: a,
                    sleep_ms: b,
                },
                Bursty {
                    burst_ms: c,
                    sleep_ms: d,
                },
            ) => (a, b) == (c, d),
            (PipeIo { burst_iters: a }, PipeIo { burst_iters: b }) => a == b,
            (FutexPingPong { spin_iters: a }, FutexPingPong { spin_iters: b }) => a == b,
            (
                FutexFanOut {
                    fan_out: a,
                    spin_iters: b,
                },
                FutexFanOut {
                    fan_out: c,
                    spin_iters: d,
                },
            ) => (a, b) == (c, d),
            (
                CachePressure {
                    size_kb: a,
                    stride: b,
                },
                CachePressure {
                    size_kb: c,
                    stride: d,
                },
            )
            | (
                CacheYield {
                    size_kb: a,
                    stride: b,
                },
                CacheYield {
                    size_kb: c,
                    stride: d,
                },
            ) => (a, b) == (c, d),
            (
                CachePipe {
                    size_kb: a,
                    burst_iters: b,
                },
                CachePipe {
                    size_kb: c,
                    burst_iters: d,
                },
            ) => (a, b) == (c, d),
            (Sequence { first: a, rest: b }, Sequence { first: c, rest: d }) => a == c && b == d,
            (AffinityChurn { spin_iters: a }, AffinityChurn { spin_iters: b })
            | (PolicyChurn { spin_iters: a }, PolicyChurn { spin_iters: b }) => a == b,
            (
                PageFaultChurn {
                    region_kb: a,
                    touches_per_cycle: b,
                    spin_iters: c,
                },
                PageFaultChurn {
                    region_kb: d,
                    touches_per_cycle: e,
                    spin_iters: f,
                },
            ) => (a, b, c) == (d, e, f),
            (
                MutexContention {
                    contenders: a,
                    hold_iters: b,
                    work_iters: c,
                },
                MutexContention {
                    contenders: d,
                    hold_iters: e,
                    work_iters: f,
                },
            ) => (a, b, c) == (d, e, f),
            (SpinWait, SpinWait)
            | (YieldHeavy, YieldHeavy)
            | (Mixed, Mixed)
            | (IoSync, IoSync)
            | (ForkExit, ForkExit)
            | (NiceSweep, NiceSweep) => true,
            _ => false,
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
    fn equality_is_field_wise_and_custom_by_name() {
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
                WorkType::custom("x", report_b),
                true,
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
    fn io_file_for_io_sync_and_io_phases() {
        let ms = Duration::from_millis(1);
        assert!(WorkType::IoSync.needs_io_file());
        assert!(WorkType::sequence(Phase::Spin(ms), vec![Phase::Io(ms)]).needs_io_file());
        assert!(!WorkType::sequence(Phase::Spin(ms), vec![Phase::Sleep(ms)]).needs_io_file());
        assert!(!WorkType::Mixed.needs_io_file());
    }
}
