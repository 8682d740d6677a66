//! `ktstr kernel build|list|clean`: argument handling and output around the library calls.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use ktstr::kernel::{
    build_kernel, BuildOutcome, BuildRequest, Cache, Fragment, KernelSource, Listing,
};

use crate::cli::{BuildArgs, KernelCommand};
use crate::format;
use crate::progress::BuildProgress;

pub fn run(command: KernelCommand) -> Result<()> {
    let cache = Cache::from_env()?;
    match command {
        KernelCommand::Build(args) => build(&cache, args),
        KernelCommand::List => list(&cache),
        KernelCommand::Clean { keep } => clean(&cache, keep),
    }
}

fn build(cache: &Cache, args: BuildArgs) -> Result<()> {
    let source = match (&args.source, &args.tarball) {
        (Some(dir), _) => KernelSource::tree(dir)?,
        (None, Some(file)) => KernelSource::tarball(file)?,
        (None, None) => KernelSource::debian_installing()?,
    };
    let request = BuildRequest {
        source,
        jobs: args.jobs,
        force: args.force,
    };
    let started = Instant::now();
    let mut progress = BuildProgress::new();
    let outcome = build_kernel(cache, &request, &mut |event| progress.observe(event));
    progress.finish();
    let took = format::duration(started.elapsed().as_secs_f64());
    match outcome? {
        BuildOutcome::Hit(entry) => {
            println!(
                "cache hit: {} ({}) in {took}; --force rebuilds",
                entry.key(),
                entry.dir().display()
            );
        }
        BuildOutcome::Built(entry) => {
            println!("built {} in {took}: {}", entry.key(), entry.dir().display());
            println!("log: {}", cache.log_path(entry.key()).display());
        }
    }
    Ok(())
}

fn list(cache: &Cache) -> Result<()> {
    let listings = cache.list()?;
    if listings.is_empty() {
        println!(
            "no cached kernels in {}; run `ktstr kernel build`",
            cache.root().display()
        );
        return Ok(());
    }
    let current = Fragment::ktstr().hash();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut rows = vec![["KEY", "VERSION", "SIZE", "AGE", "SCHEDULERS"]
        .map(String::from)
        .to_vec()];
    for listing in &listings {
        rows.push(match listing {
            Listing::Valid(entry) => {
                let meta = entry.metadata();
                let mut key = entry.key().to_string();
                if meta.config_hash != current {
                    key.push_str(" (stale kconfig)");
                }
                let age = format::age(now.saturating_sub(meta.built_at_unix));
                vec![
                    key,
                    meta.version.clone(),
                    format::size(entry.size_bytes()),
                    age,
                    meta.schedulers.join(","),
                ]
            }
            Listing::Corrupt { key, error } => vec![key.clone(), format!("(corrupt: {error})")],
        });
    }
    print!("{}", table(&rows));
    println!("cache: {}", cache.root().display());
    Ok(())
}

/// Left-aligned columns separated by two spaces; a short row's last cell runs on.
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter(|r| r.len() == cols)
                .map(|r| r[c].len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c + 1 == row.len() {
                    cell.clone()
                } else {
                    format!("{cell:<w$}", w = widths[c])
                }
            })
            .collect();
        out.push_str(&cells.join("  "));
        out.push('\n');
    }
    out
}

fn clean(cache: &Cache, keep: usize) -> Result<()> {
    let report = cache.clean(keep)?;
    for key in &report.removed {
        println!("removed {key}");
    }
    for key in &report.busy {
        println!("kept {key}: in use by a build or a test");
    }
    println!(
        "{} removed, {} kept, {} in use",
        report.removed.len(),
        report.kept.len(),
        report.busy.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_full_rows_and_lets_short_rows_run_on() {
        let rows: Vec<Vec<String>> = [
            vec!["KEY", "V"],
            vec!["6.12.117-kcabc", "6.12.117"],
            vec!["broken"],
        ]
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect();
        assert_eq!(
            table(&rows),
            "KEY             V\n6.12.117-kcabc  6.12.117\nbroken\n"
        );
    }
}
