//! `Archive`: the entries of a cpio newc archive for the kernel's initramfs unpacker, written in path order.
//!
//! The kernel does not create missing parent directories, so adding an entry adds its ancestors. Every entry
//! is owned by root with mtime 0, so equal inputs give byte-identical archives.

use std::collections::BTreeMap;
use std::io::Write;

use sha2::{Digest, Sha256};

use super::VmError;

/// One archive member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    Dir,
    File { contents: Vec<u8>, mode: u32 },
    Symlink { target: String },
    CharDevice { major: u32, minor: u32, mode: u32 },
}

/// Archive members keyed by absolute path.
#[derive(Debug, Clone, Default)]
pub(crate) struct Archive {
    entries: BTreeMap<String, Entry>,
    /// Who added each path, for duplicate errors.
    origins: BTreeMap<String, String>,
}

const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;

impl Archive {
    /// Adds `entry` at the absolute `path`; `origin` says where it came from. A path given twice is an error
    /// unless both are directories.
    pub(crate) fn add(&mut self, path: &str, entry: Entry, origin: &str) -> Result<(), VmError> {
        validate_path(path)?;
        if let Some(existing) = self.entries.get(path) {
            if *existing == Entry::Dir && entry == Entry::Dir {
                return Ok(());
            }
            return Err(VmError::DuplicateArchivePath {
                path: path.to_string(),
                first: self.origins[path].clone(),
                second: origin.to_string(),
            });
        }
        let mut ancestor = path;
        while let Some((parent, _)) = ancestor.rsplit_once('/').filter(|(p, _)| !p.is_empty()) {
            match self.entries.get(parent) {
                Some(Entry::Dir) => break,
                Some(_) => {
                    return Err(VmError::ArchivePath {
                        path: path.to_string(),
                        reason: "a parent of it is already a file or symlink",
                    })
                }
                None => {
                    self.entries.insert(parent.to_string(), Entry::Dir);
                    self.origins.insert(parent.to_string(), origin.to_string());
                }
            }
            ancestor = parent;
        }
        self.entries.insert(path.to_string(), entry);
        self.origins.insert(path.to_string(), origin.to_string());
        Ok(())
    }

    pub(crate) fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// SHA-256 over every path, kind, mode and content: equal digests mean byte-identical archives.
    pub(crate) fn digest(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        for (path, entry) in &self.entries {
            let (mode, data, rdev) = describe(entry);
            hash.update((path.len() as u64).to_le_bytes());
            hash.update(path.as_bytes());
            hash.update(mode.to_le_bytes());
            hash.update(rdev.0.to_le_bytes());
            hash.update(rdev.1.to_le_bytes());
            hash.update((data.len() as u64).to_le_bytes());
            hash.update(data);
        }
        hash.finalize().into()
    }

    /// Writes the archive, trailer included, to `out`.
    pub(crate) fn write_to<W: Write>(&self, mut out: W) -> std::io::Result<W> {
        for (ino, (path, entry)) in self.entries.iter().enumerate() {
            let (mode, data, (major, minor)) = describe(entry);
            let size = u32::try_from(data.len()).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "entry over 4 GiB")
            })?;
            let nlink = if matches!(entry, Entry::Dir) { 2 } else { 1 };
            let mut writer = cpio::newc::Builder::new(path.trim_start_matches('/'))
                .ino(u32::try_from(ino + 1).unwrap_or(u32::MAX))
                .mode(mode)
                .nlink(nlink)
                .rdev_major(major)
                .rdev_minor(minor)
                .write(out, size);
            writer.write_all(data)?;
            out = writer.finish()?;
        }
        cpio::newc::trailer(out)
    }
}

/// The cpio mode, the data (file contents or link target) and the device numbers of `entry`.
fn describe(entry: &Entry) -> (u32, &[u8], (u32, u32)) {
    match entry {
        Entry::Dir => (S_IFDIR | 0o755, &[], (0, 0)),
        Entry::File { contents, mode } => (S_IFREG | (mode & 0o7777), contents, (0, 0)),
        Entry::Symlink { target } => (S_IFLNK | 0o777, target.as_bytes(), (0, 0)),
        Entry::CharDevice { major, minor, mode } => {
            (S_IFCHR | (mode & 0o7777), &[], (*major, *minor))
        }
    }
}

/// Paths are absolute, normalized and free of NUL.
pub(crate) fn validate_path(path: &str) -> Result<(), VmError> {
    let bad = |reason| {
        Err(VmError::ArchivePath {
            path: path.to_string(),
            reason,
        })
    };
    if !path.starts_with('/') || path == "/" {
        return bad("it must be absolute and not the root itself, like /bin/tool");
    }
    if path.contains('\0') {
        return bad("it contains a NUL byte");
    }
    if path.ends_with('/')
        || path[1..]
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return bad("it must be normalized: no empty, '.' or '..' components and no trailing '/'");
    }
    Ok(())
}

#[cfg(test)]
#[path = "archive_tests.rs"]
pub(crate) mod tests;
