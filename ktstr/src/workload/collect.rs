//! Stopping workers and collecting their reports under one shared deadline, then killing and reaping them.

use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use super::handle::{Worker, WorkloadHandle};
use super::{ExitInfo, WorkerReport};

/// One deadline for all reports of a handle.
const COLLECT_DEADLINE: Duration = Duration::from_secs(5);
/// How long workers auto-started by `stop_and_collect` run before the stop.
const AUTO_START_RUN: Duration = Duration::from_millis(500);
/// Grace for a worker whose pipe closed to finish exiting.
const EXIT_GRACE: Duration = Duration::from_millis(200);
/// Larger reports are treated as garbage.
const MAX_REPORT_BYTES: usize = 64 << 20;

/// What was read from one report pipe.
enum Output {
    /// The worker closed its end; these are all the bytes it sent.
    Closed(Vec<u8>),
    /// Deadline passed (or the report grew too large) before the pipe closed.
    Cut,
}

/// Why a worker has no valid report.
enum Missing {
    /// It ended by itself; its wait status says how.
    Ended,
    /// It was still running at the deadline.
    StillRunning,
}

impl WorkloadHandle {
    /// Stops the workers (starting them first if needed), reads their reports, then kills and reaps them.
    /// A worker without a valid report gets a sentinel report with `completed = false` and its `exit_info`.
    pub fn stop_and_collect(mut self) -> Vec<WorkerReport> {
        if !self.started {
            self.start();
            std::thread::sleep(AUTO_START_RUN);
        }
        for worker in &self.workers {
            // SAFETY: signals our own unreaped child.
            unsafe { libc::kill(worker.pid, libc::SIGUSR1) };
        }
        let deadline = Instant::now() + COLLECT_DEADLINE;
        let fds: Vec<RawFd> = self.workers.iter().map(|w| w.report.as_raw_fd()).collect();
        let outputs = read_reports(&fds, deadline);
        let iterations = self.snapshot_iterations();
        let mut parsed: Vec<Result<WorkerReport, Missing>> = Vec::with_capacity(outputs.len());
        for (worker, output) in self.workers.iter().zip(outputs) {
            parsed.push(match output {
                Output::Closed(bytes) => serde_json::from_slice(&bytes).map_err(|_| {
                    match exited_within(worker.pid, deadline.max(Instant::now() + EXIT_GRACE)) {
                        true => Missing::Ended,
                        false => Missing::StillRunning,
                    }
                }),
                Output::Cut => Err(Missing::StillRunning),
            });
        }
        let statuses = self.kill_and_reap();
        let pids = self.worker_pids();
        let settled = parsed
            .into_iter()
            .zip(statuses)
            .zip(pids.into_iter().zip(iterations));
        let report = |(index, ((result, status), (pid, iterations)))| {
            let exit = match (result, status) {
                (Ok(report), _) => {
                    return WorkerReport {
                        tid: pid,
                        index,
                        ..report
                    }
                }
                (Err(Missing::Ended), Some(ExitInfo::Signaled(libc::SIGKILL)))
                    if oom_killed(pid) =>
                {
                    ExitInfo::OomKilled
                }
                (Err(Missing::Ended), Some(exit)) => exit,
                (Err(_), _) => ExitInfo::TimedOut,
            };
            WorkerReport::sentinel(pid, index, iterations, exit)
        };
        settled.enumerate().map(report).collect()
    }

    /// SIGKILLs the process group of every unreaped worker, then reaps them. Returns how each one ended
    /// (`None` for workers reaped earlier).
    pub(crate) fn kill_and_reap(&mut self) -> Vec<Option<ExitInfo>> {
        for worker in self.workers.iter().filter(|w| !w.reaped) {
            // SAFETY: the worker is unreaped, so its pid (and group id) cannot have been reused.
            unsafe { libc::killpg(worker.pid, libc::SIGKILL) };
        }
        self.workers.iter_mut().map(reap).collect()
    }
}

fn reap(worker: &mut Worker) -> Option<ExitInfo> {
    if worker.reaped {
        return None;
    }
    worker.reaped = true;
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child.
        if unsafe { libc::waitpid(worker.pid, &mut status, 0) } >= 0 {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Some(ExitInfo::WaitFailed(error.to_string()));
        }
    }
    Some(if libc::WIFSIGNALED(status) {
        ExitInfo::Signaled(libc::WTERMSIG(status))
    } else {
        ExitInfo::Exited(libc::WEXITSTATUS(status))
    })
}

/// Whether the kernel log (when this process may read it) says the OOM killer killed `pid`.
fn oom_killed(pid: libc::pid_t) -> bool {
    let Ok(records) = crate::sys::read_kmsg(std::path::Path::new(crate::sys::KMSG_PATH), 500)
    else {
        return false;
    };
    let lines: Vec<String> = records.into_iter().map(|r| r.text).collect();
    crate::sys::oom_killed(&lines, pid)
}

/// Whether `pid` has exited (or cannot be waited for) by `until`, without reaping it.
fn exited_within(pid: libc::pid_t, until: Instant) -> bool {
    loop {
        // SAFETY: zeroed siginfo is a valid out-buffer; WNOWAIT leaves the child waitable.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
        // SAFETY: as above.
        let rc = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) };
        // SAFETY: `si_pid` is valid to read for SIGCHLD-style siginfo filled by waitid.
        if rc < 0 || unsafe { info.si_pid() } != 0 {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Reads every pipe until its writer closes it or `deadline` passes, all at once so no worker blocks another.
fn read_reports(fds: &[RawFd], deadline: Instant) -> Vec<Output> {
    let mut buffers: Vec<Vec<u8>> = vec![Vec::new(); fds.len()];
    let mut state: Vec<Option<Output>> = (0..fds.len()).map(|_| None).collect();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let open: Vec<usize> = (0..fds.len()).filter(|&i| state[i].is_none()).collect();
        let now = Instant::now();
        if open.is_empty() || now >= deadline {
            break;
        }
        let mut pfds: Vec<libc::pollfd> = open
            .iter()
            .map(|&i| libc::pollfd {
                fd: fds[i],
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        let timeout_ms = (deadline - now).as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
        // SAFETY: a live array of pollfds.
        if unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) } <= 0 {
            continue;
        }
        for (&i, pfd) in open.iter().zip(&pfds).filter(|(_, p)| p.revents != 0) {
            // SAFETY: reads into a live buffer from a readable pipe.
            let n = unsafe { libc::read(pfd.fd, chunk.as_mut_ptr().cast(), chunk.len()) };
            match usize::try_from(n) {
                Ok(0) => state[i] = Some(Output::Closed(std::mem::take(&mut buffers[i]))),
                Ok(n) if buffers[i].len() + n > MAX_REPORT_BYTES => state[i] = Some(Output::Cut),
                Ok(n) => buffers[i].extend_from_slice(&chunk[..n]),
                Err(_) => {}
            }
        }
    }
    state
        .into_iter()
        .map(|s| s.unwrap_or(Output::Cut))
        .collect()
}
