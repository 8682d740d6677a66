//! Host integration tests: real forked workers; cgroups through the in-memory double or the host's cgroup2.

mod cgroup;
mod checks;
mod kernel;
mod scenario;
mod scx;
mod topology;
mod vm;
mod workload;

use std::sync::{Mutex, MutexGuard};

/// Serialises tests that fork busy workers or boot VMs: on a small machine, concurrent tests would
/// steal each other's CPU time and distort what the checks measure.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
