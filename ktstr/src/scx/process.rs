//! The scheduler process: spawned in its own process group, checked without reaping (so its pid cannot be
//! reused while the group is swept), then reaped. Dropping it kills and reaps the whole group, and
//! `PR_SET_PDEATHSIG` kills it if the spawning thread dies first.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// How often `stop` checks whether the scheduler has exited.
const STOP_POLL: Duration = Duration::from_millis(10);

/// What is known about the process.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ProcState {
    Running,
    Exited(ExitStatus),
    /// Waiting failed (someone else reaped it); its end is unknown.
    Lost(Errno),
}

/// How `stop` ended the process.
#[derive(Debug)]
pub(crate) struct Stopped {
    pub ended_on_its_own: bool,
    pub killed: bool,
    pub status: Result<ExitStatus, Errno>,
}

/// A child process leading its own process group; never outlives its owner.
#[derive(Debug)]
pub(crate) struct SchedProcess {
    child: Child,
    status: Option<ExitStatus>,
    wait_error: Option<Errno>,
}

impl SchedProcess {
    pub(crate) fn spawn(
        binary: &str,
        args: &[String],
        stdout: Stdio,
        stderr: Stdio,
    ) -> io::Result<SchedProcess> {
        let mut command = Command::new(binary);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0);
        // SAFETY: the closure runs between fork and exec and calls only async-signal-safe functions.
        unsafe {
            command.pre_exec(|| {
                // Dies with its parent even if no guard runs (a host test that crashes).
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // SIGINT stops a scheduler; a ktstr started in the background (where the shell ignores
                // SIGINT) must not hand that on, or a scheduler written as a script could never trap it.
                if libc::signal(libc::SIGINT, libc::SIG_DFL) == libc::SIG_ERR {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn()?;
        Ok(SchedProcess {
            child,
            status: None,
            wait_error: None,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Checks without blocking; an exited process's group is swept and the process reaped.
    pub(crate) fn poll(&mut self) -> ProcState {
        if self.status.is_none() && self.wait_error.is_none() {
            let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
            match waitid(Id::Pid(self.nix_pid()), flags) {
                Ok(WaitStatus::StillAlive) => {}
                Ok(_) => self.sweep_and_reap(),
                Err(errno) => self.wait_error = Some(errno),
            }
        }
        self.state()
    }

    fn state(&self) -> ProcState {
        match (self.status, self.wait_error) {
            (Some(status), _) => ProcState::Exited(status),
            (None, Some(errno)) => ProcState::Lost(errno),
            (None, None) => ProcState::Running,
        }
    }

    /// SIGINT, up to `grace` to exit, then SIGKILL; always reaps.
    pub(crate) fn stop(&mut self, grace: Duration) -> Stopped {
        let ended_on_its_own = !matches!(self.poll(), ProcState::Running);
        let mut killed = false;
        if !ended_on_its_own {
            self.signal(Signal::SIGINT);
            let deadline = Instant::now() + grace;
            while matches!(self.poll(), ProcState::Running) && Instant::now() < deadline {
                std::thread::sleep(STOP_POLL);
            }
            if matches!(self.poll(), ProcState::Running) {
                self.kill();
                killed = true;
            }
        }
        let status = match self.state() {
            ProcState::Exited(status) => Ok(status),
            ProcState::Lost(errno) => Err(errno),
            ProcState::Running => {
                unreachable!("kill() reaps the scheduler or records why it could not")
            }
        };
        Stopped {
            ended_on_its_own,
            killed,
            status,
        }
    }

    /// SIGKILLs the group and reaps the leader.
    pub(crate) fn kill(&mut self) {
        if matches!(self.state(), ProcState::Running) {
            self.signal(Signal::SIGKILL);
            self.sweep_and_reap();
        }
    }

    fn sweep_and_reap(&mut self) {
        // The unreaped leader keeps the group id reserved, so this cannot hit an unrelated group.
        self.signal(Signal::SIGKILL);
        match self.child.wait() {
            Ok(status) => self.status = Some(status),
            Err(err) => {
                // `Child::wait` fails only with an errno from waitpid.
                self.wait_error = Some(Errno::from_raw(err.raw_os_error().unwrap_or(libc::EIO)));
            }
        }
    }

    /// Signals the whole group; a group that is already gone is fine.
    fn signal(&self, signal: Signal) {
        match killpg(self.nix_pid(), signal) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(errno) => eprintln!(
                "ktstr: cannot send {signal} to scheduler group {}: {errno}",
                self.pid()
            ),
        }
    }

    fn nix_pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }
}

impl Drop for SchedProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
