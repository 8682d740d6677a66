//! Errors from building, caching and resolving guest kernels, each naming its fix.

use std::path::PathBuf;

use super::flavor::KernelFlavor;

/// Which kind of problem a [`KernelError`] is; the CLI maps each to an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The user pointed at something that is not what was asked for.
    BadInput,
    /// A tool or package the build needs is not installed.
    MissingPrerequisite,
    /// A build step ran and failed.
    BuildFailed,
    /// No usable kernel was found.
    NoKernel,
    /// The file system or the cache itself got in the way.
    Environment,
}

/// A kernel build, cache or resolution problem.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("kernel source directory {} does not exist; pass --source with the top of a Linux source tree, or omit --source to build Debian's linux-source-6.12", .path.display())]
    SourceMissing { path: PathBuf },

    #[error("{} is not a Linux 6.12+ source tree (it has no {missing}); pass the top directory of a kernel tree with sched_ext, the one holding Makefile and Kconfig", .path.display())]
    NotAKernelTree {
        path: PathBuf,
        missing: &'static str,
    },

    #[error("{} holds build output ({found}); ktstr builds out of tree, so run `make mrproper` there first", .path.display())]
    TreeNotClean { path: PathBuf, found: &'static str },

    #[error("kernel tarball {} does not exist; pass --tarball with a kernel source .tar.xz, or run scripts/setup.sh to install linux-source-6.12", .path.display())]
    TarballMissing { path: PathBuf },

    #[error("{} is not a readable kernel source tarball ({detail}); download it again, or reinstall Debian's with `apt-get install --reinstall linux-source-6.12`", .path.display())]
    CorruptTarball { path: PathBuf, detail: String },

    #[error("`{tool}` is not in PATH; install the Debian package {package} (scripts/setup.sh installs every build prerequisite)")]
    ToolMissing {
        tool: &'static str,
        package: &'static str,
    },

    #[error("{} is missing; install the Debian package {package} (scripts/setup.sh installs every build prerequisite)", .path.display())]
    HeaderMissing {
        path: PathBuf,
        package: &'static str,
    },

    #[error("installing {package} failed ({detail}); install it by hand, or run scripts/setup.sh as root")]
    InstallFailed {
        package: &'static str,
        detail: String,
    },

    #[error("bad kconfig fragment line {line_no}: {line:?}; write `CONFIG_NAME=value` or `# CONFIG_NAME is not set`")]
    BadFragment { line_no: usize, line: String },

    #[error("required kernel options are not set after olddefconfig: {}; their dependencies are unmet in this tree (inspect them with `make menuconfig`) or the tree predates them (use Linux 6.12 or newer)", .missing.join(", "))]
    MissingOptions { missing: Vec<String> },

    #[error("{step} failed ({status}); full log: {}\n{tail}", .log.display())]
    StepFailed {
        step: String,
        status: String,
        log: PathBuf,
        tail: String,
    },

    #[error("cannot run `{program}` ({source}); install it with scripts/setup.sh")]
    Spawn {
        program: String,
        source: std::io::Error,
    },

    #[error("cannot {action} {}: {source}; check the path and its permissions", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot find a cache directory: KTSTR_CACHE_DIR, XDG_CACHE_HOME and HOME are all unset or empty; set one of them")]
    NoCacheDir,

    #[error("cache entry {key} is damaged ({detail}); remove it with `ktstr kernel clean` and run `ktstr kernel build`")]
    CorruptEntry { key: String, detail: String },

    #[error("no cached {flavor} kernel in {}; run `ktstr kernel build{}` (or set KTSTR_KERNEL to a bzImage, a cache key or a built source tree)", .cache.display(), flavor_flag(*.flavor))]
    NoKernel {
        cache: PathBuf,
        flavor: KernelFlavor,
    },

    #[error("the {count} cached kernel(s) in {} were built with a kconfig other than the current {flavor} flavor's; run `ktstr kernel build{}`", .cache.display(), flavor_flag(*.flavor))]
    OnlyStaleKernels {
        cache: PathBuf,
        count: usize,
        flavor: KernelFlavor,
    },

    #[error("{value:?} is not a kernel flavor; use one of default, debug")]
    UnknownFlavor { value: String },

    #[error("KTSTR_KERNEL={value} is not a file, a directory or a cache key in {}; see the keys with `ktstr kernel list`, or run `ktstr kernel build`", .cache.display())]
    UnknownKernel { value: String, cache: PathBuf },

    #[error("KTSTR_KERNEL={} is not a bzImage ({detail}); point it at arch/x86/boot/bzImage, a key from `ktstr kernel list`, or a built source tree", .path.display())]
    NotAKernelImage { path: PathBuf, detail: String },

    #[error("KTSTR_KERNEL={} has no arch/x86/boot/bzImage; run `make bzImage` there, or `ktstr kernel build --source {}` and unset KTSTR_KERNEL", .path.display(), .path.display())]
    TreeNotBuilt { path: PathBuf },
}

impl KernelError {
    /// The class of this error, for exit codes and callers that branch on it.
    pub fn kind(&self) -> ErrorKind {
        use KernelError::*;
        match self {
            SourceMissing { .. }
            | NotAKernelTree { .. }
            | TreeNotClean { .. }
            | TarballMissing { .. }
            | CorruptTarball { .. }
            | BadFragment { .. }
            | UnknownKernel { .. }
            | NotAKernelImage { .. }
            | TreeNotBuilt { .. }
            | UnknownFlavor { .. } => ErrorKind::BadInput,
            ToolMissing { .. } | HeaderMissing { .. } | InstallFailed { .. } | Spawn { .. } => {
                ErrorKind::MissingPrerequisite
            }
            MissingOptions { .. } | StepFailed { .. } => ErrorKind::BuildFailed,
            NoKernel { .. } | OnlyStaleKernels { .. } => ErrorKind::NoKernel,
            Io { .. } | NoCacheDir | CorruptEntry { .. } => ErrorKind::Environment,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        KernelError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The `--flavor` a command needs to build `flavor`: nothing for the default.
fn flavor_flag(flavor: KernelFlavor) -> String {
    match flavor {
        KernelFlavor::Default => String::new(),
        other => format!(" --flavor {other}"),
    }
}
