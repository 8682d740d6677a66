//! QEMU as a child process that cannot outlive its guard: dropping a [`QemuProcess`] SIGKILLs and reaps QEMU,
//! then removes the trial directory; a deadline does the same.
//!
//! The child also gets `PR_SET_PDEATHSIG = SIGKILL`, so QEMU dies if the host process is killed before any
//! guard runs. The kernel sends that signal when the *thread* that spawned QEMU exits, so spawn from the
//! thread that owns the guard.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::qemu::{qemu_argv, QEMU_BINARY};
use super::{TrialDir, VmError, VmSpec};

/// How often a deadline wait checks the child.
const POLL: Duration = Duration::from_millis(20);

/// How a QEMU run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QemuExit {
    /// QEMU exited on its own (the guest powered off or rebooted, or QEMU failed).
    Exited(ExitStatus),
    /// The deadline passed; QEMU was killed and reaped.
    TimedOut,
}

/// A child process killed and reaped on drop unless already reaped.
#[derive(Debug)]
pub(crate) struct ChildGuard {
    child: Child,
    status: Option<ExitStatus>,
}

impl ChildGuard {
    /// Spawns `command` with `PR_SET_PDEATHSIG = SIGKILL`.
    pub(crate) fn spawn(command: &mut Command) -> std::io::Result<ChildGuard> {
        // SAFETY: getpid has no preconditions.
        let parent = unsafe { libc::getpid() };
        // SAFETY: the closure runs between fork and exec; it calls only async-signal-safe functions and does
        // not allocate.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
        Ok(ChildGuard {
            child: command.spawn()?,
            status: None,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the child exits (`Some`) or `deadline` passes (`None`, child killed and reaped).
    pub(crate) fn wait_until(&mut self, deadline: Instant) -> std::io::Result<Option<ExitStatus>> {
        loop {
            if let Some(status) = self.status {
                return Ok(Some(status));
            }
            if let Some(status) = self.child.try_wait()? {
                self.status = Some(status);
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                self.kill()?;
                return Ok(None);
            }
            std::thread::sleep(POLL.min(deadline - now));
        }
    }

    /// SIGKILLs the child if it still runs, and reaps it.
    pub(crate) fn kill(&mut self) -> std::io::Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        match self.child.kill() {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {}
            Err(e) => return Err(e),
        }
        let status = self.child.wait()?;
        self.status = Some(status);
        Ok(status)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A running QEMU and the trial directory it uses; dropping it kills QEMU first, then removes the directory.
#[derive(Debug)]
pub struct QemuProcess {
    child: ChildGuard,
    dir: TrialDir,
}

impl QemuProcess {
    /// Starts QEMU for `spec`, whose paths should lie in `dir`; stdout and stderr go to files in `dir`.
    pub fn spawn(spec: &VmSpec, dir: TrialDir) -> Result<QemuProcess, VmError> {
        QemuProcess::spawn_program(QEMU_BINARY, spec, dir)
    }

    pub(crate) fn spawn_program(
        program: &str,
        spec: &VmSpec,
        dir: TrialDir,
    ) -> Result<QemuProcess, VmError> {
        let create = |path: std::path::PathBuf| {
            File::create(&path).map_err(|e| VmError::io("create", &path, e))
        };
        let stderr = create(dir.qemu_stderr())?;
        let mut command = Command::new(program);
        command.args(qemu_argv(spec)).stderr(stderr);
        if !spec.is_on_terminal() {
            command
                .stdin(Stdio::null())
                .stdout(create(dir.qemu_stdout())?);
        }
        let child = ChildGuard::spawn(&mut command).map_err(|source| VmError::Spawn {
            program: program.to_string(),
            source,
        })?;
        Ok(QemuProcess { child, dir })
    }

    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    pub fn dir(&self) -> &TrialDir {
        &self.dir
    }

    /// Waits for QEMU to exit; at `deadline` kills it and reports [`QemuExit::TimedOut`].
    pub fn wait_until(&mut self, deadline: Instant) -> Result<QemuExit, VmError> {
        let waited = self
            .child
            .wait_until(deadline)
            .map_err(|e| VmError::io("wait for QEMU of", self.dir.path(), e))?;
        Ok(waited.map_or(QemuExit::TimedOut, QemuExit::Exited))
    }

    /// Kills QEMU now and reaps it.
    pub fn kill(&mut self) -> Result<ExitStatus, VmError> {
        self.child
            .kill()
            .map_err(|e| VmError::io("kill QEMU of", self.dir.path(), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(pid: u32) -> bool {
        // A reaped child's pid is gone: signal 0 finds no such process.
        let pid = libc::pid_t::try_from(pid).expect("pid fits");
        // SAFETY: signal 0 only checks that the process exists.
        unsafe { libc::kill(pid, 0) == 0 }
    }

    fn sleeper() -> ChildGuard {
        ChildGuard::spawn(Command::new("sleep").arg("1000")).expect("spawn sleep")
    }

    #[test]
    fn drop_kills_and_reaps() {
        let guard = sleeper();
        let pid = guard.pid();
        assert!(running(pid));
        drop(guard);
        assert!(!running(pid), "pid {pid} outlived its guard");
    }

    #[test]
    fn deadline_kills_and_reaps() {
        let mut guard = sleeper();
        let pid = guard.pid();
        let started = Instant::now();
        let waited = guard
            .wait_until(started + Duration::from_millis(100))
            .expect("wait");
        assert_eq!(waited, None);
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert!(!running(pid));
        let status = guard.kill().expect("kill after reaping is a no-op");
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(libc::SIGKILL)
        );
    }

    #[test]
    fn exit_before_the_deadline_reports_the_status() {
        let mut guard = ChildGuard::spawn(Command::new("sh").args(["-c", "exit 3"])).expect("sh");
        let status = guard
            .wait_until(Instant::now() + Duration::from_secs(60))
            .expect("wait")
            .expect("exited");
        assert_eq!(status.code(), Some(3));
        drop(guard);
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let dir = TrialDir::new().expect("dir");
        std::fs::write(dir.path().join("k"), "k").expect("write");
        let spec = VmSpec::new(crate::vm::VmRequest {
            topology: crate::topology::Topology::DEFAULT,
            memory_mb: None,
            kernel: dir.path().join("k"),
            initramfs: dir.path().join("k"),
            cmdline: crate::vm::KernelCmdline::base(),
            console_log: dir.console_log(),
            channel_socket: dir.channel_socket(),
            accel: crate::vm::Accel::Tcg,
        })
        .expect("spec");
        let err = QemuProcess::spawn_program("/nonexistent/qemu", &spec, dir).expect_err("absent");
        assert!(matches!(err, VmError::Spawn { .. }), "{err:?}");
        assert!(err.to_string().contains("scripts/setup.sh"), "{err}");
    }
}
