//! The `CgroupOps` trait: every cgroup operation the scenario engine performs.

use std::path::PathBuf;

use super::CgroupError;
use crate::topology::CpuSet;

/// Cgroup operations relative to a managed parent. Names are paths under it (`"a"`, `"a/b"`).
pub trait CgroupOps: Send + Sync {
    /// Creates the cgroup and any missing ancestors; an existing cgroup is fine.
    fn create_cgroup(&self, name: &str) -> Result<(), CgroupError>;
    /// Removes the cgroup and the cgroups below it, children first, after moving their tasks to the managed
    /// parent (the real manager uses the cgroup2 root when the parent enables controllers and so may not hold tasks).
    fn remove_cgroup(&self, name: &str) -> Result<(), CgroupError>;
    fn set_cpuset(&self, name: &str, cpus: &CpuSet) -> Result<(), CgroupError>;
    /// Lets the cgroup use all its parent's CPUs: an empty `cpuset.cpus`, or, for a populated cgroup
    /// (which the kernel does not let go empty), the parent's effective CPUs.
    fn clear_cpuset(&self, name: &str) -> Result<(), CgroupError>;
    /// The configured `cpuset.cpus` (empty when inherited).
    fn cpuset(&self, name: &str) -> Result<CpuSet, CgroupError>;
    /// Moves one task; a task that already exited (ESRCH) is not an error.
    fn move_task(&self, name: &str, pid: i32) -> Result<(), CgroupError>;
    fn move_tasks(&self, name: &str, pids: &[i32]) -> Result<(), CgroupError> {
        pids.iter().try_for_each(|&pid| self.move_task(name, pid))
    }
    /// Disables every controller listed in the cgroup's `cgroup.subtree_control`.
    fn clear_subtree_control(&self, name: &str) -> Result<(), CgroupError>;
    /// Pids currently in the cgroup (`cgroup.procs`).
    fn tasks(&self, name: &str) -> Result<Vec<i32>, CgroupError>;
    /// The absolute path of the managed parent (the in-memory double returns a virtual path).
    fn parent_path(&self) -> PathBuf;
    /// Whether a cpuset written here confines the tasks in the cgroup (false for the in-memory double).
    fn enforces_cpusets(&self) -> bool {
        true
    }
}
