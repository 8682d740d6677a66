//! Finding a scheduler's binary on the host when a trial starts: the kernel cache for an in-tree one, the
//! store for an installed one, the path a test gave, and for a bare name the store, then the cargo target
//! directories of the project being worked on (`$CARGO_TARGET_DIR`, `target/` of each enclosing cargo
//! project, the target directory of the running binary), then `PATH`. A name is looked up only here, so
//! the same declaration builds in the guest, where neither the cache nor a target directory exists.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::elf::check_elf;
use super::scheduler::{Kind, Scheduler};
use super::{InstallError, InstalledScheduler, SchedulerError, SchedulerStore};

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

impl Scheduler {
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
                let targets = cargo_target_dirs();
                if let Some(path) = find_in_target_dirs(name, &targets) {
                    return found(path, BinarySource::TargetDir);
                }
                if let Some(path) = find_in_path(name) {
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

fn store_error(e: InstallError) -> SchedulerError {
    SchedulerError::Store {
        detail: e.to_string(),
    }
}

fn located_installed(installed: InstalledScheduler) -> LocatedBinary {
    LocatedBinary {
        path: installed.binary,
        source: BinarySource::Installed {
            version: installed.metadata.version,
        },
    }
}

/// The cargo target directories worth searching, nearest first, without duplicates.
pub fn cargo_target_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(dir));
    }
    if let Ok(cwd) = std::env::current_dir() {
        dirs.extend(
            cwd.ancestors()
                .filter(|d| d.join("Cargo.toml").is_file())
                .map(|d| d.join("target")),
        );
    }
    if let Ok(exe) = std::env::current_exe() {
        dirs.extend(
            exe.ancestors()
                .find(|d| is_profile_dir(d))
                .and_then(Path::parent)
                .map(Path::to_path_buf),
        );
    }
    let mut unique: Vec<PathBuf> = Vec::new();
    for dir in dirs.into_iter().filter(|d| d.is_dir()) {
        if !unique.contains(&dir) {
            unique.push(dir);
        }
    }
    unique
}

fn is_profile_dir(dir: &Path) -> bool {
    dir.file_name()
        .is_some_and(|n| n == "debug" || n == "release")
        && dir.parent().is_some_and(|p| {
            p.join("CACHEDIR.TAG").is_file() || p.file_name().is_some_and(|n| n == "target")
        })
}

/// The most recently built `<target>/{release,debug}/<name>` among `target_dirs`.
pub fn find_in_target_dirs(name: &str, target_dirs: &[PathBuf]) -> Option<PathBuf> {
    target_dirs
        .iter()
        .flat_map(|t| ["release", "debug"].map(|p| t.join(p).join(name)))
        .filter(|p| is_executable(p))
        .max_by_key(|p| modified(p))
}

/// `name` in a directory of `PATH`.
pub fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn executable(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn the_newest_build_of_any_target_dir_wins_and_plain_files_do_not_count() {
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (root.path().join("a/target"), root.path().join("b/target"));
        executable(&a.join("debug/scx_mine"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        executable(&b.join("release/scx_mine"));
        std::fs::create_dir_all(a.join("release")).unwrap();
        std::fs::write(a.join("release/scx_data"), b"not executable").unwrap();
        let dirs = vec![a.clone(), b.clone()];
        assert_eq!(
            find_in_target_dirs("scx_mine", &dirs),
            Some(b.join("release/scx_mine"))
        );
        assert_eq!(find_in_target_dirs("scx_data", &dirs), None);
        assert_eq!(find_in_target_dirs("scx_none", &dirs), None);
    }

    #[test]
    fn this_test_binary_lies_in_a_found_target_dir() {
        let exe = std::env::current_exe().unwrap();
        let dirs = cargo_target_dirs();
        assert!(
            dirs.iter().any(|d| exe.starts_with(d)),
            "{exe:?} not under {dirs:?}"
        );
    }
}
