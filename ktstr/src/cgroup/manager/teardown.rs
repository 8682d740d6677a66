//! Removing cgroup trees: children first, tasks drained out, then `rmdir`.

use std::io;
use std::path::{Path, PathBuf};

use super::CgroupManager;
use crate::cgroup::cgroupfs::{self, SUBTREE};
use crate::cgroup::error::ops;
use crate::cgroup::mount::mount_root_for;
use crate::cgroup::CgroupError;

/// Passes over `cgroup.procs` while draining; tasks that fork meanwhile get picked up by the next pass.
const DRAIN_PASSES: usize = 5;

impl CgroupManager {
    /// Removes `dir` and every cgroup below it, moving their tasks into `drain_to` first.
    pub(super) fn remove_tree(
        &self,
        name: &str,
        dir: &Path,
        drain_to: &Path,
    ) -> Result<(), CgroupError> {
        for child in child_dirs(dir)? {
            let child_name = format!("{name}/{}", child.to_string_lossy());
            self.remove_tree(&child_name, &dir.join(&child), drain_to)?;
        }
        self.drain(name, dir, drain_to)?;
        match cgroupfs::rmdir(dir, cgroupfs::WRITE_TIMEOUT)? {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(CgroupError::NotFound { name: name.into() })
            }
            Err(e) => Err(CgroupError::io(dir.to_path_buf(), ops::RMDIR, e)),
        }
    }

    /// Moves every task of `dir` into `drain_to`; stops when `cgroup.procs` reads empty.
    pub(super) fn drain(&self, name: &str, dir: &Path, drain_to: &Path) -> Result<(), CgroupError> {
        let target = drain_to.display().to_string();
        for _ in 0..DRAIN_PASSES {
            let pids = self.read_tasks(name, dir)?;
            if pids.is_empty() {
                return Ok(());
            }
            for pid in pids {
                self.move_pid(&target, drain_to, pid)?;
            }
        }
        Ok(())
    }

    /// Where drained tasks go: `preferred`, unless it has controllers enabled, then the cgroup2 mount root.
    ///
    /// cgroup v2 refuses tasks (EBUSY) in a non-root cgroup that enables controllers while a child is populated,
    /// and the cgroup being drained is such a child.
    pub(super) fn drain_target(&self, preferred: &Path) -> Result<PathBuf, CgroupError> {
        let root = mount_root_for(&self.parent)?;
        if preferred == root {
            return Ok(root);
        }
        let enabled = self.read(&preferred.display().to_string(), preferred, &SUBTREE)?;
        Ok(if enabled.trim().is_empty() {
            preferred.to_path_buf()
        } else {
            root
        })
    }
}

/// Names of the sub-directories (child cgroups) of `dir`.
fn child_dirs(dir: &Path) -> Result<Vec<std::ffi::OsString>, CgroupError> {
    let io_err = |e| CgroupError::io(dir.to_path_buf(), ops::READ_DIR, e);
    let mut children = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        if entry.file_type().map_err(io_err)?.is_dir() {
            children.push(entry.file_name());
        }
    }
    Ok(children)
}
