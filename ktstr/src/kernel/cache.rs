//! The kernel cache: `<root>/kernels/<key>/` entries, built in `.tmp/` and renamed into place, with
//! per-key locks in `.locks/` and build logs in `.logs/`. A dot-directory is never an entry, so an
//! interrupted build leaves at most a scratch directory that the next build or `clean` removes.

use std::path::{Path, PathBuf};

use nix::fcntl::{renameat2, RenameFlags};
use tempfile::TempDir;

use super::entry::CacheEntry;
use super::error::KernelError;
use super::lock::{KeyLock, LockMode};

const LOCKS: &str = ".locks";
const TMP: &str = ".tmp";
const LOGS: &str = ".logs";

/// One directory in the cache: a loaded entry, or one that is damaged.
#[derive(Debug)]
pub enum Listing {
    Valid(CacheEntry),
    Corrupt { key: String, error: KernelError },
}

/// What [`Cache::clean`] did.
#[derive(Debug, Default)]
pub struct CleanReport {
    pub removed: Vec<String>,
    pub kept: Vec<String>,
    /// Entries skipped because a build or a test holds their lock.
    pub busy: Vec<String>,
}

/// A kernel cache rooted at one directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache at `KTSTR_CACHE_DIR`, else `$XDG_CACHE_HOME/ktstr`, else `~/.cache/ktstr`.
    pub fn from_env() -> Result<Cache, KernelError> {
        Ok(Cache::at(
            crate::sys::cache_root().ok_or(KernelError::NoCacheDir)?,
        ))
    }

    /// The cache whose kernels live under `base/kernels`.
    pub fn at(base: impl Into<PathBuf>) -> Cache {
        Cache {
            root: base.into().join("kernels"),
        }
    }

    /// The directory holding the entries.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every entry, valid or damaged, newest build first (damaged ones last).
    pub fn list(&self) -> Result<Vec<Listing>, KernelError> {
        let read = match std::fs::read_dir(&self.root) {
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(KernelError::io("read", &self.root, e)),
        };
        let mut listings: Vec<Listing> = read
            .flatten()
            .filter(|e| {
                e.file_type().is_ok_and(|t| t.is_dir())
                    && !e.file_name().to_string_lossy().starts_with('.')
            })
            .map(|e| match CacheEntry::load(&e.path()) {
                Ok(entry) => Listing::Valid(entry),
                Err(error) => Listing::Corrupt {
                    key: e.file_name().to_string_lossy().into_owned(),
                    error,
                },
            })
            .collect();
        listings.sort_by_key(|l| match l {
            Listing::Valid(e) => (
                0,
                std::cmp::Reverse(e.metadata().built_at_unix),
                e.key().to_string(),
            ),
            Listing::Corrupt { key, .. } => (1, std::cmp::Reverse(0), key.clone()),
        });
        Ok(listings)
    }

    /// The valid entries, newest first.
    pub fn entries(&self) -> Result<Vec<CacheEntry>, KernelError> {
        Ok(self
            .list()?
            .into_iter()
            .filter_map(|l| match l {
                Listing::Valid(e) => Some(e),
                Listing::Corrupt { .. } => None,
            })
            .collect())
    }

    /// The entry under `key`, if there is a valid one.
    pub fn entry(&self, key: &str) -> Result<Option<CacheEntry>, KernelError> {
        let dir = self.root.join(key);
        if key.starts_with('.') || key.contains('/') || !dir.is_dir() {
            return Ok(None);
        }
        CacheEntry::load(&dir).map(Some)
    }

    /// The log file of the latest build of `key`.
    pub fn log_path(&self, key: &str) -> PathBuf {
        self.root.join(LOGS).join(format!("{key}.log"))
    }

    /// Takes the lock of `key`.
    pub(crate) fn lock(&self, key: &str, mode: LockMode) -> Result<Option<KeyLock>, KernelError> {
        let dir = self.root.join(LOCKS);
        std::fs::create_dir_all(&dir).map_err(|e| KernelError::io("create", &dir, e))?;
        KeyLock::acquire(&dir.join(format!("{key}.lock")), mode)
    }

    /// Takes the lock of `key`, waiting for it (`Exclusive` or `Shared`).
    pub(crate) fn lock_wait(&self, key: &str, mode: LockMode) -> Result<KeyLock, KernelError> {
        let path = self.root.join(LOCKS).join(format!("{key}.lock"));
        self.lock(key, mode)?
            .ok_or_else(|| KernelError::io("lock", path, std::io::ErrorKind::WouldBlock.into()))
    }

    /// A fresh scratch directory for building `key`, after removing ones left by interrupted
    /// builds. The caller must hold the key's exclusive lock.
    pub(crate) fn scratch(&self, key: &str) -> Result<TempDir, KernelError> {
        let tmp = self.root.join(TMP);
        for dir in [&tmp, &self.root.join(LOGS)] {
            std::fs::create_dir_all(dir).map_err(|e| KernelError::io("create", dir, e))?;
        }
        remove_matching(&tmp, |name| name.starts_with(&format!("{key}.")))?;
        tempfile::Builder::new()
            .prefix(&format!("{key}."))
            .tempdir_in(&tmp)
            .map_err(|e| KernelError::io("create a directory in", &tmp, e))
    }

    /// Moves a complete entry directory into place as `key`, atomically swapping out an old one,
    /// which then sits at `staged` (inside the scratch directory) until that is removed.
    /// The caller must hold the key's exclusive lock.
    pub(crate) fn install(&self, staged: &Path, key: &str) -> Result<CacheEntry, KernelError> {
        let target = self.root.join(key);
        let flags = if target.exists() {
            RenameFlags::RENAME_EXCHANGE
        } else {
            RenameFlags::RENAME_NOREPLACE
        };
        renameat2(None, staged, None, &target, flags)
            .map_err(|errno| KernelError::io("move the new entry to", &target, errno.into()))?;
        CacheEntry::load(&target)
    }

    /// Removes all but the `keep` newest valid entries, every damaged entry, and stale scratch
    /// directories and logs; anything whose lock is held is left alone and reported busy.
    pub fn clean(&self, keep: usize) -> Result<CleanReport, KernelError> {
        let mut report = CleanReport::default();
        let mut valid_seen = 0;
        for listing in self.list()? {
            let key = match &listing {
                Listing::Valid(e) => e.key().to_string(),
                Listing::Corrupt { key, .. } => key.clone(),
            };
            if matches!(listing, Listing::Valid(_)) && valid_seen < keep {
                valid_seen += 1;
                report.kept.push(key);
                continue;
            }
            let Some(_lock) = self.lock(&key, LockMode::TryExclusive)? else {
                report.busy.push(key);
                continue;
            };
            let dir = self.root.join(&key);
            std::fs::remove_dir_all(&dir).map_err(|e| KernelError::io("remove", &dir, e))?;
            let _ = std::fs::remove_file(self.log_path(&key));
            report.removed.push(key);
        }
        self.remove_stale_scratch()?;
        Ok(report)
    }

    /// Removes scratch directories whose key no build holds.
    fn remove_stale_scratch(&self) -> Result<(), KernelError> {
        let tmp = self.root.join(TMP);
        let Ok(read) = std::fs::read_dir(&tmp) else {
            return Ok(());
        };
        for e in read.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some((key, _)) = name.rsplit_once('.') else {
                continue;
            };
            if let Some(_lock) = self.lock(key, LockMode::TryExclusive)? {
                std::fs::remove_dir_all(e.path())
                    .map_err(|err| KernelError::io("remove", e.path(), err))?;
            }
        }
        Ok(())
    }
}

fn remove_matching(dir: &Path, matches: impl Fn(&str) -> bool) -> Result<(), KernelError> {
    let read = std::fs::read_dir(dir).map_err(|e| KernelError::io("read", dir, e))?;
    for e in read
        .flatten()
        .filter(|e| matches(&e.file_name().to_string_lossy()))
    {
        std::fs::remove_dir_all(e.path())
            .map_err(|err| KernelError::io("remove", e.path(), err))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::entry::{tests::sample, BZIMAGE, CONFIG, METADATA};

    fn stage(dir: &Path, key: &str, built_at: u64) {
        std::fs::create_dir_all(dir).unwrap();
        let meta = crate::kernel::entry::Metadata {
            built_at_unix: built_at,
            ..sample(key)
        };
        std::fs::write(dir.join(METADATA), serde_json::to_string(&meta).unwrap()).unwrap();
        std::fs::write(dir.join(BZIMAGE), key).unwrap();
        std::fs::write(dir.join(CONFIG), "").unwrap();
    }

    fn keys(cache: &Cache) -> Vec<String> {
        cache
            .entries()
            .unwrap()
            .iter()
            .map(|e| e.key().to_string())
            .collect()
    }

    #[test]
    fn install_lists_newest_first_and_replaces_atomically() {
        let base = tempfile::tempdir().unwrap();
        let cache = Cache::at(base.path());
        assert!(cache.list().unwrap().is_empty());
        for (key, at) in [("a", 10), ("b", 30), ("c", 20)] {
            let scratch = cache.scratch(key).unwrap();
            stage(&scratch.path().join("entry"), key, at);
            cache.install(&scratch.path().join("entry"), key).unwrap();
        }
        assert_eq!(keys(&cache), ["b", "c", "a"]);
        let scratch = cache.scratch("a").unwrap();
        stage(&scratch.path().join("entry"), "a", 40);
        cache.install(&scratch.path().join("entry"), "a").unwrap();
        drop(scratch);
        assert_eq!(keys(&cache), ["a", "b", "c"]);
        assert_eq!(
            std::fs::read_dir(cache.root().join(TMP)).unwrap().count(),
            0
        );
    }

    #[test]
    fn clean_keeps_the_newest_removes_corrupt_and_skips_busy() {
        let base = tempfile::tempdir().unwrap();
        let cache = Cache::at(base.path());
        for (key, at) in [("old", 1), ("mid", 2), ("new", 3)] {
            stage(&cache.root().join(key), key, at);
        }
        std::fs::create_dir_all(cache.root().join("junk")).unwrap();
        let stale = cache.scratch("gone").unwrap().keep();
        let busy = cache.lock("old", LockMode::Shared).unwrap();
        let report = cache.clean(1).unwrap();
        assert_eq!(report.kept, ["new"]);
        assert_eq!(report.busy, ["old"]);
        assert_eq!(report.removed, ["mid", "junk"]);
        assert!(
            !stale.exists(),
            "scratch left by an interrupted build is removed"
        );
        drop(busy);
        assert_eq!(cache.clean(0).unwrap().removed, ["new", "old"]);
        assert!(cache.list().unwrap().is_empty());
    }

    #[test]
    fn entry_rejects_keys_that_are_not_plain_names() {
        let base = tempfile::tempdir().unwrap();
        let cache = Cache::at(base.path());
        stage(&cache.root().join("k"), "k", 1);
        assert!(cache.entry("k").unwrap().is_some());
        for key in ["../kernels/k", ".tmp", "missing"] {
            assert!(cache.entry(key).unwrap().is_none(), "{key}");
        }
    }
}
