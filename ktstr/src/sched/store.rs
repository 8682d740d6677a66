//! Installed schedulers: published scheduler crates (the sched-ext project's `scx_*`) that
//! `ktstr scheduler install` built into ktstr's cache, one directory per name and version:
//! `<cache>/schedulers/<name>/<version>/{<name>, metadata.json}`. A version directory appears by
//! rename when its build is complete, so a listed entry is always whole.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::install::InstallError;
use crate::kernel::KernelError;

pub(crate) const METADATA: &str = "metadata.json";

/// What an installed scheduler's `metadata.json` records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstalledMetadata {
    pub name: String,
    pub version: String,
    /// The crate's registry, as cargo names it (`crates.io` for published ones).
    pub source: String,
    pub built_at_unix: u64,
    pub build_secs: f64,
}

/// One installed scheduler binary.
#[derive(Debug, Clone, PartialEq)]
pub struct InstalledScheduler {
    pub metadata: InstalledMetadata,
    pub binary: PathBuf,
}

/// The directory of installed schedulers.
#[derive(Debug, Clone)]
pub struct SchedulerStore {
    root: PathBuf,
}

impl SchedulerStore {
    /// The store in ktstr's cache directory (`KTSTR_CACHE_DIR`, `$XDG_CACHE_HOME/ktstr`, `~/.cache/ktstr`).
    pub fn from_env() -> Result<SchedulerStore, InstallError> {
        let root = crate::sys::cache_root().ok_or(KernelError::NoCacheDir)?;
        Ok(SchedulerStore::at(root))
    }

    /// The store under `base/schedulers`.
    pub fn at(base: impl Into<PathBuf>) -> SchedulerStore {
        SchedulerStore {
            root: base.into().join("schedulers"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every installed scheduler, by name, newest version first. Incomplete directories are skipped.
    pub fn list(&self) -> Result<Vec<InstalledScheduler>, InstallError> {
        let mut all = Vec::new();
        for name_dir in read_dirs(&self.root)? {
            for version_dir in read_dirs(&name_dir)? {
                if let Some(installed) = load(&version_dir) {
                    all.push(installed);
                }
            }
        }
        all.sort_by(|a, b| {
            a.metadata
                .name
                .cmp(&b.metadata.name)
                .then_with(|| compare_versions(&b.metadata.version, &a.metadata.version))
        });
        Ok(all)
    }

    /// The installed `name` at `version`, or its newest version when `version` is `None`.
    pub fn find(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<Option<InstalledScheduler>, InstallError> {
        Ok(self
            .list()?
            .into_iter()
            .find(|s| s.metadata.name == name && version.is_none_or(|v| s.metadata.version == v)))
    }

    /// Where `name` at `version` lives once installed.
    pub(crate) fn entry_dir(&self, name: &str, version: &str) -> PathBuf {
        self.root.join(name).join(version)
    }

    pub(crate) fn scratch_root(&self) -> PathBuf {
        self.root.join(".tmp")
    }

    pub(crate) fn logs_dir(&self) -> PathBuf {
        self.root.join(".logs")
    }

    pub(crate) fn locks_dir(&self) -> PathBuf {
        self.root.join(".locks")
    }

    /// Cargo's build directory, shared by every install so common dependencies build once.
    pub(crate) fn target_dir(&self) -> PathBuf {
        self.root.join(".target")
    }
}

fn read_dirs(dir: &Path) -> Result<Vec<PathBuf>, InstallError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(InstallError::io("read", dir, e)),
    };
    Ok(entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect())
}

fn load(dir: &Path) -> Option<InstalledScheduler> {
    let text = std::fs::read_to_string(dir.join(METADATA)).ok()?;
    let metadata: InstalledMetadata = serde_json::from_str(&text).ok()?;
    let binary = dir.join(&metadata.name);
    binary
        .is_file()
        .then_some(InstalledScheduler { metadata, binary })
}

/// Orders versions by their numeric dot-separated parts (`1.0.10` after `1.0.9`), then as text.
pub(crate) fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| -> Vec<u64> {
        v.split(['.', '-', '+'])
            .map_while(|p| p.parse().ok())
            .collect()
    };
    parts(a).cmp(&parts(b)).then_with(|| a.cmp(b))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn fake_install(store: &SchedulerStore, name: &str, version: &str) -> PathBuf {
        let dir = store.entry_dir(name, version);
        std::fs::create_dir_all(&dir).unwrap();
        let meta = InstalledMetadata {
            name: name.into(),
            version: version.into(),
            source: "crates.io".into(),
            built_at_unix: 1,
            build_secs: 2.0,
        };
        std::fs::write(dir.join(METADATA), serde_json::to_string(&meta).unwrap()).unwrap();
        std::fs::write(dir.join(name), b"\x7fELF").unwrap();
        dir.join(name)
    }

    #[test]
    fn versions_order_numerically() {
        assert_eq!(compare_versions("1.0.10", "1.0.9"), Ordering::Greater);
        assert_eq!(compare_versions("1.1.0", "1.0.20"), Ordering::Greater);
        assert_eq!(compare_versions("1.0.4", "1.0.4"), Ordering::Equal);
    }

    #[test]
    fn find_picks_the_newest_or_the_named_version_and_skips_incomplete_entries() {
        let base = tempfile::tempdir().unwrap();
        let store = SchedulerStore::at(base.path());
        assert!(store.list().unwrap().is_empty());
        fake_install(&store, "scx_rusty", "1.0.9");
        let newest = fake_install(&store, "scx_rusty", "1.0.10");
        fake_install(&store, "scx_bpfland", "1.1.4");
        std::fs::create_dir_all(store.entry_dir("scx_rusty", "2.0.0")).unwrap();
        std::fs::create_dir_all(store.scratch_root().join("x")).unwrap();
        let found = store.find("scx_rusty", None).unwrap().unwrap();
        assert_eq!(found.binary, newest);
        let old = store.find("scx_rusty", Some("1.0.9")).unwrap().unwrap();
        assert_eq!(old.metadata.version, "1.0.9");
        assert!(store.find("scx_rusty", Some("3.0.0")).unwrap().is_none());
        assert!(store.find("scx_lavd", None).unwrap().is_none());
        let names: Vec<_> = store
            .list()
            .unwrap()
            .into_iter()
            .map(|s| format!("{}@{}", s.metadata.name, s.metadata.version))
            .collect();
        assert_eq!(
            names,
            ["scx_bpfland@1.1.4", "scx_rusty@1.0.10", "scx_rusty@1.0.9"]
        );
    }
}
