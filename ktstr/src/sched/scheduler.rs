//! `Scheduler`: the scheduler a test runs under, and `SchedulerSpec`, the form that travels to the guest.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::SchedulerError;
use crate::assert::Assert;

/// The kernel tree's example schedulers; the kernel cache builds each into `<cache entry>/sched/<name>`.
pub const IN_TREE_SCHEDULERS: [&str; 4] = ["scx_simple", "scx_qmap", "scx_central", "scx_flatcg"];

/// Where scheduler binaries live in the guest.
const GUEST_BIN_DIR: &str = "/bin";

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Eevdf,
    InTree(&'static str),
    Binary {
        name: Arc<str>,
        host_path: Arc<Path>,
    },
}

/// A scheduler a test names; cheap to clone.
///
/// ```
/// use ktstr::assert::Assert;
/// use ktstr::sched::Scheduler;
/// let qmap = Scheduler::in_tree("scx_qmap")?
///     .args(["-t", "10"])?
///     .assert(Assert::NO_OVERRIDES.max_gap_ms(5000));
/// assert_eq!(qmap.spec().guest_binary.as_deref(), Some("/bin/scx_qmap"));
/// assert!(Scheduler::EEVDF.is_eevdf());
/// # Ok::<(), ktstr::sched::SchedulerError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduler {
    kind: Kind,
    args: Option<Arc<[String]>>,
    assert: Assert,
}

/// A scheduler as the guest receives it in the trial spec; `guest_binary` is `None` for EEVDF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulerSpec {
    pub name: String,
    pub guest_binary: Option<String>,
    pub args: Vec<String>,
}

impl SchedulerSpec {
    /// Whether this is the kernel's own scheduler, with nothing to launch.
    pub fn is_eevdf(&self) -> bool {
        self.guest_binary.is_none()
    }
}

impl Scheduler {
    /// The kernel's own scheduler: no binary, no sched_ext.
    pub const EEVDF: Scheduler = Scheduler {
        kind: Kind::Eevdf,
        args: None,
        assert: Assert::NO_OVERRIDES,
    };

    /// One of `IN_TREE_SCHEDULERS`, built by the kernel cache from the kernel's own source.
    pub fn in_tree(name: &str) -> Result<Scheduler, SchedulerError> {
        let known = IN_TREE_SCHEDULERS
            .iter()
            .find(|known| **known == name)
            .ok_or_else(|| SchedulerError::UnknownInTree {
                name: name.to_string(),
                known: IN_TREE_SCHEDULERS.join(", "),
            })?;
        Ok(Scheduler::with_kind(Kind::InTree(known)))
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

    fn with_kind(kind: Kind) -> Scheduler {
        Scheduler {
            kind,
            args: None,
            assert: Assert::NO_OVERRIDES,
        }
    }

    /// Appends command-line arguments for the scheduler binary.
    pub fn args<I, S>(self, args: I) -> Result<Scheduler, SchedulerError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if self.is_eevdf() {
            return Err(SchedulerError::ArgsForEevdf);
        }
        let mut all = self.sched_args().to_vec();
        for arg in args {
            let arg = arg.into();
            if arg.contains('\0') {
                return Err(SchedulerError::ArgWithNul {
                    name: self.name().to_string(),
                    index: all.len(),
                    arg,
                });
            }
            all.push(arg);
        }
        Ok(Scheduler {
            args: Some(all.into()),
            ..self
        })
    }

    /// Check overrides of this scheduler, merged as defaults → scheduler → test.
    pub fn assert(self, assert: Assert) -> Scheduler {
        Scheduler { assert, ..self }
    }

    /// The name a test and its report use: `eevdf`, the in-tree name, or the name given to `binary`.
    pub fn name(&self) -> &str {
        match &self.kind {
            Kind::Eevdf => "eevdf",
            Kind::InTree(name) => name,
            Kind::Binary { name, .. } => name,
        }
    }

    /// The binary's file name in the guest (`/bin/<binary_name>`); `None` for EEVDF.
    pub fn binary_name(&self) -> Option<&str> {
        match self.kind {
            Kind::Eevdf => None,
            _ => Some(self.name()),
        }
    }

    /// The binary's absolute path in the guest; `None` for EEVDF.
    pub fn guest_path(&self) -> Option<String> {
        self.binary_name()
            .map(|name| format!("{GUEST_BIN_DIR}/{name}"))
    }

    /// The binary on the host: `<kernel_dir>/sched/<name>` for in-tree schedulers; `None` for EEVDF.
    pub fn host_binary(&self, kernel_dir: &Path) -> Option<PathBuf> {
        match &self.kind {
            Kind::Eevdf => None,
            Kind::InTree(name) => Some(kernel_dir.join("sched").join(name)),
            Kind::Binary { host_path, .. } => Some(host_path.to_path_buf()),
        }
    }

    pub fn is_eevdf(&self) -> bool {
        self.kind == Kind::Eevdf
    }

    /// The arguments given with `args`, in order.
    pub fn sched_args(&self) -> &[String] {
        self.args.as_deref().unwrap_or(&[])
    }

    /// The scheduler layer of the check thresholds.
    pub fn assert_overrides(&self) -> Assert {
        self.assert
    }

    /// The form sent to the guest.
    pub fn spec(&self) -> SchedulerSpec {
        SchedulerSpec {
            name: self.name().to_string(),
            guest_binary: self.guest_path(),
            args: self.sched_args().to_vec(),
        }
    }
}

/// A name is safe as a guest file name: `[A-Za-z0-9_.-]`, not starting with `.` or `-`.
fn check_name(name: &str) -> Result<(), SchedulerError> {
    let first = name.chars().next().ok_or(SchedulerError::EmptyName)?;
    let bad = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .or(Some(first).filter(|c| matches!(c, '.' | '-')));
    match bad {
        Some(bad) => Err(SchedulerError::BadName {
            name: name.to_string(),
            bad,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
#[path = "scheduler_tests.rs"]
mod tests;
