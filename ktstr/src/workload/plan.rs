//! Everything the workers of one handle need, created by the parent before any fork: start gates, report
//! pipes, partner pipes, resolved affinity masks and temp-file paths.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use super::syscall::affinity_mask;
use super::{AffinityMode, WorkloadConfig, WorkloadError};

/// Numbers the handles of this process so their temp files never collide.
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(0);

/// One worker's side of everything; the parent closes it by dropping the plan after forking.
pub(crate) struct WorkerPlan {
    pub(crate) rank: usize,
    pub(crate) gate: OwnedFd,
    pub(crate) report: OwnedFd,
    /// (send, receive) ends of the pair's pipes.
    pub(crate) link: Option<(OwnedFd, OwnedFd)>,
    pub(crate) affinity: Option<Vec<u64>>,
    pub(crate) io_path: Option<CString>,
    /// Descriptors the child keeps, ascending.
    pub(crate) keep: Vec<RawFd>,
}

/// The parent's ends of one worker's gate and report pipe.
pub(crate) struct ParentEnds {
    pub(crate) gate: OwnedFd,
    pub(crate) report: OwnedFd,
}

/// The prepared resources of a whole handle.
pub(crate) struct Plan {
    pub(crate) workers: Vec<WorkerPlan>,
    pub(crate) parent_ends: Vec<ParentEnds>,
    pub(crate) io_paths: Vec<PathBuf>,
}

/// Builds the plan of a validated configuration.
pub(crate) fn prepare(config: &WorkloadConfig) -> Result<Plan, WorkloadError> {
    let n = config.num_workers;
    let group = config.work_type.worker_group_size().max(1);
    let mut links = if config.work_type.needs().pipes {
        pair_links(n)?
    } else {
        Vec::new()
    }
    .into_iter();
    let io_paths = if config.work_type.needs().io_file {
        temp_paths(n)
    } else {
        Vec::new()
    };
    let mut workers = Vec::with_capacity(n);
    let mut parent_ends = Vec::with_capacity(n);
    for index in 0..n {
        let (gate_parent, gate) = socket_pair().map_err(WorkloadError::resource("start gates"))?;
        let (report_parent, report) = pipe().map_err(WorkloadError::resource("report pipes"))?;
        let link = links.next();
        let io_path = match io_paths.get(index) {
            Some(path) => Some(CString::new(path.as_os_str().as_bytes()).map_err(|e| {
                WorkloadError::Resource {
                    what: "temp file path",
                    source: io::Error::new(io::ErrorKind::InvalidInput, e),
                }
            })?),
            None => None,
        };
        let mut keep = vec![gate.as_raw_fd(), report.as_raw_fd()];
        if let Some((tx, rx)) = &link {
            keep.extend([tx.as_raw_fd(), rx.as_raw_fd()]);
        }
        keep.sort_unstable();
        workers.push(WorkerPlan {
            rank: index % group,
            gate,
            report,
            link,
            affinity: worker_mask(&config.affinity),
            io_path,
            keep,
        });
        parent_ends.push(ParentEnds {
            gate: gate_parent,
            report: report_parent,
        });
    }
    Ok(Plan {
        workers,
        parent_ends,
        io_paths,
    })
}

/// The mask one worker applies; `Random` draws a fresh subset per worker.
fn worker_mask(affinity: &AffinityMode) -> Option<Vec<u64>> {
    match affinity {
        AffinityMode::None => None,
        AffinityMode::Fixed(set) => Some(affinity_mask(set.iter())),
        AffinityMode::SingleCpu(cpu) => Some(affinity_mask([*cpu])),
        AffinityMode::Random { from, count } => {
            let mut pool = from.to_vec();
            fastrand::shuffle(&mut pool);
            pool.truncate(*count);
            Some(affinity_mask(pool))
        }
    }
}

/// Per-worker (send, receive) ends: worker 2p sends on one pipe and receives on the other, 2p+1 the reverse.
fn pair_links(n: usize) -> Result<Vec<(OwnedFd, OwnedFd)>, WorkloadError> {
    let mut links = Vec::with_capacity(n);
    for _ in 0..n / 2 {
        let (a_to_b_read, a_to_b_write) =
            pipe().map_err(WorkloadError::resource("partner pipes"))?;
        let (b_to_a_read, b_to_a_write) =
            pipe().map_err(WorkloadError::resource("partner pipes"))?;
        links.push((a_to_b_write, b_to_a_read));
        links.push((b_to_a_write, a_to_b_read));
    }
    Ok(links)
}

fn temp_paths(n: usize) -> Vec<PathBuf> {
    let dir = std::env::temp_dir();
    let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    (0..n)
        .map(|i| dir.join(format!("ktstr-io-{pid}-{handle}-{i}")))
        .collect()
}

/// A close-on-exec pipe as (read end, write end).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` receives two new descriptors, owned below.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A close-on-exec stream socket pair; the parent writes the start byte with `MSG_NOSIGNAL`.
fn socket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` receives two new descriptors, owned below.
    if unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::CpuSet;
    use crate::workload::WorkType;

    #[test]
    fn pairs_are_cross_wired() {
        let plan = prepare(&WorkloadConfig::new(WorkType::pipe_io(1)).workers(2)).expect("plan");
        let (a_tx, a_rx) = plan.workers[0].link.as_ref().expect("link");
        let (b_tx, b_rx) = plan.workers[1].link.as_ref().expect("link");
        // SAFETY: 1-byte writes and reads on the plan's own pipes.
        unsafe {
            assert_eq!(libc::write(a_tx.as_raw_fd(), b"a".as_ptr().cast(), 1), 1);
            assert_eq!(libc::write(b_tx.as_raw_fd(), b"b".as_ptr().cast(), 1), 1);
            let mut byte = 0u8;
            assert_eq!(
                libc::read(b_rx.as_raw_fd(), (&mut byte as *mut u8).cast(), 1),
                1
            );
            assert_eq!(byte, b'a');
            assert_eq!(
                libc::read(a_rx.as_raw_fd(), (&mut byte as *mut u8).cast(), 1),
                1
            );
            assert_eq!(byte, b'b');
        }
        assert_eq!((plan.workers[0].rank, plan.workers[1].rank), (0, 1));
        assert_eq!(plan.workers[0].keep.len(), 4);
        assert!(plan.workers[0].keep.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn random_affinity_draws_count_cpus_from_the_pool() {
        let from = CpuSet::parse("2,4,6,8").expect("cpu list");
        for _ in 0..20 {
            let mask = worker_mask(&AffinityMode::Random {
                from: from.clone(),
                count: 2,
            })
            .expect("mask");
            let cpus: Vec<usize> = (0..64).filter(|c| mask[0] & (1 << c) != 0).collect();
            assert_eq!(cpus.len(), 2);
            assert!(cpus.iter().all(|c| from.contains(*c)), "{cpus:?}");
        }
    }

    #[test]
    fn io_paths_only_for_io_types_and_unique() {
        let io = prepare(&WorkloadConfig::new(WorkType::IoSync).workers(2)).expect("plan");
        assert_eq!(io.io_paths.len(), 2);
        assert_ne!(io.io_paths[0], io.io_paths[1]);
        assert!(io.workers[1].io_path.is_some());
        let spin = prepare(&WorkloadConfig::new(WorkType::SpinWait)).expect("plan");
        assert!(spin.io_paths.is_empty() && spin.workers[0].io_path.is_none());
    }
}
