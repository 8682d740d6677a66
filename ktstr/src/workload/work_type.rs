//! `WorkType`: what each worker loop iteration does.

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

/// What a worker does in each iteration of its loop. Parameters default as in `from_name`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WorkType {
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
