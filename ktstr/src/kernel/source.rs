//! Where a kernel is built from: a source tree or a source tarball (Debian's linux-source-6.12 by
//! default), validated up front so bad input fails before any build step runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::error::KernelError;
use super::version::KernelVersion;

/// The tarball Debian's linux-source-6.12 package installs.
pub const DEBIAN_TARBALL: &str = "/usr/src/linux-source-6.12.tar.xz";
/// The Debian package that ships [`DEBIAN_TARBALL`].
pub const DEBIAN_SOURCE_PACKAGE: &str = "linux-source-6.12";

/// A validated kernel source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelSource {
    /// A clean source tree, built out of tree.
    Tree(PathBuf),
    /// A source tarball, extracted into a scratch directory.
    Tarball(PathBuf),
}

/// What an entry was built from, precise enough to tell whether a request is a cache hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceId {
    Tree {
        path: PathBuf,
    },
    Tarball {
        path: PathBuf,
        size: u64,
        mtime_unix: u64,
    },
}

/// Files whose absence shows a directory is no kernel tree ktstr can build.
const TREE_MARKERS: &[&str] = &[
    "Makefile",
    "Kconfig",
    "kernel/sched/ext.c",
    "arch/x86/Kconfig",
    "tools/sched_ext/Makefile",
];
/// Files an in-tree build leaves behind; `make O=...` refuses such a tree.
const BUILD_LEFTOVERS: &[&str] = &[".config", "include/config"];

impl KernelSource {
    /// A source tree: it must exist, hold a kernel with sched_ext, and have no in-tree build output.
    pub fn tree(dir: &Path) -> Result<KernelSource, KernelError> {
        if !dir.is_dir() {
            return Err(KernelError::SourceMissing {
                path: dir.to_path_buf(),
            });
        }
        let dir = dir
            .canonicalize()
            .map_err(|e| KernelError::io("resolve", dir, e))?;
        if let Some(missing) = TREE_MARKERS.iter().find(|m| !dir.join(m).exists()) {
            return Err(KernelError::NotAKernelTree { path: dir, missing });
        }
        if let Some(found) = BUILD_LEFTOVERS.iter().find(|m| dir.join(m).exists()) {
            return Err(KernelError::TreeNotClean { path: dir, found });
        }
        Ok(KernelSource::Tree(dir))
    }

    /// A tarball: it must exist and be a regular file; its contents are checked when read.
    pub fn tarball(file: &Path) -> Result<KernelSource, KernelError> {
        if !file.is_file() {
            return Err(KernelError::TarballMissing {
                path: file.to_path_buf(),
            });
        }
        let file = file
            .canonicalize()
            .map_err(|e| KernelError::io("resolve", file, e))?;
        Ok(KernelSource::Tarball(file))
    }

    /// Debian's linux-source-6.12 tarball, installing the package with apt-get when it is missing.
    pub fn debian_installing() -> Result<KernelSource, KernelError> {
        let tarball = Path::new(DEBIAN_TARBALL);
        if !tarball.is_file() {
            install_debian_package(DEBIAN_SOURCE_PACKAGE)?;
        }
        KernelSource::tarball(tarball)
    }

    /// The identity recorded in cache metadata and compared on later builds.
    pub fn id(&self) -> Result<SourceId, KernelError> {
        match self {
            KernelSource::Tree(path) => Ok(SourceId::Tree { path: path.clone() }),
            KernelSource::Tarball(path) => {
                let meta = path
                    .metadata()
                    .map_err(|e| KernelError::io("stat", path, e))?;
                let mtime = meta
                    .modified()
                    .map_err(|e| KernelError::io("stat", path, e))?;
                let mtime_unix = mtime.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                Ok(SourceId::Tarball {
                    path: path.clone(),
                    size: meta.len(),
                    mtime_unix,
                })
            }
        }
    }

    /// The kernel version; a tarball is read only as far as its top-level Makefile.
    pub fn version(&self) -> Result<KernelVersion, KernelError> {
        match self {
            KernelSource::Tree(dir) => {
                let path = dir.join("Makefile");
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| KernelError::io("read", &path, e))?;
                KernelVersion::from_makefile(&text).ok_or(KernelError::NotAKernelTree {
                    path: dir.clone(),
                    missing: "VERSION/PATCHLEVEL in its Makefile",
                })
            }
            KernelSource::Tarball(file) => {
                let text = tarball_makefile(file)?;
                KernelVersion::from_makefile(&text).ok_or_else(|| KernelError::CorruptTarball {
                    path: file.clone(),
                    detail: "its top-level Makefile has no kernel VERSION/PATCHLEVEL".into(),
                })
            }
        }
    }

    /// A short human description for logs and listings.
    pub fn describe(&self) -> String {
        match self {
            KernelSource::Tree(p) => format!("tree {}", p.display()),
            KernelSource::Tarball(p) => format!("tarball {}", p.display()),
        }
    }
}

impl SourceId {
    /// A short human description for listings.
    pub fn describe(&self) -> String {
        match self {
            SourceId::Tree { path } => format!("tree {}", path.display()),
            SourceId::Tarball { path, .. } => format!("tarball {}", path.display()),
        }
    }
}

/// Reads `<top>/Makefile` out of a tarball, stopping at the first match.
fn tarball_makefile(file: &Path) -> Result<String, KernelError> {
    let mut cmd = Command::new("tar");
    cmd.args(["-xOf"]).arg(file).args([
        "--occurrence=1",
        "--wildcards",
        "--no-wildcards-match-slash",
        "*/Makefile",
    ]);
    let out = cmd.output().map_err(|source| KernelError::Spawn {
        program: "tar".into(),
        source,
    })?;
    let corrupt = |detail: String| KernelError::CorruptTarball {
        path: file.to_path_buf(),
        detail,
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(corrupt(
            stderr
                .lines()
                .last()
                .unwrap_or("tar failed")
                .trim()
                .to_string(),
        ));
    }
    if out.stdout.is_empty() {
        return Err(corrupt("no top-level Makefile in it".into()));
    }
    String::from_utf8(out.stdout).map_err(|_| corrupt("its top-level Makefile is not text".into()))
}

/// Installs one Debian package non-interactively (via sudo when not root).
fn install_debian_package(package: &'static str) -> Result<(), KernelError> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let as_root = unsafe { libc::geteuid() } == 0;
    let apt = |args: &[&str]| {
        let mut cmd = if as_root {
            Command::new("apt-get")
        } else {
            Command::new("sudo")
        };
        if !as_root {
            cmd.arg("apt-get");
        }
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd.status().map_err(|e| KernelError::InstallFailed {
            package,
            detail: e.to_string(),
        })
    };
    apt(&["update", "-qq"])?;
    let status = apt(&["install", "-y", "-qq", "--no-install-recommends", package])?;
    if !status.success() {
        return Err(KernelError::InstallFailed {
            package,
            detail: format!("apt-get {status}"),
        });
    }
    Ok(())
}
