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
        None => {
            let mut rows = vec![["CACHE", "SIZE", "ENTRIES", "LIMIT", "PATH"]
                .map(String::from)
                .to_vec()];
            let kernels = ktstr::kernel::Cache::from_env()?;
            let listed = kernels.list()?.len();
            let (kb, _) = usage(kernels.root());
            rows.push(vec![
                "kernels".into(),
                format::size(kb),
                listed.to_string(),
                "ktstr kernel clean --keep N".into(),
                kernels.root().display().to_string(),
            ]);
            let images = initramfs.entries();
            rows.push(vec![
                "initramfs".into(),
                format::size(images.iter().map(|(_, s, _)| s).sum()),
                images.len().to_string(),
                format::size(cache_cap()?),
                initramfs.dir().display().to_string(),
            ]);
            for (name, limit) in [
                ("lean", "8 newest"),
                ("schedulers", "ktstr scheduler install"),
            ] {
                let dir = root.join(name);
                let (bytes, files) = usage(&dir);
                rows.push(vec![
                    name.into(),
                    format::size(bytes),
                    files.to_string(),
                    limit.into(),
                    dir.display().to_string(),
                ]);
            }
            print!("{}", format::table(&rows));
            Ok(())
        }
        Some(CacheCommand::Trim { max_mb }) => {
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
    }
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
