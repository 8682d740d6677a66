//! `Scheduler`: the scheduler a test runs under, declared once as a `const` (`Scheduler::new(..)` and its
//! `const` builders in `builder.rs`, or `#[derive(Scheduler)]`) with its flags, sysctls, kernel arguments,
//! default topology and constraints. This file holds the type and what a declaration says; parsing a
//! typed name, finding the binary on the host and the guest's arguments live beside it.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::declare::{self, FlagDecl, Profile, Sysctl, TopologyConstraints};
use super::SchedulerError;
use crate::assert::Assert;
use crate::topology::Topology;

/// The kernel tree's example schedulers; the kernel cache builds each into `<cache entry>/sched/<name>`.
pub const IN_TREE_SCHEDULERS: [&str; 4] = ["scx_simple", "scx_qmap", "scx_central", "scx_flatcg"];

/// Where scheduler binaries live in the guest.
const GUEST_BIN_DIR: &str = "/bin";

/// How the binary is named and so where it is found.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    Eevdf,
    InTree(&'static str),
    Binary {
        name: Arc<str>,
        host_path: Arc<Path>,
    },
    /// A path a `const` declaration gives.
    DeclaredPath(&'static str),
    /// Installed with `ktstr scheduler install`; the newest version unless one is named.
    Installed {
        name: Arc<str>,
        version: Option<Arc<str>>,
    },
    /// Installed, else built in a cargo target directory, else on `PATH`.
    Named(Cow<'static, str>),
}

/// A scheduler a test names; cheap to clone.
///
/// Declared once as a `const` and shared by every test:
///
/// ```
/// use ktstr::assert::Assert;
/// use ktstr::sched::{FlagDecl, Scheduler};
/// const QMAP: Scheduler = Scheduler::new("scx_qmap")
///     .flags(&[
///         FlagDecl::new("short-slice").args(&["-s", "5000"]),
///         FlagDecl::new("batch").args(&["-b", "8"]),
///         FlagDecl::new("boost-nice").args(&["-H"]).requires(&["batch"]),
///     ])
///     .topology(1, 2, 2, 1)
///     .assert(Assert::NO_OVERRIDES.max_gap_ms(5000));
/// let names: Vec<String> = QMAP.profiles().iter().map(|p| p.name()).collect();
/// assert_eq!(names, ["default", "short-slice", "batch", "short-slice+batch",
///                    "batch+boost-nice", "short-slice+batch+boost-nice"]);
/// let batch = QMAP.with_profile("batch")?.args(["-v"])?;
/// assert_eq!(batch.spec().args, ["-b", "8", "-v"]);
/// assert_eq!(batch.spec().guest_binary.as_deref(), Some("/bin/scx_qmap"));
/// assert!(Scheduler::EEVDF.is_eevdf());
/// # Ok::<(), ktstr::sched::SchedulerError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduler {
    pub(super) kind: Kind,
    /// The name reports use, when not the binary's.
    pub(super) label: Option<&'static str>,
    /// Arguments every run passes first.
    pub(super) sched_args: &'static [&'static str],
    pub(super) flags: &'static [FlagDecl],
    pub(super) sysctls: &'static [Sysctl],
    pub(super) kargs: &'static [&'static str],
    pub(super) topology: Option<Topology>,
    pub(super) constraints: TopologyConstraints,
    /// The flags turned on, by `with_profile`.
    pub(super) profile: Option<Profile>,
    /// Arguments appended after the declaration's and the profile's.
    pub(super) args: Option<Arc<[String]>>,
    /// `None`: the kind's default (`-v` for all but a binary given by path).
    pub(super) diagnostic_args: Option<Arc<[String]>>,
    pub(super) attach_timeout: Option<Duration>,
    pub(super) assert: Assert,
}

impl Scheduler {
    /// The kernel's own scheduler: no binary, no sched_ext.
    pub const EEVDF: Scheduler = Scheduler::with_kind(Kind::Eevdf);

    pub(super) const fn with_kind(kind: Kind) -> Scheduler {
        Scheduler {
            kind,
            label: None,
            sched_args: &[],
            flags: &[],
            sysctls: &[],
            kargs: &[],
            topology: None,
            constraints: TopologyConstraints::NONE,
            profile: None,
            args: None,
            diagnostic_args: None,
            attach_timeout: None,
            assert: Assert::NO_OVERRIDES,
        }
    }

    /// How long this scheduler may take to attach, replacing the harness's allowance (15 s under KVM,
    /// 90 s under TCG, where the verifier checks a large scheduler's programs slowly).
    pub fn attach_timeout(self, timeout: Duration) -> Scheduler {
        Scheduler {
            attach_timeout: Some(timeout),
            ..self
        }
    }

    /// The attach timeout set with `attach_timeout`, if any.
    pub fn attach_timeout_override(&self) -> Option<Duration> {
        self.attach_timeout
    }

    /// The name a test and its report use: the declared name, else `eevdf`, the in-tree name, or the
    /// binary's name.
    pub fn name(&self) -> &str {
        match self.label {
            Some(label) => label,
            None => self.binary_name().unwrap_or("eevdf"),
        }
    }

    /// The binary's file name in the guest (`/bin/<binary_name>`); `None` for EEVDF.
    pub fn binary_name(&self) -> Option<&str> {
        match &self.kind {
            Kind::Eevdf => None,
            Kind::InTree(name) => Some(name),
            Kind::DeclaredPath(path) => Some(path.rsplit('/').next().unwrap_or(path)),
            Kind::Binary { name, .. } | Kind::Installed { name, .. } => Some(name),
            Kind::Named(name) => Some(name),
        }
    }

    /// The declared flags.
    pub fn declared_flags(&self) -> &'static [FlagDecl] {
        self.flags
    }

    /// Every valid combination of the declared flags (`default` first).
    pub fn profiles(&self) -> Vec<Profile> {
        declare::profiles(self.flags, &[], &[])
    }

    /// The profiles that contain every flag of `required` and none of `excluded`; a name that is not a
    /// declared flag is an error.
    pub fn profiles_with(
        &self,
        required: &[&str],
        excluded: &[&str],
    ) -> Result<Vec<Profile>, SchedulerError> {
        for name in required.iter().chain(excluded) {
            if !self.flags.iter().any(|f| f.name == *name) {
                return Err(self.bad_profile(name, format!("no flag named {name:?}")));
            }
        }
        Ok(declare::profiles(self.flags, required, excluded))
    }

    /// This scheduler with the profile `name` on (`a+b`, flags in any order, or `default`).
    pub fn with_profile(&self, name: &str) -> Result<Scheduler, SchedulerError> {
        let profile =
            declare::parse_profile(self.flags, name).map_err(|why| self.bad_profile(name, why))?;
        Ok(Scheduler {
            profile: Some(profile),
            ..self.clone()
        })
    }

    pub(super) fn bad_profile(&self, profile: &str, why: String) -> SchedulerError {
        SchedulerError::BadProfile {
            scheduler: self.name().to_string(),
            profile: profile.to_string(),
            why,
        }
    }

    /// The profile turned on with `with_profile` (`default` when none was).
    pub fn profile(&self) -> Profile {
        self.profile.clone().unwrap_or_default()
    }

    /// The sysctls the declaration names.
    pub fn declared_sysctls(&self) -> &'static [Sysctl] {
        self.sysctls
    }

    /// The kernel command-line arguments the declaration names.
    pub fn declared_kargs(&self) -> &'static [&'static str] {
        self.kargs
    }

    /// The topology the declaration names for tests that give none.
    pub fn default_topology(&self) -> Option<Topology> {
        self.topology
    }

    /// The topologies the scheduler can run on.
    pub fn topology_constraints(&self) -> TopologyConstraints {
        self.constraints
    }

    /// The binary's absolute path in the guest; `None` for EEVDF.
    pub fn guest_path(&self) -> Option<String> {
        self.binary_name()
            .map(|name| format!("{GUEST_BIN_DIR}/{name}"))
    }

    pub fn is_eevdf(&self) -> bool {
        self.kind == Kind::Eevdf
    }

    /// The scheduler layer of the check thresholds.
    pub fn assert_overrides(&self) -> Assert {
        self.assert
    }
}

#[cfg(test)]
#[path = "scheduler_tests.rs"]
mod tests;
