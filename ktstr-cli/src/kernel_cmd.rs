//! `ktstr kernel build|list|clean`: argument handling and output around the library calls.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::error::CliError;

type Result<T> = std::result::Result<T, CliError>;
use ktstr::kernel::{
    build_kernel, BuildOutcome, BuildRequest, Cache, KernelFlavor, KernelSource, Listing,
};

use crate::cli::{BuildArgs, KernelCommand};
use crate::format;
use crate::progress::BuildProgress;

pub fn run(command: KernelCommand) -> Result<()> {
    let cache = Cache::from_env()?;
    match command {
        KernelCommand::Build(args) => build(&cache, args),
        KernelCommand::List { json } => match json {
            true => list_json(&cache),
            false => list(&cache),
        },
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
        flavor: args.flavor,
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

/// `kernel list --json`: each entry's metadata with its key, size and whether its kconfig is current; a
/// corrupt entry as `{key, error}`.
fn list_json(cache: &Cache) -> Result<()> {
    let current: Vec<String> = KernelFlavor::ALL
        .iter()
        .map(|f| f.fragment().hash())
        .collect();
    let entries: Vec<serde_json::Value> = cache
        .list()?
        .iter()
        .map(|listing| match listing {
            Listing::Valid(entry) => serde_json::json!({
                "key": entry.key(),
                "metadata": entry.metadata(),
                "size_bytes": entry.size_bytes(),
                "stale_kconfig": !current.contains(&entry.metadata().config_hash),
                "dir": entry.dir(),
            }),
            Listing::Corrupt { key, error } => {
                serde_json::json!({"key": key, "error": error.to_string()})
            }
        })
        .collect();
    println!("{}", serde_json::Value::Array(entries));
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
    let current: Vec<String> = KernelFlavor::ALL
        .iter()
        .map(|f| f.fragment().hash())
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut rows = vec![["KEY", "VERSION", "FLAVOR", "SIZE", "AGE", "SCHEDULERS"]
        .map(String::from)
        .to_vec()];
    for listing in &listings {
        rows.push(match listing {
            Listing::Valid(entry) => {
                let meta = entry.metadata();
                let mut key = entry.key().to_string();
                if !current.contains(&meta.config_hash) {
                    key.push_str(" (stale kconfig)");
                }
                let age = format::age(now.saturating_sub(meta.built_at_unix));
                vec![
                    key,
                    meta.version.clone(),
                    meta.flavor.to_string(),
                    format::size(entry.size_bytes()),
                    age,
                    meta.schedulers.join(","),
                ]
            }
            Listing::Corrupt { key, error } => vec![key.clone(), format!("(corrupt: {error})")],
        });
    }
    print!("{}", format::table(&rows));
    println!("cache: {}", cache.root().display());
    Ok(())
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
