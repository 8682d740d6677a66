//! `Scheduler`: the scheduler a test runs under, and `SchedulerSpec`, the form that travels to the guest.
//! A scheduler is declared once, as a `const` (`Scheduler::new(..)` and its `const` builders, or
//! `#[derive(Scheduler)]`), with its flags, sysctls, kernel arguments, default topology and constraints.
//! A scheduler named without a path is located on the host only when a trial starts, so the same
//! declaration builds in the guest, where neither the cache nor cargo's target directory exists.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::declare::{self, check_flags, str_eq, FlagDecl, Profile, Sysctl, TopologyConstraints};
use super::{lookup, SchedulerError, SchedulerStore};
use crate::assert::Assert;
use crate::topology::Topology;

/// The kernel tree's example schedulers; the kernel cache builds each into `<cache entry>/sched/<name>`.
pub const IN_TREE_SCHEDULERS: [&str; 4] = ["scx_simple", "scx_qmap", "scx_central", "scx_flatcg"];

/// Where scheduler binaries live in the guest.
const GUEST_BIN_DIR: &str = "/bin";

/// The arguments that turn on libbpf's log in the sched-ext project's schedulers and the kernel tree's
/// examples; a scheduler that fails to load is started once more with them to capture why.
const LIBBPF_VERBOSE_ARGS: [&str; 1] = ["-v"];

#[derive(Debug, Clone, PartialEq)]
enum Kind {
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

/// Where a scheduler's host binary was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinarySource {
    /// Built with the kernel from its `tools/sched_ext`.
    KernelTree,
    /// `ktstr scheduler install`, at this version.
    Installed { version: String },
    /// A cargo target directory of the project being worked on.
    TargetDir,
    /// A directory of `PATH`.
    Path,
    /// The path the test gave.
    Given,
}

impl std::fmt::Display for BinarySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BinarySource::KernelTree => f.write_str("built with the kernel"),
            BinarySource::Installed { version } => write!(f, "installed {version}"),
            BinarySource::TargetDir => f.write_str("cargo target dir"),
            BinarySource::Path => f.write_str("PATH"),
            BinarySource::Given => f.write_str("given path"),
        }
    }
}

/// A scheduler binary on the host, ready to copy into the guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocatedBinary {
    pub path: PathBuf,
    pub source: BinarySource,
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
    kind: Kind,
    /// The name reports use, when not the binary's.
    label: Option<&'static str>,
    /// Arguments every run passes first.
    sched_args: &'static [&'static str],
    flags: &'static [FlagDecl],
    sysctls: &'static [Sysctl],
    kargs: &'static [&'static str],
    topology: Option<Topology>,
    constraints: TopologyConstraints,
    /// The flags turned on, by `with_profile`.
    profile: Option<Profile>,
    /// Arguments appended after the declaration's and the profile's.
    args: Option<Arc<[String]>>,
    /// `None`: the kind's default (`-v` for all but a binary given by path).
    diagnostic_args: Option<Arc<[String]>>,
    attach_timeout: Option<Duration>,
    assert: Assert,
}

/// A scheduler as the guest receives it in the trial spec; `guest_binary` is `None` for EEVDF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulerSpec {
    pub name: String,
    pub guest_binary: Option<String>,
    pub args: Vec<String>,
    /// Appended for one more start when the scheduler fails to load, to capture libbpf's log.
    #[serde(default)]
    pub diagnostic_args: Vec<String>,
}

impl SchedulerSpec {
    /// Whether this is the kernel's own scheduler, with nothing to launch.
    pub fn is_eevdf(&self) -> bool {
        self.guest_binary.is_none()
    }
}

impl Scheduler {
    /// The kernel's own scheduler: no binary, no sched_ext.
    pub const EEVDF: Scheduler = Scheduler::with_kind(Kind::Eevdf);

    /// Declares a scheduler by its binary: one of `IN_TREE_SCHEDULERS`, a path (anything with a `/`), or
    /// a name found when a trial starts — installed with `ktstr scheduler install`, else the newest build
    /// in a cargo target directory, else on `PATH`. A bad name is a compile error in a `const`.
    pub const fn new(binary: &'static str) -> Scheduler {
        let mut i = 0;
        while i < IN_TREE_SCHEDULERS.len() {
            if str_eq(IN_TREE_SCHEDULERS[i], binary) {
                return Scheduler::with_kind(Kind::InTree(IN_TREE_SCHEDULERS[i]));
            }
            i += 1;
        }
        let bytes = binary.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'/' {
                return Scheduler::with_kind(Kind::DeclaredPath(binary));
            }
            i += 1;
        }
        if !name_is_valid(binary) {
            panic!("a scheduler binary name uses only letters, digits, '_', '-' and '.', and does not start with '.' or '-'");
        }
        Scheduler::with_kind(Kind::Named(Cow::Borrowed(binary)))
    }

    /// The name reports and test names use, instead of the binary's.
    pub const fn named(mut self, name: &'static str) -> Scheduler {
        if !name_is_valid(name) {
            panic!("a scheduler name uses only letters, digits, '_', '-' and '.', and does not start with '.' or '-'");
        }
        self.label = Some(name);
        self
    }

    /// Arguments every run passes, before any flag's.
    pub const fn sched_args(mut self, args: &'static [&'static str]) -> Scheduler {
        self.sched_args = args;
        self
    }

    /// The scheduler's flags; its profiles are every subset that respects their `requires` and
    /// `excludes`. A malformed list is a compile error in a `const`.
    pub const fn flags(mut self, flags: &'static [FlagDecl]) -> Scheduler {
        check_flags(flags);
        self.flags = flags;
        self
    }

    /// `/proc/sys` writes the guest makes before starting the scheduler, before the test's own.
    pub const fn sysctls(mut self, sysctls: &'static [Sysctl]) -> Scheduler {
        self.sysctls = sysctls;
        self
    }

    /// Kernel command-line arguments (`key=value` or `flag`) the guest boots with.
    pub const fn kargs(mut self, kargs: &'static [&'static str]) -> Scheduler {
        self.kargs = kargs;
        self
    }

    /// The topology tests of this scheduler boot with when they name none. Invalid dimensions are a
    /// compile error in a `const`.
    pub const fn topology(
        mut self,
        numa_nodes: u32,
        llcs: u32,
        cores: u32,
        threads: u32,
    ) -> Scheduler {
        self.topology = Some(Topology::declare(numa_nodes, llcs, cores, threads));
        self
    }

    /// The topologies the scheduler can run on at all.
    pub const fn constraints(mut self, constraints: TopologyConstraints) -> Scheduler {
        self.constraints = constraints;
        self
    }

    pub const fn min_cpus(mut self, n: u32) -> Scheduler {
        self.constraints.min_cpus = Some(n);
        self
    }

    pub const fn max_cpus(mut self, n: u32) -> Scheduler {
        self.constraints.max_cpus = Some(n);
        self
    }

    pub const fn min_llcs(mut self, n: u32) -> Scheduler {
        self.constraints.min_llcs = Some(n);
        self
    }

    pub const fn max_llcs(mut self, n: u32) -> Scheduler {
        self.constraints.max_llcs = Some(n);
        self
    }

    pub const fn min_numa_nodes(mut self, n: u32) -> Scheduler {
        self.constraints.min_numa_nodes = Some(n);
        self
    }

    pub const fn max_numa_nodes(mut self, n: u32) -> Scheduler {
        self.constraints.max_numa_nodes = Some(n);
        self
    }

    pub const fn requires_smt(mut self) -> Scheduler {
        self.constraints.requires_smt = true;
        self
    }

    /// Check overrides of this scheduler, merged as defaults → scheduler → test.
    pub const fn assert(mut self, assert: Assert) -> Scheduler {
        self.assert = assert;
        self
    }

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
        match plain.binary_name().and_then(crate::schedulers::by_binary) {
            Some(declared) => Scheduler {
                kind: plain.kind,
                ..declared.clone()
            },
            None => plain,
        }
    }

    const fn with_kind(kind: Kind) -> Scheduler {
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

    /// The arguments that make this scheduler print libbpf's log (the verifier's among it). When it
    /// fails to load, the guest starts it once more with them and the verdict quotes the cause. In-tree,
    /// installed and named schedulers default to `-v`; a binary given by path has none unless set here.
    pub fn diagnostic_args<I, S>(self, args: I) -> Result<Scheduler, SchedulerError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let args = self.checked_args(Vec::new(), args)?;
        Ok(Scheduler {
            diagnostic_args: Some(args.into()),
            ..self
        })
    }

    /// Appends command-line arguments for the scheduler binary.
    pub fn args<I, S>(self, args: I) -> Result<Scheduler, SchedulerError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let all = self.checked_args(self.extra_args().to_vec(), args)?;
        Ok(Scheduler {
            args: Some(all.into()),
            ..self
        })
    }

    /// `before` followed by `args`, refusing any for EEVDF and any argument with a NUL byte.
    fn checked_args<I, S>(
        &self,
        mut before: Vec<String>,
        args: I,
    ) -> Result<Vec<String>, SchedulerError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if self.is_eevdf() {
            return Err(SchedulerError::ArgsForEevdf);
        }
        for arg in args {
            let arg = arg.into();
            if arg.contains('\0') {
                return Err(SchedulerError::ArgWithNul {
                    name: self.name().to_string(),
                    index: before.len(),
                    arg,
                });
            }
            before.push(arg);
        }
        Ok(before)
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

    fn bad_profile(&self, profile: &str, why: String) -> SchedulerError {
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

    /// Finds the binary on the host; `in_tree` maps an in-tree name to the booted kernel's build of it.
    /// Installed schedulers come from the store in ktstr's cache directory. `Ok(None)` for EEVDF.
    pub fn locate(
        &self,
        in_tree: impl Fn(&str) -> Option<PathBuf>,
    ) -> Result<Option<LocatedBinary>, SchedulerError> {
        match self.kind {
            Kind::Installed { .. } | Kind::Named(_) => {
                let store = SchedulerStore::from_env().map_err(store_error)?;
                self.locate_in(in_tree, &store)
            }
            _ => self.locate_in(in_tree, &SchedulerStore::at("/nonexistent")),
        }
    }

    /// `locate` with an explicit store.
    pub fn locate_in(
        &self,
        in_tree: impl Fn(&str) -> Option<PathBuf>,
        store: &SchedulerStore,
    ) -> Result<Option<LocatedBinary>, SchedulerError> {
        let find_installed =
            |name: &str, version: Option<&str>| store.find(name, version).map_err(store_error);
        let found = |path: PathBuf, source| Ok(Some(LocatedBinary { path, source }));
        match &self.kind {
            Kind::Eevdf => Ok(None),
            Kind::InTree(name) => match in_tree(name) {
                Some(path) => found(path, BinarySource::KernelTree),
                None => Err(SchedulerError::InTreeNotBuilt {
                    name: name.to_string(),
                }),
            },
            Kind::Binary { name, host_path } => given_file(name, host_path).map(Some),
            Kind::DeclaredPath(path) => given_file(self.name(), Path::new(path)).map(Some),
            Kind::Installed { name, version } => match find_installed(name, version.as_deref())? {
                Some(installed) => Ok(Some(located_installed(installed))),
                None => Err(SchedulerError::NotInstalled {
                    spec: match version {
                        Some(v) => format!("{name}@{v}"),
                        None => name.to_string(),
                    },
                }),
            },
            Kind::Named(name) => {
                if let Some(installed) = find_installed(name, None)? {
                    return Ok(Some(located_installed(installed)));
                }
                let targets = lookup::cargo_target_dirs();
                if let Some(path) = lookup::find_in_target_dirs(name, &targets) {
                    return found(path, BinarySource::TargetDir);
                }
                if let Some(path) = lookup::find_in_path(name) {
                    return found(path, BinarySource::Path);
                }
                Err(SchedulerError::NotFound {
                    name: name.to_string(),
                    target_dirs: targets
                        .iter()
                        .map(|d| d.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            }
        }
    }

    pub fn is_eevdf(&self) -> bool {
        self.kind == Kind::Eevdf
    }

    /// The arguments given with `args`, in order.
    pub fn extra_args(&self) -> &[String] {
        self.args.as_deref().unwrap_or(&[])
    }

    /// Every argument a run passes: the declaration's, the profile's flags', then `args`.
    pub fn all_args(&self) -> Vec<String> {
        let profile = self.profile.iter().flat_map(|p| p.args());
        self.sched_args
            .iter()
            .copied()
            .chain(profile)
            .map(String::from)
            .chain(self.extra_args().iter().cloned())
            .collect()
    }

    fn default_diagnostic_args(&self) -> &'static [&'static str] {
        match self.kind {
            Kind::Eevdf | Kind::Binary { .. } | Kind::DeclaredPath(_) => &[],
            _ => &LIBBPF_VERBOSE_ARGS,
        }
    }

    /// The scheduler layer of the check thresholds.
    pub fn assert_overrides(&self) -> Assert {
        self.assert
    }

    /// The form sent to the guest.
    pub fn spec(&self) -> SchedulerSpec {
        let diagnostic_args = match &self.diagnostic_args {
            Some(args) => args.to_vec(),
            None => self
                .default_diagnostic_args()
                .iter()
                .map(|a| a.to_string())
                .collect(),
        };
        SchedulerSpec {
            name: self.name().to_string(),
            guest_binary: self.guest_path(),
            args: self.all_args(),
            diagnostic_args,
        }
    }
}

/// The scheduler binary at a path the test gave, checked.
fn given_file(name: &str, path: &Path) -> Result<LocatedBinary, SchedulerError> {
    if !path.is_file() {
        return Err(SchedulerError::NoSuchFile {
            path: format!("{} (scheduler {name})", path.display()),
        });
    }
    check_elf(path)?;
    Ok(LocatedBinary {
        path: path.to_path_buf(),
        source: BinarySource::Given,
    })
}

/// `check_name`'s rule, usable in a `const` declaration.
const fn name_is_valid(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes[0] == b'.' || bytes[0] == b'-' {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if !(c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.') {
            return false;
        }
        i += 1;
    }
    true
}

/// A scheduler must be an executable ELF file: anything else fails in the guest, far from its cause.
fn check_elf(path: &Path) -> Result<(), SchedulerError> {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let not_elf = |why: &str| SchedulerError::NotExecutable {
        path: path.display().to_string(),
        why: why.to_string(),
    };
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .map_err(|_| not_elf("it is shorter than an ELF header or unreadable"))?;
    if &magic != b"\x7fELF" {
        return Err(not_elf("it is not an ELF executable"));
    }
    let mode = std::fs::metadata(path).map_or(0, |m| m.permissions().mode());
    if mode & 0o111 == 0 {
        return Err(not_elf("it is not executable (chmod +x it)"));
    }
    Ok(())
}

fn store_error(e: super::InstallError) -> SchedulerError {
    SchedulerError::Store {
        detail: e.to_string(),
    }
}

fn located_installed(installed: super::InstalledScheduler) -> LocatedBinary {
    LocatedBinary {
        path: installed.binary,
        source: BinarySource::Installed {
            version: installed.metadata.version,
        },
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
