//! The worker's stop flag: set by SIGUSR1 from the parent, or by the worker itself once orphaned.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Turns true when the worker must end its loop and report.
pub(crate) static STOP: AtomicBool = AtomicBool::new(false);

/// Pid of the process that forked this worker.
static PARENT: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_sigusr1(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

/// Installs the SIGUSR1 handler (without `SA_RESTART`, so blocking calls return early) and records the parent.
pub(crate) fn install(parent: libc::pid_t) {
    STOP.store(false, Ordering::Relaxed);
    PARENT.store(parent, Ordering::Relaxed);
    // SAFETY: `action` is fully initialised; the handler only stores to an atomic (async-signal-safe).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigusr1 as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut());
    }
}

/// Whether the worker was told to stop.
#[inline(always)]
pub(crate) fn requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// Sets the stop flag if the parent died (the worker was reparented), then returns the flag.
pub(crate) fn requested_or_orphaned() -> bool {
    let parent = PARENT.load(Ordering::Relaxed);
    // SAFETY: no arguments.
    if parent != 0 && unsafe { libc::getppid() } != parent {
        STOP.store(true, Ordering::Relaxed);
    }
    requested()
}
