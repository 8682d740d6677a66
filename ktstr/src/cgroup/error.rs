//! `CgroupError`: what went wrong in a cgroup operation, classified so callers can branch on it.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use nix::errno::Errno;

/// Errors from cgroup operations. Each message names the cgroup and, where there is one, the fix.
///
/// Branch on the variant or on [`CgroupError::errno`] (`is_not_found`, `is_busy`, ...), never on the message.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("invalid cgroup name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("cgroup {name:?} does not exist; create it first (Op::add_cgroup or a CgroupDef)")]
    NotFound { name: String },
    #[error("cgroup {path}: {file} timed out after {timeout:?}; the cgroup filesystem is stuck (see dmesg)")]
    Timeout {
        path: PathBuf,
        file: &'static str,
        timeout: Duration,
    },
    #[error("cgroup {path}: {op} failed: {source}{hint}")]
    Io {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: io::Error,
        hint: &'static str,
    },
    #[error("pid {pid} is not a process id; pass a positive pid (0 would move the caller itself)")]
    InvalidPid { pid: i32 },
    #[error("cgroup {name:?}: refusing to write an empty cpuset; call clear_cpuset to inherit the parent's CPUs")]
    EmptyCpuset { name: String },
    #[error(
        "cgroup {path}: controller {controller:?} is not available there (cgroup.controllers: {available:?}); \
         cgroup v2 cpusets need the cpuset controller on the unified hierarchy: run inside the ktstr VM guest, \
         or boot the host with cgroup v2 only (systemd.unified_cgroup_hierarchy=1)"
    )]
    ControllerUnavailable {
        controller: &'static str,
        path: PathBuf,
        available: String,
    },
    #[error(
        "cgroup {path} has no {file}: the {controller} controller is not enabled for it; call \
         CgroupManager::setup with {controller} enabled first (needs cgroup v2 with that controller)"
    )]
    ControllerNotEnabled {
        controller: &'static str,
        path: PathBuf,
        file: &'static str,
    },
    #[error("managed cgroup parent {path} is unusable: {reason}")]
    BadParent { path: PathBuf, reason: &'static str },
    #[error(
        "managed cgroup parent {path} is not an absolute, normalized path strictly below a cgroup2 mount \
         (cgroup2 is mounted at {mounts:?}); put it below one of them, e.g. <mount>/ktstr"
    )]
    OutsideCgroup2 { path: PathBuf, mounts: Vec<PathBuf> },
    #[error(
        "no cgroup2 filesystem is mounted (read /proc/self/mounts); mount one with \
         `mount -t cgroup2 none /sys/fs/cgroup` or run inside the ktstr VM guest"
    )]
    NoCgroup2Mount,
    #[error("cgroup {path}: cannot parse {file} ({content:?}): {reason}")]
    Parse {
        path: PathBuf,
        file: &'static str,
        content: String,
        reason: String,
    },
}

impl CgroupError {
    /// An I/O failure of `op` on `path`, with a hint chosen from the operation and the errno.
    pub(crate) fn io(path: PathBuf, op: &'static str, source: io::Error) -> Self {
        let hint = source
            .raw_os_error()
            .map_or("", |code| hint_for(op, Errno::from_raw(code)));
        CgroupError::Io {
            path,
            op,
            source,
            hint,
        }
    }

    /// The errno behind an I/O failure, if this is one.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            CgroupError::Io { source, .. } => source.raw_os_error().map(Errno::from_raw),
            _ => None,
        }
    }

    /// The `std::io::ErrorKind` behind an I/O failure, if this is one.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            CgroupError::Io { source, .. } => Some(source.kind()),
            _ => None,
        }
    }

    /// The cgroup (or a file of it) does not exist: `NotFound`, or an I/O failure with ENOENT.
    pub fn is_not_found(&self) -> bool {
        matches!(self, CgroupError::NotFound { .. }) || self.errno() == Some(Errno::ENOENT)
    }

    /// The kernel answered EBUSY: tasks or child cgroups still inside, or a refused migration.
    pub fn is_busy(&self) -> bool {
        self.errno() == Some(Errno::EBUSY)
    }

    /// The caller lacks the right to change the cgroup (EACCES or EPERM).
    pub fn is_permission_denied(&self) -> bool {
        matches!(self.errno(), Some(Errno::EACCES | Errno::EPERM))
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self, CgroupError::Timeout { .. })
    }
}

/// The fix to suggest for `errno` from `op`; empty when there is nothing useful to add.
fn hint_for(op: &'static str, errno: Errno) -> &'static str {
    match (op, errno) {
        (_, Errno::EACCES | Errno::EPERM) => {
            "; cgroup changes need root or a cgroup delegated to this user (write access to it and its cgroup.procs)"
        }
        (ops::RMDIR, Errno::EBUSY) => "; tasks or child cgroups are still inside: stop the workers first",
        (ops::WRITE_PROCS, Errno::EBUSY) => {
            "; the kernel refused the migration (a sched_ext scheduler's cgroup_prep_move, or a parent with \
             domain controllers enabled); retry later or stop the scheduler"
        }
        (ops::WRITE_SUBTREE, Errno::EBUSY) => {
            "; the cgroup holds tasks itself, and cgroup v2 forbids enabling domain controllers there: move them \
             into a child first"
        }
        (ops::WRITE_CPUS, Errno::EINVAL) => {
            "; every CPU must be online and inside the parent's cpuset.cpus.effective"
        }
        (ops::WRITE_CPUS, Errno::EBUSY) => {
            "; a child cgroup still uses some of these CPUs: shrink or clear the children's cpusets first"
        }
        _ => "",
    }
}

/// Labels of the cgroupfs operations, shared by the real manager and the in-memory double.
pub(crate) mod ops {
    pub(crate) const MKDIR: &str = "mkdir";
    pub(crate) const RMDIR: &str = "rmdir";
    pub(crate) const READ_DIR: &str = "read directory";
    pub(crate) const READ_PROCS: &str = "read cgroup.procs";
    pub(crate) const WRITE_PROCS: &str = "write cgroup.procs";
    pub(crate) const READ_CPUS: &str = "read cpuset.cpus";
    pub(crate) const WRITE_CPUS: &str = "write cpuset.cpus";
    pub(crate) const READ_SUBTREE: &str = "read cgroup.subtree_control";
    pub(crate) const WRITE_SUBTREE: &str = "write cgroup.subtree_control";
    pub(crate) const READ_CPUS_EFFECTIVE: &str = "read cpuset.cpus.effective";
    pub(crate) const WRITE_CPUS_EFFECTIVE: &str = "write cpuset.cpus.effective";
    pub(crate) const READ_CONTROLLERS: &str = "read cgroup.controllers";
    pub(crate) const WRITE_CONTROLLERS: &str = "write cgroup.controllers";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io_err(op: &'static str, errno: Errno) -> CgroupError {
        CgroupError::io(
            PathBuf::from("/cg/x"),
            op,
            io::Error::from_raw_os_error(errno as i32),
        )
    }

    #[test]
    fn classification_follows_errno_not_text() {
        let cases = [
            (io_err(ops::RMDIR, Errno::ENOENT), true, false, false),
            (io_err(ops::RMDIR, Errno::EBUSY), false, true, false),
            (io_err(ops::WRITE_PROCS, Errno::EACCES), false, false, true),
            (io_err(ops::WRITE_PROCS, Errno::EPERM), false, false, true),
            (
                CgroupError::NotFound { name: "a".into() },
                true,
                false,
                false,
            ),
            (CgroupError::InvalidPid { pid: 0 }, false, false, false),
        ];
        for (err, not_found, busy, denied) in cases {
            assert_eq!(err.is_not_found(), not_found, "{err}");
            assert_eq!(err.is_busy(), busy, "{err}");
            assert_eq!(err.is_permission_denied(), denied, "{err}");
        }
    }

    #[test]
    fn hints_depend_on_operation_and_errno() {
        let hint = |op, errno| match io_err(op, errno) {
            CgroupError::Io { hint, .. } => hint,
            other => panic!("expected Io, got {other:?}"),
        };
        assert!(hint(ops::RMDIR, Errno::EBUSY).contains("stop the workers"));
        assert!(hint(ops::WRITE_PROCS, Errno::EACCES).contains("root"));
        assert!(hint(ops::WRITE_CPUS, Errno::EINVAL).contains("effective"));
        assert_eq!(hint(ops::RMDIR, Errno::EIO), "");
    }
}
