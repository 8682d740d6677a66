//! A scheduler named at run time — an in-tree name, `NAME@VERSION`, a path or a bare name — resolved to
//! its declaration in `schedulers` when there is one, so a typed name keeps the declared flags.

use std::borrow::Cow;
use std::path::Path;

use super::name::check_name;
use super::scheduler::{Kind, Scheduler, IN_TREE_SCHEDULERS};
use super::{schedulers, SchedulerError};

impl Scheduler {
    /// One of `IN_TREE_SCHEDULERS`, built by the kernel cache from the kernel's own source.
    pub fn in_tree(name: &str) -> Result<Scheduler, SchedulerError> {
        let known = IN_TREE_SCHEDULERS
            .iter()
            .find(|known| **known == name)
            .ok_or_else(|| SchedulerError::UnknownInTree {
                name: name.to_string(),
                known: IN_TREE_SCHEDULERS.join(", "),
            })?;
        Ok(Scheduler::declared_or_plain(Kind::InTree(known)))
    }

    /// A scheduler installed with `ktstr scheduler install NAME[@VERSION]`, such as `scx_bpfland` or
    /// `scx_rusty@1.1.4`; the newest installed version when none is named. Located when a trial starts.
    ///
    /// ```
    /// use ktstr::sched::Scheduler;
    /// let rusty = Scheduler::installed("scx_rusty@1.1.4")?;
    /// assert_eq!((rusty.name(), rusty.guest_path().as_deref()), ("scx_rusty", Some("/bin/scx_rusty")));
    /// # Ok::<(), ktstr::sched::SchedulerError>(())
    /// ```
    pub fn installed(spec: &str) -> Result<Scheduler, SchedulerError> {
        let (name, version) = match spec.split_once('@') {
            Some((name, version)) if !version.is_empty() => (name, Some(version.into())),
            Some(_) => return Err(SchedulerError::EmptyVersion { spec: spec.into() }),
            None => (spec, None),
        };
        check_name(name)?;
        let kind = Kind::Installed {
            name: name.into(),
            version,
        };
        Ok(Scheduler::declared_or_plain(kind))
    }

    /// A scheduler by name as a user types it: an in-tree name, `NAME@VERSION` of an installed one, a
    /// path (anything with a `/`), or a bare name found when a trial starts — installed, else the newest
    /// build in a cargo target directory (`target/{release,debug}/NAME`), else on `PATH`.
    pub fn by_name(name: &str) -> Result<Scheduler, SchedulerError> {
        if IN_TREE_SCHEDULERS.contains(&name) {
            return Scheduler::in_tree(name);
        }
        if name.contains('@') {
            return Scheduler::installed(name);
        }
        if name.contains('/') {
            let path = Path::new(name);
            if !path.is_file() {
                return Err(SchedulerError::NoSuchFile { path: name.into() });
            }
            let file = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            return Scheduler::binary(&file, path);
        }
        check_name(name)?;
        Ok(Scheduler::declared_or_plain(Kind::Named(Cow::Owned(
            name.to_string(),
        ))))
    }

    /// Any other scheduler binary, copied from `host_path` into the guest as `/bin/<name>`.
    pub fn binary(name: &str, host_path: impl AsRef<Path>) -> Result<Scheduler, SchedulerError> {
        check_name(name)?;
        let host_path = host_path.as_ref();
        if host_path.as_os_str().is_empty() {
            return Err(SchedulerError::EmptyPath { name: name.into() });
        }
        Ok(Scheduler::with_kind(Kind::Binary {
            name: name.into(),
            host_path: host_path.into(),
        }))
    }

    /// The declaration in `ktstr::schedulers` of this binary (its flags, constraints and check
    /// overrides) with `kind`'s way of finding it, else a plain scheduler.
    fn declared_or_plain(kind: Kind) -> Scheduler {
        let plain = Scheduler::with_kind(kind);
        match plain.binary_name().and_then(schedulers::by_binary) {
            Some(declared) => Scheduler {
                kind: plain.kind,
                ..declared.clone()
            },
            None => plain,
        }
    }
}
