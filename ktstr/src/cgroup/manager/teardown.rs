//! Removing cgroup trees: children first, tasks drained out, then `rmdir`.

use std::io;
use std::path::Path;

use super::CgroupManager;
use crate::cgroup::cgroupfs;
use crate::cgroup::error::ops;
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
        match cgroupfs::rmdir(dir, self.timeout)? {
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
