//! Forking workers from a multi-threaded parent, and the child's start gate.
//!
//! Workers are forked directly from the calling thread. `fork` copies only that thread; any lock another
//! thread held at that instant (std's stdout/stderr, the env lock, a logger, a test's output capture) stays
//! held forever in the child. The design is therefore a rule about what the child touches, not luck:
//!
//! - The parent prepares everything before forking: pipes, shared mappings, affinity masks, temp-file paths
//!   (`std::env::temp_dir` reads the environment under std's lock, so never in the child).
//! - The child uses raw syscalls through `libc`, atomics, its own stack and heap, and `serde_json` into a
//!   `Vec`. Heap use is safe: glibc's `fork` takes every malloc arena lock before the syscall and resets
//!   them in the child (allocators such as jemalloc do the same with `pthread_atfork`). Rust binaries link
//!   with `-z now`, so no lazy symbol binding runs in the child either.
//! - The child never prints, logs, reads the environment, spawns threads, or touches a `Mutex`/`RwLock`
//!   that parent threads share. Custom work functions must keep to the same rules.
//! - A panic in the child must not reach std's default hook (it locks a global backtrace mutex and may
//!   write into a test's captured output). Before the first fork the parent installs, once, a hook that
//!   calls `_exit(PANICKED)` at once when it runs inside a worker and defers to the previous hook otherwise;
//!   the child body also runs under `catch_unwind`, so it can never unwind into the parent's frames.
//! - The child always ends with `libc::_exit`: no atexit handlers, no destructors of copied parent state.
//! - Right after fork the child closes every inherited descriptor it does not own (`close_range`), so a
//!   worker never holds another handle's pipe open, and resets signal handling it inherited.
//!
//! SIGUSR1 is blocked in the forking thread around `fork`, so a stop request sent before the child has
//! installed its handler stays pending instead of killing it.

use std::io;
use std::os::fd::RawFd;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use super::exit_code;
use super::syscall::now_ns;
use super::worker::{self, stop, ChildSpec};

/// How long a forked worker waits for `start` before giving up.
const START_TIMEOUT_NS: u64 = 30_000_000_000;

/// True only inside a forked worker.
static IN_WORKER: AtomicBool = AtomicBool::new(false);

/// Makes a panic inside a worker end it silently with `exit_code::PANICKED`.
pub(crate) fn install_panic_guard() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IN_WORKER.load(Ordering::Relaxed) {
                // SAFETY: ends the worker without unwinding, printing or running destructors.
                unsafe { libc::_exit(exit_code::PANICKED) };
            }
            previous(info);
        }));
    });
}

/// Blocks SIGUSR1 in the calling thread until dropped.
pub(crate) struct SigUsr1Blocked(libc::sigset_t);

impl SigUsr1Blocked {
    pub(crate) fn new() -> Self {
        // SAFETY: signal-set manipulation on local values; only the calling thread's mask changes.
        unsafe {
            let mut block: libc::sigset_t = std::mem::zeroed();
            let mut previous: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut block);
            libc::sigaddset(&mut block, libc::SIGUSR1);
            libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut previous);
            SigUsr1Blocked(previous)
        }
    }
}

impl Drop for SigUsr1Blocked {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in `new`.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.0, std::ptr::null_mut()) };
    }
}

/// Forks one worker that runs `child` and exits with its return value; returns the worker's pid.
pub(crate) fn fork_worker(child: impl FnOnce() -> i32) -> io::Result<libc::pid_t> {
    // SAFETY: the child keeps to the rules in the module doc and ends in `_exit`.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            IN_WORKER.store(true, Ordering::Relaxed);
            let code = panic::catch_unwind(AssertUnwindSafe(child)).unwrap_or(exit_code::PANICKED);
            // SAFETY: ends the child; nothing of the parent's state is run or flushed.
            unsafe { libc::_exit(code) }
        }
        pid => {
            // The child does the same; whichever runs first wins, so `killpg(pid)` always works.
            // SAFETY: plain syscall on our own child.
            unsafe { libc::setpgid(pid, pid) };
            Ok(pid)
        }
    }
}

/// The whole life of a worker after fork: isolate it, wait for `start`, run, report.
pub(crate) fn child_main(
    spec: &ChildSpec,
    gate: RawFd,
    keep: &[RawFd],
    parent: libc::pid_t,
) -> i32 {
    // SAFETY: makes the worker its own process group leader.
    unsafe { libc::setpgid(0, 0) };
    close_fds_except(keep);
    reset_signals(parent);
    let started_ns = match wait_for_start(gate) {
        Ok(started_ns) => started_ns,
        Err(code) => return code,
    };
    // SAFETY: the gate is not needed once open.
    unsafe { libc::close(gate) };
    worker::run(spec, started_ns)
}

/// Closes every descriptor from 3 up except `keep` (sorted ascending).
fn close_fds_except(keep: &[RawFd]) {
    let mut low: libc::c_uint = 3;
    for &fd in keep {
        let Ok(fd) = libc::c_uint::try_from(fd) else {
            continue;
        };
        if fd > low {
            close_range(low, fd - 1);
        }
        low = low.max(fd + 1);
    }
    close_range(low, libc::c_uint::MAX);
}

fn close_range(low: libc::c_uint, high: libc::c_uint) {
    // SAFETY: closes descriptors the worker does not own; it holds no Rust object wrapping them.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, low, high, 0) };
    if rc == 0 {
        return;
    }
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: fallback for kernels before 5.9: close one by one up to the descriptor limit.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        let top = high.min(limit.rlim_cur.min(1 << 20) as libc::c_uint);
        for fd in low..top {
            libc::close(fd as libc::c_int);
        }
    }
}

/// Default dispositions for signals a parent may have hooked, SIGPIPE ignored, the stop handler
/// installed, and then every signal unblocked (a pending SIGUSR1 is delivered here).
fn reset_signals(parent: libc::pid_t) {
    let defaults = [
        libc::SIGINT,
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGUSR2,
        libc::SIGALRM,
        libc::SIGCHLD,
    ];
    // SAFETY: changes only this process's signal dispositions and mask.
    unsafe {
        for signal in defaults {
            libc::signal(signal, libc::SIG_DFL);
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        stop::install(parent);
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
    }
}

/// Waits for the parent's start message (the CLOCK_MONOTONIC time it opened the gate) and returns it;
/// `Err` carries the exit code for a gate that closed or timed out.
fn wait_for_start(gate: RawFd) -> Result<u64, i32> {
    let deadline = now_ns() + START_TIMEOUT_NS;
    loop {
        let now = now_ns();
        if now >= deadline {
            return Err(exit_code::START_TIMEOUT);
        }
        let mut pfd = libc::pollfd {
            fd: gate,
            events: libc::POLLIN,
            revents: 0,
        };
        let timeout_ms = ((deadline - now) / 1_000_000 + 1).min(i32::MAX as u64) as libc::c_int;
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, timeout_ms) } <= 0 {
            continue;
        }
        let mut stamp = [0u8; 8];
        // SAFETY: reads at most 8 bytes into a stack buffer; MSG_WAITALL waits for the whole stamp.
        match unsafe {
            libc::recv(
                gate,
                stamp.as_mut_ptr().cast(),
                stamp.len(),
                libc::MSG_WAITALL,
            )
        } {
            8 => return Ok(u64::from_ne_bytes(stamp)),
            0 => return Err(exit_code::NOT_STARTED),
            _ if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {}
            _ => return Err(exit_code::NOT_STARTED),
        }
    }
}
