//! Base initramfs archives cached by content: `<cache>/initramfs/<sha256>.cpio`.
//!
//! The key is a digest of every member (path, mode, bytes), so a rebuilt binary or an upgraded library gives a
//! new key and an unchanged set reuses the stored archive. Archives are written to a temp file and renamed into
//! place, so a reader never sees a partial one and concurrent builders of one key both succeed.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use nix::fcntl::Flock;
use sha2::{Digest, Sha256};

use super::archive::Archive;
use super::libsearch::LibrarySearch;
use super::{InitramfsSpec, VmError};

/// Changes whenever the archive writer's output for equal members changes.
const LAYOUT_VERSION: &[u8] = b"ktstr-initramfs-v1";

/// A directory of cached base archives.
#[derive(Debug, Clone)]
pub struct InitramfsCache {
    dir: PathBuf,
}

/// A base archive ready to boot or to extend with trial files. While a value (or a clone) lives, the archive
/// holds a shared lock that keeps a trim of the cache from evicting it.
#[derive(Debug, Clone)]
pub struct BaseInitramfs {
    pub path: PathBuf,
    /// The hex content key.
    pub key: String,
    /// Whether the archive was already in the cache.
    pub reused: bool,
    _in_use: std::sync::Arc<Flock<File>>,
}

impl PartialEq for BaseInitramfs {
    fn eq(&self, other: &Self) -> bool {
        (&self.path, &self.key, self.reused) == (&other.path, &other.key, other.reused)
    }
}

/// A shared lock on `file` (opened from `path`), waiting for it.
fn shared_lock(mut file: File, path: &Path) -> Result<Flock<File>, VmError> {
    loop {
        match Flock::lock(file, nix::fcntl::FlockArg::LockShared) {
            Ok(lock) => return Ok(lock),
            Err((again, nix::errno::Errno::EINTR)) => file = again,
            Err((_, errno)) => return Err(VmError::io("lock", path, errno.into())),
        }
    }
}

/// A shared lock on the open `file` at `path`, when `path` still names that file once the lock is held (a
/// trim may have removed it in between); `Ok(None)` when it does not.
fn lock_in_use(file: File, path: &Path) -> Result<Option<Flock<File>>, VmError> {
    use std::os::unix::fs::MetadataExt;
    let lock = shared_lock(file, path)?;
    let held = lock.metadata().map_err(|e| VmError::io("stat", path, e))?;
    match std::fs::metadata(path) {
        Ok(named) if (named.dev(), named.ino()) == (held.dev(), held.ino()) => Ok(Some(lock)),
        _ => Ok(None),
    }
}

/// A shared lock on the archive stored at `path`, or `None` when there is none.
fn find_stored(path: &Path) -> Result<Option<Flock<File>>, VmError> {
    // A trim may remove the archive between opening and locking it: then look again.
    loop {
        let Ok(file) = File::open(path) else {
            return Ok(None);
        };
        if let Some(lock) = lock_in_use(file, path)? {
            // A use counts as recent for the least-recently-used eviction.
            let _ = lock.set_modified(std::time::SystemTime::now());
            return Ok(Some(lock));
        }
    }
}

/// The ktstr cache root ([`crate::sys::cache_root`]), or [`VmError::NoCacheDir`] when none is set.
pub fn ktstr_cache_dir() -> Result<PathBuf, VmError> {
    crate::sys::cache_root().ok_or(VmError::NoCacheDir)
}

impl InitramfsCache {
    /// The `initramfs` directory of the ktstr cache.
    pub fn from_env() -> Result<InitramfsCache, VmError> {
        Ok(InitramfsCache::at(ktstr_cache_dir()?.join("initramfs")))
    }

    /// A cache kept in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> InitramfsCache {
        InitramfsCache { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The base archive for `spec`, built and stored unless an identical one is already here.
    pub fn base(&self, spec: &InitramfsSpec) -> Result<BaseInitramfs, VmError> {
        let archive = spec.to_archive(&LibrarySearch::host()?)?;
        let mut hash = Sha256::new();
        hash.update(LAYOUT_VERSION);
        hash.update(archive.digest());
        let key = hex(&hash.finalize());
        let path = self.dir.join(format!("{key}.cpio"));
        let (lock, reused) = match find_stored(&path)? {
            Some(lock) => (lock, true),
            None => (self.store(&archive, &path)?, false),
        };
        Ok(BaseInitramfs {
            path,
            key,
            reused,
            _in_use: std::sync::Arc::new(lock),
        })
    }

    /// Writes `archive` to `path` by way of a temp file and returns it locked, then trims the cache.
    fn store(&self, archive: &Archive, path: &Path) -> Result<Flock<File>, VmError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| VmError::io("create", &self.dir, e))?;
        let temp = tempfile::NamedTempFile::new_in(&self.dir)
            .map_err(|e| VmError::io("create a temp file in", &self.dir, e))?;
        let mut out = archive
            .write_to(std::io::BufWriter::new(temp))
            .map_err(|e| VmError::io("write", path, e))?;
        out.flush().map_err(|e| VmError::io("write", path, e))?;
        let temp = out
            .into_inner()
            .map_err(|e| VmError::io("write", path, e.into_error()))?;
        // Locked before it has its name, so no trim can take it from under this trial.
        let handle = temp
            .reopen()
            .map_err(|e| VmError::io("open", temp.path(), e))?;
        let lock = shared_lock(handle, path)?;
        temp.persist(path)
            .map_err(|e| VmError::io("store", path, e.error))?;
        if let Err(e) = self.trim(cache_cap()?) {
            eprintln!("ktstr: trimming the initramfs cache: {e}");
        }
        Ok(lock)
    }

    /// The archives here: `(path, bytes, last use)`, least recently used first.
    pub fn entries(&self) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
        let Ok(read) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut entries: Vec<_> = read
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "cpio"))
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                Some((e.path(), meta.len(), meta.modified().ok()?))
            })
            .collect();
        entries.sort_by_key(|(_, _, used)| *used);
        entries
    }

    /// Removes the least recently used archives until the cache holds at most `cap` bytes, never one a run
    /// is using (it holds the archive's shared lock from `base` until its trial ends). One trim at a time: a
    /// trim that finds another running leaves the work to it.
    pub fn trim(&self, cap: u64) -> Result<TrimReport, VmError> {
        if !self.dir.is_dir() {
            return Ok(TrimReport::default());
        }
        let lock_path = self.dir.join(".trim.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| VmError::io("open", &lock_path, e))?;
        let _trimming = match Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(lock) => lock,
            Err(_) => return Ok(TrimReport::default()),
        };
        let entries = self.entries();
        let mut total: u64 = entries.iter().map(|(_, size, _)| size).sum();
        let mut report = TrimReport::default();
        for (path, size, _) in entries {
            if total <= cap {
                break;
            }
            let Ok(file) = std::fs::File::open(&path) else {
                continue;
            };
            // In use: a run holds it shared.
            let Ok(_evicting) = Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock)
            else {
                report.in_use += 1;
                continue;
            };
            std::fs::remove_file(&path).map_err(|e| VmError::io("remove", &path, e))?;
            total -= size;
            report.removed.push((path, size));
        }
        report.kept_bytes = total;
        Ok(report)
    }
}

/// What a trim removed and what it left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrimReport {
    pub removed: Vec<(PathBuf, u64)>,
    pub kept_bytes: u64,
    /// Archives over the cap kept because a run is using them.
    pub in_use: usize,
}

/// `KTSTR_INITRAMFS_CACHE_MB`: the size the initramfs cache is trimmed to.
pub const CACHE_CAP_ENV: &str = "KTSTR_INITRAMFS_CACHE_MB";

/// The default cap: room for a few dozen images of slim test binaries.
pub const DEFAULT_CACHE_CAP_MB: u64 = 1024;

/// The initramfs cache's cap in bytes: `KTSTR_INITRAMFS_CACHE_MB`, else 1024 MiB.
pub fn cache_cap() -> Result<u64, VmError> {
    match std::env::var(CACHE_CAP_ENV) {
        Ok(text) if !text.trim().is_empty() => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|mb| *mb > 0)
            .map(|mb| mb << 20)
            .ok_or(VmError::BadCacheCap { value: text }),
        _ => Ok(DEFAULT_CACHE_CAP_MB << 20),
    }
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut text, b| {
        let _ = write!(text, "{b:02x}");
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_removes_the_least_recently_used_past_the_cap_but_nothing_in_use() {
        use std::time::{Duration, SystemTime};
        let dir = tempfile::tempdir().unwrap();
        let cache = InitramfsCache::at(dir.path());
        let hour = Duration::from_secs(3600);
        for (name, age_hours) in [("old", 4), ("used", 3), ("mid", 2), ("new", 1)] {
            let path = dir.path().join(format!("{name}.cpio"));
            std::fs::write(&path, vec![0u8; 1000]).unwrap();
            let f = std::fs::File::options().append(true).open(&path).unwrap();
            f.set_modified(SystemTime::now() - hour * age_hours)
                .unwrap();
        }
        // A run holds "used": it is never evicted, however old.
        let file = std::fs::File::open(dir.path().join("used.cpio")).unwrap();
        let held = lock_in_use(file, &dir.path().join("used.cpio"))
            .unwrap()
            .unwrap();
        let report = cache.trim(2500).unwrap();
        let removed: Vec<String> = report
            .removed
            .iter()
            .map(|(p, _)| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(removed, ["old", "mid"]);
        assert_eq!((report.kept_bytes, report.in_use), (2000, 1));
        drop(held);
        let report = cache.trim(0).unwrap();
        assert_eq!(report.removed.len(), 2);
        assert!(cache.entries().is_empty());
    }

    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        assert_eq!(hex(&[]), "");
    }
}
