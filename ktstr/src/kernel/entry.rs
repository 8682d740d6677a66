//! One cache entry: a directory named by its key holding the boot image, vmlinux, the final
//! `.config`, the schedulers built against it, and `metadata.json` describing the build.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::KernelError;
use super::flavor::KernelFlavor;
use super::source::SourceId;

pub(crate) const BZIMAGE: &str = "bzImage";
pub(crate) const VMLINUX: &str = "vmlinux";
pub(crate) const CONFIG: &str = "config";
pub(crate) const METADATA: &str = "metadata.json";
pub(crate) const SCHED_DIR: &str = "sched";

/// What `metadata.json` records about a build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The cache key, `<version>-kc<config hash>`.
    pub key: String,
    /// The kernel version, as `make kernelversion` prints it.
    pub version: String,
    /// The hash of the kconfig fragment and base the entry was built with.
    pub config_hash: String,
    /// Entries written before flavors existed are the default flavor.
    #[serde(default)]
    pub flavor: KernelFlavor,
    /// What the kernel was built from.
    pub source: SourceId,
    /// When the build finished, in seconds since the Unix epoch.
    pub built_at_unix: u64,
    /// How long the whole build took, in seconds.
    pub build_secs: f64,
    /// The scheduler binaries in the entry's `sched/` directory.
    pub schedulers: Vec<String>,
}

/// A valid cache entry.
#[derive(Debug, Clone)]
pub struct CacheEntry {
    dir: PathBuf,
    metadata: Metadata,
}

/// The key for a version and config hash.
pub fn cache_key(version: &str, flavor: KernelFlavor, config_hash: &str) -> String {
    match flavor {
        KernelFlavor::Default => format!("{version}-kc{config_hash}"),
        other => format!("{version}-{other}-kc{config_hash}"),
    }
}

impl CacheEntry {
    /// Loads and checks the entry in `dir`: metadata that parses and names this key, and a bzImage.
    pub(crate) fn load(dir: &Path) -> Result<CacheEntry, KernelError> {
        let key = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let corrupt = |detail: String| KernelError::CorruptEntry {
            key: key.clone(),
            detail,
        };
        let text = std::fs::read_to_string(dir.join(METADATA))
            .map_err(|e| corrupt(format!("{METADATA}: {e}")))?;
        let metadata: Metadata =
            serde_json::from_str(&text).map_err(|e| corrupt(format!("{METADATA}: {e}")))?;
        if metadata.key != key {
            return Err(corrupt(format!("{METADATA} names key {}", metadata.key)));
        }
        for file in [BZIMAGE, CONFIG] {
            if !dir.join(file).is_file() {
                return Err(corrupt(format!("no {file}")));
            }
        }
        Ok(CacheEntry {
            dir: dir.to_path_buf(),
            metadata,
        })
    }

    /// The cache key.
    pub fn key(&self) -> &str {
        &self.metadata.key
    }

    /// The build record.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The entry directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The bootable image.
    pub fn bzimage(&self) -> PathBuf {
        self.dir.join(BZIMAGE)
    }

    /// The unstripped kernel ELF with symbols and BTF.
    pub fn vmlinux(&self) -> PathBuf {
        self.dir.join(VMLINUX)
    }

    /// The `.config` the kernel was built with.
    pub fn config(&self) -> PathBuf {
        self.dir.join(CONFIG)
    }

    /// The path of a scheduler built into this entry, if it has one by that name.
    pub fn scheduler(&self, name: &str) -> Option<PathBuf> {
        self.metadata
            .schedulers
            .iter()
            .any(|s| s == name)
            .then(|| self.dir.join(SCHED_DIR).join(name))
    }

    /// The total size of the entry's files, in bytes.
    pub fn size_bytes(&self) -> u64 {
        dir_size(&self.dir)
    }
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(read) = std::fs::read_dir(dir) else {
        return 0;
    };
    read.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample(key: &str) -> Metadata {
        Metadata {
            key: key.into(),
            version: "6.12.117".into(),
            config_hash: "abc".into(),
            flavor: KernelFlavor::Default,
            source: SourceId::Tree {
                path: "/src".into(),
            },
            built_at_unix: 1,
            build_secs: 2.5,
            schedulers: vec!["scx_simple".into()],
        }
    }

    #[test]
    fn load_accepts_a_complete_entry_and_names_what_is_wrong_otherwise() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("6.12.117-kcabc");
        std::fs::create_dir(&dir).unwrap();
        let expect_corrupt = |want: &str| match CacheEntry::load(&dir) {
            Err(KernelError::CorruptEntry { detail, .. }) => {
                assert!(detail.contains(want), "{detail}")
            }
            other => panic!("expected corrupt ({want}), got {other:?}"),
        };
        expect_corrupt(METADATA);
        std::fs::write(
            dir.join(METADATA),
            serde_json::to_string(&sample("other")).unwrap(),
        )
        .unwrap();
        expect_corrupt("names key other");
        std::fs::write(
            dir.join(METADATA),
            serde_json::to_string(&sample("6.12.117-kcabc")).unwrap(),
        )
        .unwrap();
        expect_corrupt("no bzImage");
        std::fs::write(dir.join(BZIMAGE), b"x").unwrap();
        std::fs::write(dir.join(CONFIG), b"CONFIG_A=y\n").unwrap();
        let entry = CacheEntry::load(&dir).unwrap();
        assert_eq!(
            entry.scheduler("scx_simple"),
            Some(dir.join("sched/scx_simple"))
        );
        assert_eq!(entry.scheduler("scx_nope"), None);
        assert_eq!(
            entry.size_bytes(),
            1 + 11 + std::fs::metadata(dir.join(METADATA)).unwrap().len()
        );
    }
}
