//! `MemCgroups`: an in-memory `CgroupOps` for tests, with an operation log and fault injection.
//!
//! It keeps the rules of the real manager: creates make missing ancestors, removes take children first and drain
//! tasks out (always to the managed parent here), a pid lives in one cgroup at a time, and missing cgroups give
//! `CgroupError::NotFound`. It has no controllers, so cpusets are only recorded.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use nix::errno::Errno;

use super::cgroupfs::WRITE_TIMEOUT;
use super::error::ops;
use super::{validate_cgroup_name, CgroupError, CgroupOps};
use crate::topology::CpuSet;

/// The virtual path `MemCgroups::parent_path` reports.
const VIRTUAL_PARENT: &str = "/ktstr-memory-cgroups";

/// One state change made through `MemCgroups`, or one injected failure, in call order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupEvent {
    Create {
        name: String,
    },
    Remove {
        name: String,
    },
    SetCpuset {
        name: String,
        cpus: CpuSet,
    },
    ClearCpuset {
        name: String,
    },
    MoveTask {
        name: String,
        pid: i32,
    },
    /// Tasks moved to the managed parent before a remove.
    Drain {
        name: String,
        pids: Vec<i32>,
    },
    ClearSubtreeControl {
        name: String,
    },
    /// A `fail_next` fault fired on this call.
    Failed {
        op: CgroupOp,
        name: String,
        fault: Fault,
    },
}

/// The `CgroupOps` method a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupOp {
    Create,
    Remove,
    SetCpuset,
    ClearCpuset,
    Cpuset,
    MoveTask,
    ClearSubtreeControl,
    Tasks,
}

/// An injected failure: the final outcome the real manager would report (after its own retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The kernel answered this errno; ENOENT becomes `NotFound`, ESRCH on `MoveTask` is success (task exited).
    Errno(Errno),
    /// The cgroupfs write did not complete in time.
    Timeout,
}

#[derive(Debug, Default)]
struct Node {
    cpuset: CpuSet,
    tasks: BTreeSet<i32>,
}

#[derive(Debug, Default)]
struct State {
    cgroups: BTreeMap<String, Node>,
    parent_tasks: BTreeSet<i32>,
    log: Vec<CgroupEvent>,
    faults: VecDeque<(CgroupOp, Fault)>,
}

/// In-memory cgroup tree implementing `CgroupOps`.
#[derive(Debug, Default)]
pub struct MemCgroups {
    state: Mutex<State>,
}

impl MemCgroups {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next call of `op` fail with `fault` before it changes anything. Faults queue in order.
    pub fn fail_next(&self, op: CgroupOp, fault: Fault) {
        self.lock().faults.push_back((op, fault));
    }

    pub fn log(&self) -> Vec<CgroupEvent> {
        self.lock().log.clone()
    }

    pub fn clear_log(&self) {
        self.lock().log.clear();
    }

    pub fn exists(&self, name: &str) -> bool {
        self.lock().cgroups.contains_key(name)
    }

    /// Every cgroup, parents before children.
    pub fn names(&self) -> Vec<String> {
        self.lock().cgroups.keys().cloned().collect()
    }

    /// Pids in the managed parent itself (drained there by removes).
    pub fn parent_tasks(&self) -> Vec<i32> {
        self.lock().parent_tasks.iter().copied().collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Validates the name and fires a pending fault for `op`; returns the locked state when the call may proceed.
    fn begin(&self, op: CgroupOp, name: &str) -> Result<MutexGuard<'_, State>, CgroupError> {
        validate_cgroup_name(name)?;
        let mut state = self.lock();
        let pending = state.faults.iter().position(|&(o, _)| o == op);
        if let Some((_, fault)) = pending.and_then(|index| state.faults.remove(index)) {
            state.log.push(CgroupEvent::Failed {
                op,
                name: name.into(),
                fault,
            });
            let exists = state.cgroups.contains_key(name);
            return Err(fault_error(op, name, fault, exists));
        }
        Ok(state)
    }

    fn path(name: &str) -> PathBuf {
        PathBuf::from(VIRTUAL_PARENT).join(name)
    }
}

/// The error the real manager returns for `fault` during `op` on a cgroup that `exists` or not. Like the
/// real manager, ENOENT means the cgroup is missing, or, when it exists, that its cpuset files are absent
/// because the controller is not enabled for it.
fn fault_error(op: CgroupOp, name: &str, fault: Fault, exists: bool) -> CgroupError {
    let label = match op {
        CgroupOp::Create => ops::MKDIR,
        CgroupOp::Remove => ops::RMDIR,
        CgroupOp::SetCpuset | CgroupOp::ClearCpuset => ops::WRITE_CPUS,
        CgroupOp::Cpuset => ops::READ_CPUS,
        CgroupOp::MoveTask => ops::WRITE_PROCS,
        CgroupOp::ClearSubtreeControl => ops::WRITE_SUBTREE,
        CgroupOp::Tasks => ops::READ_PROCS,
    };
    match fault {
        Fault::Timeout => CgroupError::Timeout {
            path: MemCgroups::path(name),
            file: label,
            timeout: WRITE_TIMEOUT,
        },
        Fault::Errno(Errno::ENOENT) if !exists => CgroupError::NotFound { name: name.into() },
        Fault::Errno(Errno::ENOENT)
            if matches!(
                op,
                CgroupOp::SetCpuset | CgroupOp::ClearCpuset | CgroupOp::Cpuset
            ) =>
        {
            CgroupError::ControllerNotEnabled {
                controller: "cpuset",
                path: MemCgroups::path(name),
                file: "cpuset.cpus",
            }
        }
        Fault::Errno(errno) => CgroupError::io(
            MemCgroups::path(name),
            label,
            io::Error::from_raw_os_error(errno as i32),
        ),
    }
}

fn not_found(name: &str) -> CgroupError {
    CgroupError::NotFound { name: name.into() }
}

impl State {
    fn node(&mut self, name: &str) -> Result<&mut Node, CgroupError> {
        self.cgroups.get_mut(name).ok_or_else(|| not_found(name))
    }

    /// Removes one cgroup that has no children left, draining its tasks to the parent.
    fn remove_leaf(&mut self, name: &str) {
        let Some(node) = self.cgroups.remove(name) else {
            return;
        };
        if !node.tasks.is_empty() {
            let pids: Vec<i32> = node.tasks.iter().copied().collect();
            self.parent_tasks.extend(&pids);
            self.log.push(CgroupEvent::Drain {
                name: name.into(),
                pids,
            });
        }
        self.log.push(CgroupEvent::Remove { name: name.into() });
    }
}

impl CgroupOps for MemCgroups {
    fn enforces_cpusets(&self) -> bool {
        false
    }

    fn create_cgroup(&self, name: &str) -> Result<(), CgroupError> {
        let mut state = self.begin(CgroupOp::Create, name)?;
        let mut prefix = String::new();
        for component in name.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(component);
            if !state.cgroups.contains_key(&prefix) {
                state.cgroups.insert(prefix.clone(), Node::default());
                state.log.push(CgroupEvent::Create {
                    name: prefix.clone(),
                });
            }
        }
        Ok(())
    }

    fn remove_cgroup(&self, name: &str) -> Result<(), CgroupError> {
        let mut state = self.begin(CgroupOp::Remove, name)?;
        if !state.cgroups.contains_key(name) {
            return Err(not_found(name));
        }
        let below = format!("{name}/");
        // Reverse key order visits every descendant before its ancestors: a prefix sorts first.
        let doomed: Vec<String> = state
            .cgroups
            .keys()
            .filter(|key| key.starts_with(&below))
            .rev()
            .cloned()
            .collect();
        for child in doomed.iter().map(String::as_str).chain([name]) {
            state.remove_leaf(child);
        }
        Ok(())
    }

    fn set_cpuset(&self, name: &str, cpus: &CpuSet) -> Result<(), CgroupError> {
        validate_cgroup_name(name)?;
        if cpus.is_empty() {
            return Err(CgroupError::EmptyCpuset { name: name.into() });
        }
        let mut state = self.begin(CgroupOp::SetCpuset, name)?;
        state.node(name)?.cpuset = cpus.clone();
        state.log.push(CgroupEvent::SetCpuset {
            name: name.into(),
            cpus: cpus.clone(),
        });
        Ok(())
    }

    fn clear_cpuset(&self, name: &str) -> Result<(), CgroupError> {
        let mut state = self.begin(CgroupOp::ClearCpuset, name)?;
        state.node(name)?.cpuset = CpuSet::new();
        state
            .log
            .push(CgroupEvent::ClearCpuset { name: name.into() });
        Ok(())
    }

    fn cpuset(&self, name: &str) -> Result<CpuSet, CgroupError> {
        let mut state = self.begin(CgroupOp::Cpuset, name)?;
        Ok(state.node(name)?.cpuset.clone())
    }

    fn move_task(&self, name: &str, pid: i32) -> Result<(), CgroupError> {
        validate_cgroup_name(name)?;
        if pid <= 0 {
            return Err(CgroupError::InvalidPid { pid });
        }
        let mut state = match self.begin(CgroupOp::MoveTask, name) {
            Err(e) if e.errno() == Some(Errno::ESRCH) => return Ok(()),
            other => other?,
        };
        state.node(name)?;
        state.parent_tasks.remove(&pid);
        for node in state.cgroups.values_mut() {
            node.tasks.remove(&pid);
        }
        state.node(name)?.tasks.insert(pid);
        state.log.push(CgroupEvent::MoveTask {
            name: name.into(),
            pid,
        });
        Ok(())
    }

    fn clear_subtree_control(&self, name: &str) -> Result<(), CgroupError> {
        let mut state = self.begin(CgroupOp::ClearSubtreeControl, name)?;
        state.node(name)?;
        state
            .log
            .push(CgroupEvent::ClearSubtreeControl { name: name.into() });
        Ok(())
    }

    fn tasks(&self, name: &str) -> Result<Vec<i32>, CgroupError> {
        let mut state = self.begin(CgroupOp::Tasks, name)?;
        Ok(state.node(name)?.tasks.iter().copied().collect())
    }

    fn parent_path(&self) -> PathBuf {
        PathBuf::from(VIRTUAL_PARENT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removes(log: &[CgroupEvent]) -> Vec<&str> {
        log.iter()
            .filter_map(|e| match e {
                CgroupEvent::Remove { name } => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn create_makes_missing_ancestors_once() -> anyhow::Result<()> {
        let cg = MemCgroups::new();
        cg.create_cgroup("a/b")?;
        cg.create_cgroup("a/b")?;
        cg.create_cgroup("a")?;
        let created = [
            CgroupEvent::Create { name: "a".into() },
            CgroupEvent::Create { name: "a/b".into() },
        ];
        assert_eq!(cg.log(), created);
        assert_eq!(cg.names(), ["a", "a/b"]);
        Ok(())
    }

    #[test]
    fn missing_cgroups_are_not_found_for_every_operation() {
        let cg = MemCgroups::new();
        let cpus = CpuSet::from_range(0..1);
        let results = [
            cg.remove_cgroup("x"),
            cg.set_cpuset("x", &cpus),
            cg.clear_cpuset("x"),
            cg.cpuset("x").map(drop),
            cg.move_task("x", 1),
            cg.clear_subtree_control("x"),
            cg.tasks("x").map(drop),
        ];
        for result in results {
            assert!(
                matches!(result, Err(CgroupError::NotFound { ref name }) if name == "x"),
                "{result:?}"
            );
        }
        assert!(cg.log().is_empty());
    }

    #[test]
    fn bad_input_is_rejected_before_anything_changes() {
        let cg = MemCgroups::new();
        assert!(matches!(
            cg.create_cgroup("../x"),
            Err(CgroupError::InvalidName { .. })
        ));
        assert!(matches!(
            cg.remove_cgroup(""),
            Err(CgroupError::InvalidName { .. })
        ));
        assert!(matches!(
            cg.move_task("a", 0),
            Err(CgroupError::InvalidPid { pid: 0 })
        ));
        assert!(matches!(
            cg.set_cpuset("a", &CpuSet::new()),
            Err(CgroupError::EmptyCpuset { .. })
        ));
        assert!(cg.log().is_empty());
    }

    #[test]
    fn remove_takes_children_first_and_drains_to_the_parent() -> anyhow::Result<()> {
        let cg = MemCgroups::new();
        for name in ["a/b/c", "a/d", "e"] {
            cg.create_cgroup(name)?;
        }
        cg.move_task("a/b/c", 10)?;
        cg.move_task("a", 11)?;
        cg.clear_log();
        cg.remove_cgroup("a")?;
        let log = cg.log();
        assert_eq!(removes(&log), ["a/d", "a/b/c", "a/b", "a"]);
        assert!(log.contains(&CgroupEvent::Drain {
            name: "a/b/c".into(),
            pids: vec![10]
        }));
        assert_eq!(cg.parent_tasks(), [10, 11]);
        assert_eq!(cg.names(), ["e"]);
        Ok(())
    }

    #[test]
    fn a_task_lives_in_one_cgroup_at_a_time() -> anyhow::Result<()> {
        let cg = MemCgroups::new();
        cg.create_cgroup("a")?;
        cg.create_cgroup("b")?;
        cg.move_tasks("a", &[5, 6])?;
        cg.move_task("b", 5)?;
        assert_eq!(cg.tasks("a")?, [6]);
        assert_eq!(cg.tasks("b")?, [5]);
        cg.remove_cgroup("b")?;
        cg.move_task("a", 5)?;
        assert!(
            cg.parent_tasks().is_empty(),
            "moving a drained task takes it out of the parent"
        );
        Ok(())
    }

    #[test]
    fn cpuset_round_trip() -> anyhow::Result<()> {
        let cg = MemCgroups::new();
        cg.create_cgroup("a")?;
        assert!(cg.cpuset("a")?.is_empty());
        cg.set_cpuset("a", &CpuSet::from_range(0..2))?;
        assert_eq!(cg.cpuset("a")?, CpuSet::from_range(0..2));
        cg.clear_cpuset("a")?;
        assert!(cg.cpuset("a")?.is_empty());
        Ok(())
    }

    #[test]
    fn faults_fire_once_on_their_operation() -> anyhow::Result<()> {
        let cg = MemCgroups::new();
        cg.create_cgroup("a")?;
        cg.fail_next(CgroupOp::Remove, Fault::Errno(Errno::EBUSY));
        cg.fail_next(CgroupOp::Create, Fault::Errno(Errno::EACCES));
        cg.create_cgroup("b")
            .expect_err("the create fault fires first");
        let busy = cg.remove_cgroup("a").expect_err("the remove fault fires");
        assert!(busy.is_busy(), "{busy:?}");
        assert!(cg.exists("a"), "a failed remove changes nothing");
        cg.remove_cgroup("a")?;
        assert!(!cg.exists("a"));
        Ok(())
    }

    #[test]
    /// The same classes `CgroupManager::classify` gives the kernel's answers (tests/host/cgroup.rs drives
    /// the real manager into each: a missing cgroup, a cgroup without the cpuset controller).
    fn faults_map_to_the_real_managers_errors() -> anyhow::Result<()> {
        let cg = MemCgroups::new();
        cg.create_cgroup("a")?;
        cg.fail_next(CgroupOp::SetCpuset, Fault::Errno(Errno::ENOENT));
        let err = cg
            .set_cpuset("a", &CpuSet::from_range(0..1))
            .expect_err("fault");
        assert!(
            matches!(
                err,
                CgroupError::ControllerNotEnabled {
                    controller: "cpuset",
                    ..
                }
            ),
            "an existing cgroup without cpuset files: {err:?}"
        );
        cg.fail_next(CgroupOp::SetCpuset, Fault::Errno(Errno::ENOENT));
        let err = cg
            .set_cpuset("gone", &CpuSet::from_range(0..1))
            .expect_err("fault");
        assert!(matches!(err, CgroupError::NotFound { .. }), "{err:?}");
        cg.fail_next(CgroupOp::Tasks, Fault::Timeout);
        assert!(cg.tasks("a").expect_err("fault").is_timeout());
        cg.fail_next(CgroupOp::MoveTask, Fault::Errno(Errno::ESRCH));
        cg.move_task("a", 7)?;
        assert!(cg.tasks("a")?.is_empty(), "an exited task is not moved");
        cg.fail_next(CgroupOp::ClearCpuset, Fault::Errno(Errno::EACCES));
        assert!(cg
            .clear_cpuset("a")
            .expect_err("fault")
            .is_permission_denied());
        Ok(())
    }
}
