//! Which kernel a VM test boots: `KTSTR_KERNEL` (a bzImage, a cache key or a built source tree),
//! else the newest cache entry built with the current fragment of the wanted flavor, else an error
//! saying to build one.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::cache::Cache;
use super::entry::{CacheEntry, METADATA, SCHED_DIR};
use super::error::KernelError;
use super::flavor::KernelFlavor;
use super::image::check_bzimage;
use super::lock::{KeyLock, LockMode};

/// The environment variable that picks the kernel.
pub const KERNEL_ENV: &str = "KTSTR_KERNEL";

/// Where a resolved kernel came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelOrigin {
    /// `KTSTR_KERNEL` named a bzImage file.
    Image,
    /// `KTSTR_KERNEL` named a built source tree.
    Tree(PathBuf),
    /// A cache entry, by key.
    Cache(String),
}

/// A kernel ready to boot; a cache entry stays share-locked (safe from `clean`) while this lives.
#[derive(Debug)]
pub struct ResolvedKernel {
    image: PathBuf,
    vmlinux: Option<PathBuf>,
    sched_dir: Option<PathBuf>,
    origin: KernelOrigin,
    _lock: Option<KeyLock>,
}

impl ResolvedKernel {
    /// The bzImage to pass to QEMU's `-kernel`.
    pub fn image(&self) -> &Path {
        &self.image
    }

    /// The matching vmlinux, when known.
    pub fn vmlinux(&self) -> Option<&Path> {
        self.vmlinux.as_deref()
    }

    /// Where the kernel came from.
    pub fn origin(&self) -> &KernelOrigin {
        &self.origin
    }

    /// A scheduler built with this kernel (`scx_simple`, ...), when it exists.
    pub fn scheduler(&self, name: &str) -> Option<PathBuf> {
        self.sched_dir
            .as_ref()
            .map(|d| d.join(name))
            .filter(|p| p.is_file())
    }
}

/// Resolves the kernel from `KTSTR_KERNEL`, `KTSTR_KERNEL_FLAVOR` and the cache in the environment.
/// An empty `KTSTR_KERNEL` counts as unset.
pub fn resolve_kernel() -> Result<ResolvedKernel, KernelError> {
    resolve_kernel_flavor(None)
}

/// Like `resolve_kernel`, with the flavor a test asks for; `None` takes `KTSTR_KERNEL_FLAVOR`.
pub fn resolve_kernel_flavor(flavor: Option<KernelFlavor>) -> Result<ResolvedKernel, KernelError> {
    let flavor = match flavor {
        Some(flavor) => flavor,
        None => KernelFlavor::from_env()?,
    };
    let spec = std::env::var_os(KERNEL_ENV).filter(|v| !v.is_empty());
    resolve_kernel_in(spec.as_deref(), flavor, &Cache::from_env()?)
}

/// Resolves `spec` (a `KTSTR_KERNEL` value) against `cache`; `None` picks the newest entry fit for
/// `flavor`. An explicit `spec` wins over the flavor.
pub fn resolve_kernel_in(
    spec: Option<&OsStr>,
    flavor: KernelFlavor,
    cache: &Cache,
) -> Result<ResolvedKernel, KernelError> {
    let Some(spec) = spec else {
        return newest(cache, flavor);
    };
    let path = Path::new(spec);
    if path.is_file() {
        check_bzimage(path)?;
        return Ok(ResolvedKernel {
            image: path.to_path_buf(),
            vmlinux: None,
            sched_dir: None,
            origin: KernelOrigin::Image,
            _lock: None,
        });
    }
    if path.is_dir() {
        return from_dir(path);
    }
    let key = spec.to_string_lossy();
    match cache.entry(&key)? {
        Some(entry) => locked(cache, entry),
        None => Err(KernelError::UnknownKernel {
            value: key.into_owned(),
            cache: cache.root().to_path_buf(),
        }),
    }
}

fn newest(cache: &Cache, flavor: KernelFlavor) -> Result<ResolvedKernel, KernelError> {
    let hash = flavor.fragment().hash();
    let entries = cache.entries()?;
    let count = entries.len();
    match entries
        .into_iter()
        .find(|e| e.metadata().config_hash == hash)
    {
        Some(entry) => locked(cache, entry),
        None if count == 0 => Err(KernelError::NoKernel {
            cache: cache.root().to_path_buf(),
            flavor,
        }),
        None => Err(KernelError::OnlyStaleKernels {
            cache: cache.root().to_path_buf(),
            count,
            flavor,
        }),
    }
}

/// Share-locks an entry, then reloads it in case it changed while waiting for the lock.
fn locked(cache: &Cache, entry: CacheEntry) -> Result<ResolvedKernel, KernelError> {
    let lock = cache.lock_wait(entry.key(), LockMode::Shared)?;
    let entry = CacheEntry::load(entry.dir())?;
    let vmlinux = Some(entry.vmlinux()).filter(|p| p.is_file());
    Ok(ResolvedKernel {
        image: entry.bzimage(),
        vmlinux,
        sched_dir: Some(entry.dir().join(SCHED_DIR)),
        origin: KernelOrigin::Cache(entry.key().to_string()),
        _lock: Some(lock),
    })
}

/// A directory: a cache entry directory, or a kernel tree with a built bzImage.
fn from_dir(dir: &Path) -> Result<ResolvedKernel, KernelError> {
    if dir.join(METADATA).is_file() {
        let entry = CacheEntry::load(dir)?;
        check_bzimage(&entry.bzimage())?;
        let origin = KernelOrigin::Cache(entry.key().to_string());
        let vmlinux = Some(entry.vmlinux()).filter(|p| p.is_file());
        return Ok(ResolvedKernel {
            image: entry.bzimage(),
            vmlinux,
            sched_dir: Some(dir.join(SCHED_DIR)),
            origin,
            _lock: None,
        });
    }
    let image = dir.join("arch/x86/boot/bzImage");
    if !image.is_file() {
        if dir.join("Makefile").is_file() && dir.join("Kconfig").is_file() {
            return Err(KernelError::TreeNotBuilt {
                path: dir.to_path_buf(),
            });
        }
        return Err(KernelError::NotAKernelImage {
            path: dir.to_path_buf(),
            detail: "a directory with neither a bzImage nor a kernel tree".into(),
        });
    }
    check_bzimage(&image)?;
    let vmlinux = Some(dir.join("vmlinux")).filter(|p| p.is_file());
    let sched_dir = Some(dir.join("tools/sched_ext/build/bin"));
    Ok(ResolvedKernel {
        image,
        vmlinux,
        sched_dir,
        origin: KernelOrigin::Tree(dir.to_path_buf()),
        _lock: None,
    })
}
