//! PID 1 of a `ktstr shell` guest: start the scheduler if one was asked for, then give the console a
//! busybox shell (a session of its own with `ttyS0` as its terminal, so job control and Ctrl-C work) or run
//! one command, and power off when it ends, telling the host its exit status.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::link::Link;
use super::system;
use crate::protocol::GuestMessage;
use crate::scx::{self, LaunchOptions, RunningScheduler, SchedulerSpec};

/// What the host asks of a shell guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellSpec {
    /// The scheduler to start before the shell; `None` keeps the kernel's own.
    pub scheduler: Option<SchedulerSpec>,
    /// One command for `sh -c`, instead of an interactive shell.
    pub exec: Option<String>,
}

/// The serial console a shell runs on.
const TTY: &str = "/dev/ttyS0";

/// Runs the shell `spec` asks for and powers off. Never returns.
pub(crate) fn run_shell(spec: &ShellSpec, link: &Link) -> ! {
    let scheduler = spec.scheduler.as_ref().and_then(start_scheduler);
    let code = match run_command(spec.exec.as_deref()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ktstr shell: {e}");
            127
        }
    };
    if let Some(running) = scheduler {
        if let Err(e) = running.stop() {
            eprintln!("ktstr shell: stopping the scheduler: {e}");
        }
    }
    link.send(GuestMessage::Finished { exit_code: code });
    system::power_off();
}

/// Starts the scheduler and says on the console whether it attached.
fn start_scheduler(spec: &SchedulerSpec) -> Option<RunningScheduler> {
    match scx::launch(spec, &LaunchOptions::default()) {
        Ok(running) => {
            println!(
                "ktstr shell: {} attached as sched_ext ops {:?} (pid {})",
                spec.name,
                running.ops_name(),
                running.pid()
            );
            Some(running)
        }
        Err(failure) => {
            println!("ktstr shell: {failure}\n{}", failure.output);
            None
        }
    }
}

/// The shell, or `sh -c command`, on the console; its exit status (128 + the signal that killed it).
fn run_command(command: Option<&str>) -> std::io::Result<i32> {
    let tty = || std::fs::OpenOptions::new().read(true).write(true).open(TTY);
    let mut shell = Command::new("/bin/sh");
    match command {
        Some(command) => shell.arg("-c").arg(command),
        None => shell.arg("-i"),
    };
    shell
        .env_clear()
        .env("PATH", "/bin:/sbin:/usr/bin:/usr/sbin")
        .env("HOME", "/")
        .env("TERM", "vt100")
        .env("PS1", "ktstr# ")
        .current_dir("/")
        .stdin(Stdio::from(tty()?))
        .stdout(Stdio::from(tty()?))
        .stderr(Stdio::from(tty()?));
    // SAFETY: between fork and exec: setsid and ioctl are async-signal-safe and nothing allocates. The
    // shell leads a session of its own with the console as its controlling terminal.
    unsafe {
        shell.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let status = shell.spawn()?.wait()?;
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}
