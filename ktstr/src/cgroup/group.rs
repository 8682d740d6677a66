//! `CgroupGroup`: cgroups that are removed when the group goes out of scope.

use super::{CgroupError, CgroupOps};
use crate::topology::CpuSet;

/// Tracks cgroups created through it and removes them on drop, newest first (children before parents).
///
/// Drop never panics: a cgroup that is already gone is fine, other failures are logged with a hint.
///
/// ```
/// use ktstr::cgroup::{CgroupGroup, CgroupOps, MemCgroups};
/// use ktstr::topology::CpuSet;
/// let cgroups = MemCgroups::new();
/// {
///     let mut group = CgroupGroup::new(&cgroups);
///     group.add_cgroup("cg_0", &CpuSet::from_range(0..2))?;
///     assert!(cgroups.exists("cg_0"));
/// }
/// assert!(!cgroups.exists("cg_0"));
/// # Ok::<(), ktstr::cgroup::CgroupError>(())
/// ```
#[must_use = "dropping a CgroupGroup removes its cgroups at once"]
pub struct CgroupGroup<'a> {
    ops: &'a dyn CgroupOps,
    names: Vec<String>,
}

impl<'a> CgroupGroup<'a> {
    pub fn new(ops: &'a dyn CgroupOps) -> Self {
        CgroupGroup {
            ops,
            names: Vec::new(),
        }
    }

    /// Creates the cgroup, tracks it, and writes its cpuset. A failed cpuset write still leaves it tracked.
    pub fn add_cgroup(&mut self, name: &str, cpus: &CpuSet) -> Result<(), CgroupError> {
        self.add_cgroup_no_cpuset(name)?;
        self.ops.set_cpuset(name, cpus)
    }

    /// Creates the cgroup (inheriting its parent's CPUs) and tracks it.
    pub fn add_cgroup_no_cpuset(&mut self, name: &str) -> Result<(), CgroupError> {
        self.ops.create_cgroup(name)?;
        if !self.contains(name) {
            self.names.push(name.to_string());
        }
        Ok(())
    }

    /// Tracked names in insertion order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// Removes the cgroup (and the cgroups below it) now and stops tracking them.
    ///
    /// A failure other than not-found keeps them tracked, so drop tries again.
    pub fn remove(&mut self, name: &str) -> Result<(), CgroupError> {
        let result = self.ops.remove_cgroup(name);
        if result.as_ref().is_ok() || result.as_ref().is_err_and(CgroupError::is_not_found) {
            let below = format!("{name}/");
            self.names.retain(|n| n != name && !n.starts_with(&below));
        }
        result
    }
}

impl Drop for CgroupGroup<'_> {
    fn drop(&mut self) {
        for name in self.names.iter().rev() {
            match self.ops.remove_cgroup(name) {
                Err(err) if !err.is_not_found() => eprintln!("ktstr: {}", drop_warning(name, &err)),
                _ => {}
            }
        }
    }
}

/// The warning printed when drop cannot remove a cgroup.
fn drop_warning(name: &str, err: &CgroupError) -> String {
    let hint = if err.is_busy() {
        " (tasks are still inside: stop the workers before the CgroupGroup goes out of scope)"
    } else if err.is_permission_denied() {
        " (removing cgroups needs root or a delegated cgroup)"
    } else {
        ""
    };
    format!("could not remove cgroup {name:?}: {err}{hint}")
}

#[cfg(test)]
mod tests {
    use std::io;

    use nix::errno::Errno;

    use super::*;
    use crate::cgroup::{CgroupEvent, CgroupOp, Fault, MemCgroups};

    fn removes(cgroups: &MemCgroups) -> Vec<String> {
        cgroups
            .log()
            .into_iter()
            .filter_map(|e| match e {
                CgroupEvent::Remove { name } => Some(name),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn drop_removes_in_reverse_insertion_order() -> anyhow::Result<()> {
        let cgroups = MemCgroups::new();
        {
            let mut group = CgroupGroup::new(&cgroups);
            group.add_cgroup("a", &CpuSet::from_range(0..1))?;
            group.add_cgroup_no_cpuset("a/inner")?;
            group.add_cgroup_no_cpuset("b")?;
            group.add_cgroup_no_cpuset("b")?;
            assert_eq!(group.names(), ["a", "a/inner", "b"]);
            assert!(group.contains("a/inner") && !group.contains("c"));
            assert_eq!(cgroups.cpuset("a")?, CpuSet::from_range(0..1));
            cgroups.clear_log();
        }
        assert_eq!(removes(&cgroups), ["b", "a/inner", "a"]);
        assert!(cgroups.names().is_empty());
        Ok(())
    }

    #[test]
    fn already_removed_cgroups_are_benign_on_drop() -> anyhow::Result<()> {
        let cgroups = MemCgroups::new();
        {
            let mut group = CgroupGroup::new(&cgroups);
            group.add_cgroup_no_cpuset("a")?;
            group.add_cgroup_no_cpuset("b")?;
            cgroups.remove_cgroup("b")?;
            cgroups.clear_log();
        }
        assert_eq!(removes(&cgroups), ["a"]);
        Ok(())
    }

    #[test]
    fn a_busy_cgroup_does_not_stop_the_others_from_going() -> anyhow::Result<()> {
        let cgroups = MemCgroups::new();
        {
            let mut group = CgroupGroup::new(&cgroups);
            for name in ["a", "b", "c"] {
                group.add_cgroup_no_cpuset(name)?;
            }
            cgroups.clear_log();
            cgroups.fail_next(CgroupOp::Remove, Fault::Errno(Errno::EBUSY));
        }
        let failed = CgroupEvent::Failed {
            op: CgroupOp::Remove,
            name: "c".into(),
            fault: Fault::Errno(Errno::EBUSY),
        };
        assert_eq!(cgroups.log().first(), Some(&failed));
        assert_eq!(removes(&cgroups), ["b", "a"]);
        assert_eq!(cgroups.names(), ["c"]);
        Ok(())
    }

    #[test]
    fn remove_untracks_the_cgroup_and_its_children() -> anyhow::Result<()> {
        let cgroups = MemCgroups::new();
        let mut group = CgroupGroup::new(&cgroups);
        for name in ["a", "a/x", "ab"] {
            group.add_cgroup_no_cpuset(name)?;
        }
        group.remove("a")?;
        assert_eq!(group.names(), ["ab"]);
        assert_eq!(cgroups.names(), ["ab"]);
        assert!(group.remove("a").expect_err("already gone").is_not_found());
        Ok(())
    }

    #[test]
    fn a_failed_remove_keeps_tracking() -> anyhow::Result<()> {
        let cgroups = MemCgroups::new();
        let mut group = CgroupGroup::new(&cgroups);
        group.add_cgroup_no_cpuset("a")?;
        cgroups.fail_next(CgroupOp::Remove, Fault::Errno(Errno::EBUSY));
        assert!(group.remove("a").expect_err("injected").is_busy());
        assert_eq!(group.names(), ["a"]);
        drop(group);
        assert!(cgroups.names().is_empty(), "drop retried the remove");
        Ok(())
    }

    #[test]
    fn a_failed_cpuset_write_still_tracks_the_cgroup() {
        let cgroups = MemCgroups::new();
        let mut group = CgroupGroup::new(&cgroups);
        cgroups.fail_next(CgroupOp::SetCpuset, Fault::Errno(Errno::EINVAL));
        let err = group
            .add_cgroup("a", &CpuSet::from_range(0..1))
            .expect_err("injected");
        assert_eq!(err.errno(), Some(Errno::EINVAL));
        assert_eq!(group.names(), ["a"]);
    }

    #[test]
    fn drop_warnings_carry_a_hint_for_busy_and_permission() {
        let io_err = |errno: Errno| CgroupError::Io {
            path: "/cg/a".into(),
            op: "rmdir",
            source: io::Error::from_raw_os_error(errno as i32),
            hint: "",
        };
        let cases = [
            (io_err(Errno::EBUSY), Some("stop the workers")),
            (io_err(Errno::EACCES), Some("needs root")),
            (io_err(Errno::EPERM), Some("needs root")),
            (io_err(Errno::EIO), None),
        ];
        for (err, hint) in cases {
            let text = drop_warning("a", &err);
            assert!(text.contains("\"a\""), "{text}");
            match hint {
                Some(hint) => assert!(text.contains(hint), "{text}"),
                None => assert!(
                    !text.contains("workers") && !text.contains("root"),
                    "{text}"
                ),
            }
        }
    }
}
