//! A started worker's life: apply affinity and policy, run its work type's loop, write the JSON report.

use std::ffi::CStr;
use std::os::fd::RawFd;
use std::sync::atomic::AtomicU64;

use super::io::{self, IoFile};
use super::meter::Meter;
use super::pipe::{self, PipeLink};
use super::{cache_walk, churn, futex, mutex, page_fault, sequence, spin, stop};
use crate::workload::shm::FutexSlot;
use crate::workload::syscall::{set_affinity, set_nice, set_scheduler};
use crate::workload::{exit_code, SchedPolicy, WorkType, WorkerReport};

/// Everything one worker needs, prepared by the parent before fork.
pub(crate) struct ChildSpec<'a> {
    pub(crate) work_type: &'a WorkType,
    pub(crate) policy: SchedPolicy,
    pub(crate) nice: i32,
    /// Position inside its group (pair, fan-out group, lock contenders).
    pub(crate) rank: usize,
    pub(crate) report_fd: RawFd,
    pub(crate) affinity: Option<&'a [u64]>,
    /// This worker's (send, receive) pipe ends for pair types.
    pub(crate) link: Option<(RawFd, RawFd)>,
    pub(crate) futex: Option<&'a FutexSlot>,
    pub(crate) counter: &'a AtomicU64,
    pub(crate) io_path: Option<&'a CStr>,
}

/// A work type's setup failed before its loop began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetupError {
    IoFile,
    Memory,
    /// A resource the parent should have prepared is absent.
    MissingResource,
}

/// Runs the started worker to the end; returns its exit code.
/// `started_ns` is when the parent opened the start gate (CLOCK_MONOTONIC).
pub(crate) fn run(spec: &ChildSpec, started_ns: u64) -> i32 {
    if let Some(mask) = spec.affinity {
        if set_affinity(0, mask).is_err() {
            return exit_code::AFFINITY_FAILED;
        }
    }
    if spec.policy != SchedPolicy::Normal {
        let (policy, priority) = spec.policy.to_raw();
        if set_scheduler(policy, priority).is_err() {
            return exit_code::POLICY_FAILED;
        }
    }
    if spec.nice != 0 && set_nice(spec.nice).is_err() {
        return exit_code::POLICY_FAILED;
    }
    let report = match measure(spec, started_ns) {
        Ok(report) => report,
        Err(_) => return exit_code::SETUP_FAILED,
    };
    write_report(spec.report_fd, &report)
}

/// Sets up the work type's resources, then runs its loop under a fresh `Meter`; a custom loop measures
/// itself and returns its own report.
fn measure(spec: &ChildSpec, started_ns: u64) -> Result<WorkerReport, SetupError> {
    // SAFETY: no arguments.
    let seed = unsafe { libc::getpid() } as u64;
    let io = match spec.io_path {
        Some(path) => Some(IoFile::open(path)?),
        None if spec.work_type.needs().io_file => return Err(SetupError::MissingResource),
        None => None,
    };
    let mut pipe_link = spec
        .link
        .map(|(tx, rx)| PipeLink::new(tx, rx, spec.rank == 0));
    let rank = spec.rank;
    let mut meter = Meter::start(spec.counter, seed, started_ns);
    let m = &mut meter;
    match *spec.work_type {
        WorkType::SpinWait => spin::spin_wait(m),
        WorkType::YieldHeavy => spin::yield_heavy(m),
        WorkType::Mixed => spin::mixed(m),
        WorkType::Bursty { burst_ms, sleep_ms } => spin::bursty(m, burst_ms, sleep_ms),
        WorkType::IoSync => io::io_sync(m, need(io.as_ref())?),
        WorkType::PipeIo { burst_iters } => {
            pipe::pipe_io(m, need(pipe_link.as_mut())?, burst_iters)
        }
        WorkType::CachePipe {
            size_kb,
            burst_iters,
        } => cache_walk::cache_pipe(m, need(pipe_link.as_mut())?, size_kb, burst_iters),
        WorkType::CachePressure { size_kb, stride } => {
            cache_walk::cache_pressure(m, size_kb, stride)
        }
        WorkType::CacheYield { size_kb, stride } => cache_walk::cache_yield(m, size_kb, stride),
        WorkType::FutexPingPong { spin_iters } => {
            futex::ping_pong(m, need(spec.futex)?, rank, spin_iters)
        }
        WorkType::FutexFanOut { spin_iters, .. } => {
            futex::fan_out(m, need(spec.futex)?, rank, spin_iters)
        }
        WorkType::MutexContention {
            hold_iters,
            work_iters,
            ..
        } => mutex::contend(m, need(spec.futex)?, hold_iters, work_iters),
        WorkType::Sequence { first, ref rest } => sequence::sequence(m, first, rest, io.as_ref()),
        WorkType::ForkExit => churn::fork_exit(m),
        WorkType::NiceSweep => churn::nice_sweep(m),
        WorkType::AffinityChurn { spin_iters } => churn::affinity_churn(m, spin_iters, seed),
        WorkType::PolicyChurn { spin_iters } => churn::policy_churn(m, spin_iters, spec.policy),
        WorkType::PageFaultChurn {
            region_kb,
            touches_per_cycle,
            spin_iters,
        } => page_fault::page_fault_churn(m, region_kb, touches_per_cycle, spin_iters, seed)?,
        WorkType::Custom { run, .. } => return Ok(run.call(&stop::STOP)),
    }
    Ok(meter.finish())
}

/// A resource the parent prepares for this work type.
fn need<T>(resource: Option<T>) -> Result<T, SetupError> {
    resource.ok_or(SetupError::MissingResource)
}

/// Sends the report as JSON and returns the exit code.
fn write_report(fd: RawFd, report: &WorkerReport) -> i32 {
    let Ok(bytes) = serde_json::to_vec(report) else {
        return exit_code::REPORT_FAILED;
    };
    let mut rest = bytes.as_slice();
    while !rest.is_empty() {
        // SAFETY: writes from a live buffer to the worker's own report pipe.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        match usize::try_from(n) {
            Ok(written) if written > 0 => rest = &rest[written.min(rest.len())..],
            _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
            _ => return exit_code::REPORT_FAILED,
        }
    }
    0
}
