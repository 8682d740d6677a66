//! `CgroupManager`: the real `CgroupOps` over a cgroup v2 filesystem, rooted at a managed parent directory.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

mod teardown;

use super::cgroupfs::{
    self, Knob, CONTROLLERS, CPUS, CPUS_EFFECTIVE, PROCS, SUBTREE, WRITE_TIMEOUT,
};
use super::error::ops;
use super::mount::mount_root_for;
use super::{validate_cgroup_name, CgroupError, CgroupOps, Controllers};
use crate::topology::CpuSet;

/// How often a migration refused with EBUSY is retried (sched_ext's `cgroup_prep_move` can refuse).
const BUSY_RETRIES: u32 = 3;
const BUSY_RETRY_DELAY: Duration = Duration::from_millis(100);

/// Manages cgroups under one parent directory of a cgroup v2 mount.
///
/// ```no_run
/// use ktstr::cgroup::{CgroupManager, CgroupOps, Controllers};
/// let cgroups = CgroupManager::new("/sys/fs/cgroup/ktstr");
/// cgroups.setup(Controllers::CPUSET)?;
/// cgroups.create_cgroup("cg_0")?;
/// cgroups.set_cpuset("cg_0", &"0-1".parse()?)?;
/// cgroups.cleanup_all()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct CgroupManager {
    parent: PathBuf,
    controllers: Mutex<Controllers>,
}

impl CgroupManager {
    /// A manager for `parent`; nothing is touched until `setup` or the first operation.
    pub fn new(parent: impl Into<PathBuf>) -> Self {
        CgroupManager {
            parent: parent.into(),
            controllers: Mutex::new(Controllers::NONE),
        }
    }

    pub fn parent(&self) -> &Path {
        &self.parent
    }

    /// Creates the parent and enables `controllers` in every `cgroup.subtree_control` from the mount root down to it.
    ///
    /// Later nested creates enable the same controllers in intermediate cgroups.
    pub fn setup(&self, controllers: Controllers) -> Result<(), CgroupError> {
        let root = mount_root_for(&self.parent)?;
        let mut dir = root.clone();
        self.enable_controllers(&dir, controllers)?;
        for component in self
            .parent
            .strip_prefix(&root)
            .unwrap_or(Path::new(""))
            .components()
        {
            dir.push(component);
            self.mkdir(&dir.display().to_string(), &dir)?;
            self.enable_controllers(&dir, controllers)?;
        }
        *self
            .controllers
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = controllers;
        Ok(())
    }

    /// Moves every task of the cgroup to the managed parent, or to the cgroup2 root when the parent enables
    /// controllers (cgroup v2 then refuses tasks in it).
    pub fn drain_tasks(&self, name: &str) -> Result<(), CgroupError> {
        let dir = self.dir(name)?;
        self.drain(name, &dir, &self.drain_target(&self.parent)?)
    }

    /// The CPUs the cgroup may actually use (`cpuset.cpus.effective`, inherited when its own list is empty).
    pub fn effective_cpuset(&self, name: &str) -> Result<CpuSet, CgroupError> {
        let dir = self.dir(name)?;
        self.read_cpus(name, &dir, &CPUS_EFFECTIVE)
    }

    /// Removes every cgroup under the parent and the parent itself, draining tasks to the parent's parent
    /// (or the cgroup2 root, as in `drain_tasks`).
    ///
    /// A parent that does not exist is already clean.
    pub fn cleanup_all(&self) -> Result<(), CgroupError> {
        if !self.parent.is_dir() {
            return Ok(());
        }
        mount_root_for(&self.parent)?;
        let outside = self.parent.parent().ok_or_else(|| CgroupError::BadParent {
            path: self.parent.clone(),
            reason: "it has no parent directory to drain tasks into",
        })?;
        self.remove_tree(
            &self.parent_label(),
            &self.parent,
            &self.drain_target(outside)?,
        )
    }

    fn parent_label(&self) -> String {
        self.parent.display().to_string()
    }

    /// The directory of a validated cgroup name.
    fn dir(&self, name: &str) -> Result<PathBuf, CgroupError> {
        validate_cgroup_name(name)?;
        Ok(self.parent.join(name))
    }

    fn enable_controllers(&self, dir: &Path, controllers: Controllers) -> Result<(), CgroupError> {
        let wanted = controllers.names();
        if wanted.is_empty() {
            return Ok(());
        }
        let label = dir.display().to_string();
        let enabled = self.read(&label, dir, &SUBTREE)?;
        let available = self.read(&label, dir, &CONTROLLERS)?;
        for controller in wanted {
            if enabled.split_whitespace().any(|c| c == controller) {
                continue;
            }
            if !available.split_whitespace().any(|c| c == controller) {
                return Err(CgroupError::ControllerUnavailable {
                    controller,
                    path: dir.to_path_buf(),
                    available: available.trim().to_string(),
                });
            }
            self.write(&label, dir, &SUBTREE, format!("+{controller}"))?;
        }
        Ok(())
    }

    fn mkdir(&self, name: &str, dir: &Path) -> Result<(), CgroupError> {
        match cgroupfs::mkdir(dir, WRITE_TIMEOUT)? {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !self.parent.is_dir() => {
                Err(CgroupError::BadParent {
                    path: self.parent.clone(),
                    reason: "it does not exist; call CgroupManager::setup first",
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(CgroupError::NotFound { name: name.into() })
            }
            Err(e) => Err(CgroupError::io(dir.to_path_buf(), ops::MKDIR, e)),
        }
    }

    /// Moves one pid into `dir`: ESRCH (the task exited) is success, EBUSY is retried.
    fn move_pid(&self, name: &str, dir: &Path, pid: i32) -> Result<(), CgroupError> {
        if pid <= 0 {
            return Err(CgroupError::InvalidPid { pid });
        }
        let result = cgroupfs::retry_on_busy(BUSY_RETRIES, BUSY_RETRY_DELAY, || {
            cgroupfs::write_knob(dir, &PROCS, pid.to_string(), WRITE_TIMEOUT)
        })?;
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            Err(e) => Err(self.classify(name, dir, &PROCS, PROCS.write_op, e)),
        }
    }

    fn read(&self, name: &str, dir: &Path, knob: &Knob) -> Result<String, CgroupError> {
        cgroupfs::read_knob(dir, knob).map_err(|e| self.classify(name, dir, knob, knob.read_op, e))
    }

    fn write(
        &self,
        name: &str,
        dir: &Path,
        knob: &Knob,
        content: String,
    ) -> Result<(), CgroupError> {
        cgroupfs::write_knob(dir, knob, content, WRITE_TIMEOUT)?
            .map_err(|e| self.classify(name, dir, knob, knob.write_op, e))
    }

    fn read_cpus(&self, name: &str, dir: &Path, knob: &Knob) -> Result<CpuSet, CgroupError> {
        let text = self.read(name, dir, knob)?;
        CpuSet::parse(&text).map_err(|e| CgroupError::Parse {
            path: dir.to_path_buf(),
            file: knob.file,
            content: text.clone(),
            reason: e.to_string(),
        })
    }

    fn read_tasks(&self, name: &str, dir: &Path) -> Result<Vec<i32>, CgroupError> {
        let text = self.read(name, dir, &PROCS)?;
        text.lines()
            .map(|line| {
                line.trim().parse::<i32>().map_err(|e| CgroupError::Parse {
                    path: dir.to_path_buf(),
                    file: PROCS.file,
                    content: text.clone(),
                    reason: format!("{line:?} is not a pid: {e}"),
                })
            })
            .collect()
    }

    /// Turns a failed access into the error the caller can act on: a missing cgroup, a missing controller, or I/O.
    fn classify(
        &self,
        name: &str,
        dir: &Path,
        knob: &Knob,
        op: &'static str,
        e: io::Error,
    ) -> CgroupError {
        if e.kind() == io::ErrorKind::NotFound {
            if !dir.is_dir() {
                return CgroupError::NotFound { name: name.into() };
            }
            if let Some(controller) = knob.controller {
                return CgroupError::ControllerNotEnabled {
                    controller,
                    path: dir.to_path_buf(),
                    file: knob.file,
                };
            }
        }
        CgroupError::io(dir.join(knob.file), op, e)
    }
}

impl CgroupOps for CgroupManager {
    fn create_cgroup(&self, name: &str) -> Result<(), CgroupError> {
        validate_cgroup_name(name)?;
        let controllers = *self
            .controllers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let components: Vec<&str> = name.split('/').collect();
        let mut dir = self.parent.clone();
        for (depth, component) in components.iter().enumerate() {
            dir.push(component);
            let prefix = components[..=depth].join("/");
            self.mkdir(&prefix, &dir)?;
            if depth + 1 < components.len() {
                self.enable_controllers(&dir, controllers)?;
            }
        }
        Ok(())
    }

    fn remove_cgroup(&self, name: &str) -> Result<(), CgroupError> {
        let dir = self.dir(name)?;
        if !dir.is_dir() {
            return Err(CgroupError::NotFound { name: name.into() });
        }
        self.remove_tree(name, &dir, &self.drain_target(&self.parent)?)
    }

    fn set_cpuset(&self, name: &str, cpus: &CpuSet) -> Result<(), CgroupError> {
        let dir = self.dir(name)?;
        if cpus.is_empty() {
            return Err(CgroupError::EmptyCpuset { name: name.into() });
        }
        self.write(name, &dir, &CPUS, cpus.to_string())
    }

    fn clear_cpuset(&self, name: &str) -> Result<(), CgroupError> {
        let dir = self.dir(name)?;
        match self.write(name, &dir, &CPUS, "\n".into()) {
            // The kernel refuses to empty a populated cpuset (ENOSPC): widen it to all its parent has instead.
            Err(e) if e.errno() == Some(nix::errno::Errno::ENOSPC) => {
                let parent = dir.parent().unwrap_or(&self.parent);
                let all = self.read_cpus(name, parent, &CPUS_EFFECTIVE)?;
                self.write(name, &dir, &CPUS, format!("{all}\n"))
            }
            other => other,
        }
    }

    fn cpuset(&self, name: &str) -> Result<CpuSet, CgroupError> {
        let dir = self.dir(name)?;
        self.read_cpus(name, &dir, &CPUS)
    }

    fn move_task(&self, name: &str, pid: i32) -> Result<(), CgroupError> {
        let dir = self.dir(name)?;
        self.move_pid(name, &dir, pid)
    }

    fn clear_subtree_control(&self, name: &str) -> Result<(), CgroupError> {
        let dir = self.dir(name)?;
        let enabled = self.read(name, &dir, &SUBTREE)?;
        let disable: Vec<String> = enabled
            .split_whitespace()
            .map(|c| format!("-{c}"))
            .collect();
        if disable.is_empty() {
            return Ok(());
        }
        self.write(name, &dir, &SUBTREE, disable.join(" "))
    }

    fn tasks(&self, name: &str) -> Result<Vec<i32>, CgroupError> {
        let dir = self.dir(name)?;
        self.read_tasks(name, &dir)
    }

    fn parent_path(&self) -> PathBuf {
        self.parent.clone()
    }
}
