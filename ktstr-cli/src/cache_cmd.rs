//! `ktstr cache`: what the caches hold and trimming the initramfs images; `ktstr cleanup`: the leftovers
//! of dead runs.

use std::path::Path;

use ktstr::vm::{cache_cap, ktstr_cache_dir, InitramfsCache};

use crate::cli::CacheCommand;
use crate::error::CliError;
use crate::format;

type Result<T> = std::result::Result<T, CliError>;

/// Bytes and files under `dir`, recursively.
fn usage(dir: &Path) -> (u64, usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    entries.flatten().fold((0, 0), |(bytes, files), e| {
        let Ok(meta) = e.metadata() else {
            return (bytes, files);
        };
        match meta.is_dir() {
            true => {
                let (b, f) = usage(&e.path());
                (bytes + b, files + f)
            }
            false => (bytes + meta.len(), files + 1),
        }
    })
}

pub fn run(command: Option<CacheCommand>) -> Result<()> {
    let root = ktstr_cache_dir()?;
    let initramfs = InitramfsCache::at(root.join("initramfs"));
    match command {
        None => show(&root, &initramfs),
        Some(CacheCommand::Trim { max_mb }) => trim(&initramfs, max_mb),
    }
}

/// A table with one row per cache: its size, entries, what bounds it and where it is.
fn show(root: &Path, initramfs: &InitramfsCache) -> Result<()> {
    let kernels = ktstr::kernel::Cache::from_env()?;
    let listed = kernels.list()?.len();
    let (kernel_bytes, _) = usage(kernels.root());
    let images = initramfs.entries();
    let mut rows = vec![
        ["CACHE", "SIZE", "ENTRIES", "LIMIT", "PATH"]
            .map(String::from)
            .to_vec(),
        row(
            "kernels",
            (kernel_bytes, listed),
            "ktstr kernel clean --keep N",
            kernels.root(),
        ),
        row(
            "initramfs",
            (images.iter().map(|(_, s, _)| s).sum(), images.len()),
            &format::size(cache_cap()?),
            initramfs.dir(),
        ),
    ];
    for (name, limit) in [
        ("lean", "8 newest"),
        ("schedulers", "ktstr scheduler install"),
    ] {
        let dir = root.join(name);
        rows.push(row(name, usage(&dir), limit, &dir));
    }
    print!("{}", format::table(&rows));
    Ok(())
}

fn row(name: &str, (bytes, entries): (u64, usize), limit: &str, path: &Path) -> Vec<String> {
    vec![
        name.into(),
        format::size(bytes),
        entries.to_string(),
        limit.into(),
        path.display().to_string(),
    ]
}

/// Removes the least recently used images over `max_mb` (default: the cache's cap).
fn trim(initramfs: &InitramfsCache, max_mb: Option<u64>) -> Result<()> {
    let cap = match max_mb {
        Some(mb) => mb << 20,
        None => cache_cap()?,
    };
    let report = initramfs.trim(cap)?;
    for (path, size) in &report.removed {
        println!("removed {} ({})", path.display(), format::size(*size));
    }
    println!(
        "initramfs cache: {} removed, {} kept (limit {}), {} over the limit kept because a run uses them",
        report.removed.len(),
        format::size(report.kept_bytes),
        format::size(cap),
        report.in_use
    );
    Ok(())
}

pub fn cleanup() -> Result<()> {
    let temp = std::env::temp_dir();
    let report = ktstr::vm::cleanup(&temp)
        .map_err(|e| CliError::Stats(format!("cleaning {}: {e}", temp.display())))?;
    for (pid, dir) in &report.qemu_killed {
        println!("killed QEMU {pid} of dead trial {}", dir.display());
    }
    for dir in &report.trial_dirs {
        println!("removed {}", dir.display());
    }
    println!(
        "ktstr cleanup: {} trial dir(s) removed, {} QEMU process(es) killed, {} trial dir(s) of live runs left alone",
        report.trial_dirs.len(),
        report.qemu_killed.len(),
        report.alive.len()
    );
    Ok(())
}
