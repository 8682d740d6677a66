//! Base initramfs archives cached by content: `<cache>/initramfs/<sha256>.cpio`.
//!
//! The key is a digest of every member (path, mode, bytes), so a rebuilt binary or an upgraded library gives a
//! new key and an unchanged set reuses the stored archive. Archives are written to a temp file and renamed into
//! place, so a reader never sees a partial one and concurrent builders of one key both succeed.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::libsearch::LibrarySearch;
use super::{InitramfsSpec, VmError};

/// Changes whenever the archive writer's output for equal members changes.
const LAYOUT_VERSION: &[u8] = b"ktstr-initramfs-v1";

/// A directory of cached base archives.
#[derive(Debug, Clone)]
pub struct InitramfsCache {
    dir: PathBuf,
}

/// A base archive ready to boot or to extend with trial files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseInitramfs {
    pub path: PathBuf,
    /// The hex content key.
    pub key: String,
    /// Whether the archive was already in the cache.
    pub reused: bool,
}

/// The ktstr cache root: `KTSTR_CACHE_DIR`, else `$XDG_CACHE_HOME/ktstr`, else `~/.cache/ktstr`.
pub fn ktstr_cache_dir() -> Result<PathBuf, VmError> {
    cache_dir_from(|name| std::env::var_os(name))
}

/// [`ktstr_cache_dir`] over any variable lookup; empty values count as unset.
fn cache_dir_from(var: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf, VmError> {
    let var = |name| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("KTSTR_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("ktstr")))
        .or_else(|| var("HOME").map(|h| h.join(".cache/ktstr")))
        .ok_or(VmError::NoCacheDir)
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
        if path.is_file() {
            return Ok(BaseInitramfs {
                path,
                key,
                reused: true,
            });
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| VmError::io("create", &self.dir, e))?;
        let temp = tempfile::NamedTempFile::new_in(&self.dir)
            .map_err(|e| VmError::io("create a temp file in", &self.dir, e))?;
        let mut out = archive
            .write_to(std::io::BufWriter::new(temp))
            .map_err(|e| VmError::io("write", &path, e))?;
        out.flush().map_err(|e| VmError::io("write", &path, e))?;
        let temp = out
            .into_inner()
            .map_err(|e| VmError::io("write", &path, e.into_error()))?;
        temp.persist(&path)
            .map_err(|e| VmError::io("store", &path, e.error))?;
        Ok(BaseInitramfs {
            path,
            key,
            reused: false,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut text, b| {
        let _ = write!(text, "{b:02x}");
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn cache_dir_resolution_order() {
        let cases = [
            ([Some("/k"), Some("/x"), Some("/h")], Some("/k")),
            ([Some(""), Some("/x"), Some("/h")], Some("/x/ktstr")),
            ([None, None, Some("/h")], Some("/h/.cache/ktstr")),
            ([None, Some(""), Some("")], None),
        ];
        for (values, want) in cases {
            let lookup = |name: &str| {
                let index = ["KTSTR_CACHE_DIR", "XDG_CACHE_HOME", "HOME"]
                    .iter()
                    .position(|k| *k == name)?;
                values[index].map(OsString::from)
            };
            let got = cache_dir_from(lookup).ok();
            assert_eq!(got, want.map(PathBuf::from), "{values:?}");
        }
    }
}
