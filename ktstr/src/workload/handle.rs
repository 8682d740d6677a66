//! `WorkloadHandle`: a group of forked worker processes with a two-phase start.

use std::fmt;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use super::fork::{self, SigUsr1Blocked};
use super::plan::{self, ParentEnds};
use super::shm::{CounterSlot, FutexSlot, SharedSlots};
use super::syscall::{affinity_mask, now_ns, set_affinity};
use super::worker::ChildSpec;
use super::{WorkloadConfig, WorkloadError};
use crate::topology::CpuSet;

/// One forked worker as the parent tracks it.
pub(crate) struct Worker {
    pub(crate) pid: libc::pid_t,
    /// Parent end of the start gate; closed once the start byte is sent.
    pub(crate) gate: Option<OwnedFd>,
    pub(crate) report: OwnedFd,
    /// Set once the process has been waited for; its pid may then belong to someone else.
    pub(crate) reaped: bool,
}

/// Running worker processes of one `WorkloadConfig`.
///
/// Workers are forked blocked on a start gate, so the caller can move them into a cgroup before they run:
///
/// ```no_run
/// use ktstr::workload::{WorkType, WorkloadConfig, WorkloadHandle};
/// let mut handle = WorkloadHandle::spawn(&WorkloadConfig::new(WorkType::SpinWait).workers(2))?;
/// for pid in handle.worker_pids() { /* write pid into cgroup.procs */ }
/// handle.start();
/// std::thread::sleep(std::time::Duration::from_secs(1));
/// let reports = handle.stop_and_collect();
/// # Ok::<(), ktstr::workload::WorkloadError>(())
/// ```
///
/// Dropping a handle without collecting SIGKILLs and reaps every worker.
pub struct WorkloadHandle {
    pub(crate) workers: Vec<Worker>,
    pub(crate) counters: SharedSlots<CounterSlot>,
    /// Kept mapped while workers use it.
    _futexes: Option<SharedSlots<FutexSlot>>,
    io_paths: Vec<PathBuf>,
    pub(crate) started: bool,
}

impl WorkloadHandle {
    /// Validates `config` and forks its workers, each waiting for `start`.
    pub fn spawn(config: &WorkloadConfig) -> Result<WorkloadHandle, WorkloadError> {
        config.validate()?;
        fork::install_panic_guard();
        let n = config.num_workers;
        let group = config.work_type.worker_group_size().max(1);
        let counters =
            SharedSlots::map(n).map_err(WorkloadError::resource("iteration counters"))?;
        let futexes = match config.work_type.needs_shared_mem() {
            true => {
                Some(SharedSlots::map(n / group).map_err(WorkloadError::resource("futex pages"))?)
            }
            false => None,
        };
        let plan = plan::prepare(config)?;
        let mut handle = WorkloadHandle {
            workers: Vec::with_capacity(n),
            counters,
            _futexes: futexes,
            io_paths: plan.io_paths,
            started: false,
        };
        let parent = std::process::id() as libc::pid_t;
        let _blocked = SigUsr1Blocked::new();
        let slots = plan
            .workers
            .iter()
            .zip(plan.parent_ends)
            .zip(handle.counters.iter());
        for (index, ((wp, ends), counter)) in slots.enumerate() {
            let spec = ChildSpec {
                work_type: &config.work_type,
                policy: config.sched_policy,
                nice: config.nice,
                rank: wp.rank,
                report_fd: wp.report.as_raw_fd(),
                affinity: wp.affinity.as_deref(),
                link: wp
                    .link
                    .as_ref()
                    .map(|(tx, rx)| (tx.as_raw_fd(), rx.as_raw_fd())),
                futex: handle._futexes.as_ref().and_then(|f| f.get(index / group)),
                counter: &counter.0,
                io_path: wp.io_path.as_deref(),
            };
            let gate = wp.gate.as_raw_fd();
            let pid = fork::fork_worker(|| fork::child_main(&spec, gate, &wp.keep, parent))
                .map_err(|source| WorkloadError::Fork { index, source })?;
            let ParentEnds { gate, report } = ends;
            handle.workers.push(Worker {
                pid,
                gate: Some(gate),
                report,
                reaped: false,
            });
        }
        Ok(handle)
    }

    /// Pids of the workers, in worker-index order.
    pub fn worker_pids(&self) -> Vec<i32> {
        self.workers.iter().map(|w| w.pid).collect()
    }

    pub fn len(&self) -> usize {
        self.workers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    /// Opens every start gate; the workers apply affinity and policy, then loop. Calling it again does nothing.
    pub fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        for gate in self.workers.iter_mut().filter_map(|w| w.gate.take()) {
            // Workers measure from this instant, so a worker starved before its first instruction shows a gap.
            let stamp = now_ns().to_ne_bytes();
            // SAFETY: 8 bytes from a stack buffer; MSG_NOSIGNAL turns a dead worker into EPIPE, not SIGPIPE.
            unsafe {
                libc::send(
                    gate.as_raw_fd(),
                    stamp.as_ptr().cast(),
                    stamp.len(),
                    libc::MSG_NOSIGNAL,
                )
            };
        }
    }

    /// Pins worker `index` to `cpus` now. A worker not yet started applies its configured affinity at start.
    pub fn set_affinity(&self, index: usize, cpus: &CpuSet) -> Result<(), WorkloadError> {
        let worker = self.workers.get(index).ok_or(WorkloadError::NoSuchWorker {
            index,
            len: self.workers.len(),
        })?;
        set_affinity(worker.pid, &affinity_mask(cpus.iter())).map_err(|source| {
            WorkloadError::SetAffinity {
                index,
                pid: worker.pid,
                cpus: cpus.to_string(),
                source,
            }
        })
    }

    /// Live iteration counts, one per worker, read from shared memory.
    pub fn snapshot_iterations(&self) -> Vec<u64> {
        self.counters
            .iter()
            .map(|slot| slot.0.load(Ordering::Relaxed))
            .collect()
    }
}

impl fmt::Debug for WorkloadHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkloadHandle")
            .field("pids", &self.worker_pids())
            .field("started", &self.started)
            .finish()
    }
}

impl Drop for WorkloadHandle {
    fn drop(&mut self) {
        self.kill_and_reap();
        for path in &self.io_paths {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::WorkType;

    /// Temp files of this process; only this test creates IoSync workers in the unit-test binary.
    fn own_io_files() -> Vec<PathBuf> {
        let prefix = format!("ktstr-io-{}-", std::process::id());
        let entries = std::fs::read_dir(std::env::temp_dir()).expect("temp dir");
        entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
            })
            .collect()
    }

    #[test]
    fn handles_can_move_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<WorkloadHandle>();
    }

    #[test]
    fn io_files_exist_while_running_and_are_removed_after() {
        let mut collected =
            WorkloadHandle::spawn(&WorkloadConfig::new(WorkType::IoSync).workers(2))
                .expect("spawn");
        let dropped = WorkloadHandle::spawn(&WorkloadConfig::new(WorkType::IoSync)).expect("spawn");
        collected.start();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while own_io_files().len() < 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "IoSync workers never created their files"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let reports = collected.stop_and_collect();
        assert!(
            reports.iter().all(|r| r.completed && r.work_units > 0),
            "{reports:?}"
        );
        drop(dropped);
        assert_eq!(own_io_files(), Vec::<PathBuf>::new());
    }
}
