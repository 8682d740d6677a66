//! Errors of the scheduler process: unreadable sched_ext sysfs files and a process that could not be
//! reaped.

use std::io;
use std::path::PathBuf;

/// A sched_ext sysfs file that could not be read or holds something unexpected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SysfsError {
    #[error(
        "{path} does not exist; boot a kernel built with CONFIG_SCHED_CLASS_EXT=y \
         (`ktstr kernel build` enables it)"
    )]
    Missing { path: PathBuf },

    #[error(
        "cannot read {path}: {source}; check that sysfs is mounted at /sys and the kernel has \
         CONFIG_SCHED_CLASS_EXT=y"
    )]
    Read { path: PathBuf, source: io::Error },

    #[error(
        "{path} holds {text:?} but ktstr expects {expected}; this kernel's sched_ext sysfs \
         interface is not supported"
    )]
    Parse {
        path: PathBuf,
        text: String,
        expected: &'static str,
    },
}

/// The scheduler process could not be waited for, so its end is unknown.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot reap scheduler pid {pid}: {source}; the guest init must neither ignore SIGCHLD nor reap \
     children it did not spawn"
)]
pub struct StopError {
    pub pid: u32,
    pub source: io::Error,
    /// What the scheduler printed, bounded to the last `OUTPUT_LIMIT` bytes.
    pub output: String,
}
