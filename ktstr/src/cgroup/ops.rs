//! The `CgroupOps` trait: every cgroup operation the scenario engine performs.

use std::path::PathBuf;
use std::time::Duration;

use crate::topology::CpuSet;

/// Errors from cgroup operations. Each message names the cgroup and, where there is one, the fix.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("invalid cgroup name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("cgroup {name:?} does not exist; create it first (Op::add_cgroup or a CgroupDef)")]
    NotFound { name: String },
    #[error(
        "cgroup {path}: writing {file} timed out after {timeout:?}; the cgroup filesystem is stuck"
    )]
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
        source: std::io::Error,
        hint: &'static str,
    },
}

/// Cgroup operations relative to a managed parent. Names are paths under it (`"a"`, `"a/b"`).
pub trait CgroupOps: Send + Sync {
    /// Creates the cgroup and any missing ancestors; an existing cgroup is fine.
    fn create_cgroup(&self, name: &str) -> Result<(), CgroupError>;
    /// Moves the cgroup's tasks to the managed parent, then removes it.
    fn remove_cgroup(&self, name: &str) -> Result<(), CgroupError>;
    fn set_cpuset(&self, name: &str, cpus: &CpuSet) -> Result<(), CgroupError>;
    /// Writes an empty `cpuset.cpus`, so the cgroup inherits its parent's CPUs.
    fn clear_cpuset(&self, name: &str) -> Result<(), CgroupError>;
    /// The configured `cpuset.cpus` (empty when inherited).
    fn cpuset(&self, name: &str) -> Result<CpuSet, CgroupError>;
    /// Moves one task; a task that already exited (ESRCH) is not an error.
    fn move_task(&self, name: &str, pid: i32) -> Result<(), CgroupError>;
    fn move_tasks(&self, name: &str, pids: &[i32]) -> Result<(), CgroupError> {
        pids.iter().try_for_each(|&pid| self.move_task(name, pid))
    }
    /// Writes the empty string to the cgroup's `cgroup.subtree_control`, disabling its controllers.
    fn clear_subtree_control(&self, name: &str) -> Result<(), CgroupError>;
    /// Pids currently in the cgroup (`cgroup.procs`).
    fn tasks(&self, name: &str) -> Result<Vec<i32>, CgroupError>;
    /// The absolute path of the managed parent (the in-memory double returns a virtual path).
    fn parent_path(&self) -> PathBuf;
}
