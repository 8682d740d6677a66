//! `Scheduler`: the scheduler a test runs under, and `SchedulerSpec`, the form that travels to the guest.
//! A scheduler named without a path is located on the host only when a trial starts, so the same
//! declaration builds in the guest, where neither the cache nor cargo's target directory exists.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{lookup, SchedulerError, SchedulerStore};
use crate::assert::Assert;

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
    /// Installed with `ktstr scheduler install`; the newest version unless one is named.
    Installed {
        name: Arc<str>,
        version: Option<Arc<str>>,
    },
    /// Installed, else built in a cargo target directory, else on `PATH`.
    Named(Arc<str>),
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
    pub const EEVDF: Scheduler = Scheduler {
        kind: Kind::Eevdf,
        args: None,
        diagnostic_args: None,
        attach_timeout: None,
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
        Ok(Scheduler::with_kind(Kind::InTree(known)).verbose_on_failure())
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
        Ok(Scheduler::with_kind(kind).verbose_on_failure())
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
        Ok(Scheduler::with_kind(Kind::Named(name.into())).verbose_on_failure())
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

    fn verbose_on_failure(self) -> Scheduler {
        Scheduler {
            diagnostic_args: Some(LIBBPF_VERBOSE_ARGS.map(String::from).into()),
            ..self
        }
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
        let all = self.checked_args(self.sched_args().to_vec(), args)?;
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

    /// Check overrides of this scheduler, merged as defaults → scheduler → test.
    pub fn assert(self, assert: Assert) -> Scheduler {
        Scheduler { assert, ..self }
    }

    /// The name a test and its report use: `eevdf`, the in-tree name, or the name given to `binary`.
    pub fn name(&self) -> &str {
        match &self.kind {
            Kind::Eevdf => "eevdf",
            Kind::InTree(name) => name,
            Kind::Binary { name, .. } | Kind::Installed { name, .. } | Kind::Named(name) => name,
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
            Kind::Binary { name, host_path } => match host_path.is_file() {
                true => {
                    check_elf(host_path)?;
                    found(host_path.to_path_buf(), BinarySource::Given)
                }
                false => Err(SchedulerError::NoSuchFile {
                    path: format!("{} (scheduler {name})", host_path.display()),
                }),
            },
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
            diagnostic_args: self.diagnostic_args.as_deref().unwrap_or(&[]).to_vec(),
        }
    }
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
