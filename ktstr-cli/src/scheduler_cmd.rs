//! `ktstr scheduler install|list`: published scheduler crates built into ktstr's cache, and what each
//! source of schedulers (kernel tree, store, cargo target directories) holds.

use std::time::{Duration, Instant};

use crate::error::CliError;

type Result<T> = std::result::Result<T, CliError>;
use indicatif::{ProgressBar, ProgressStyle};
use ktstr::kernel::{resolve_kernel, Cache};
use ktstr::sched::{
    cargo_target_dirs, find_in_target_dirs, install_scheduler, InstallOutcome, InstallSpec,
    SchedulerStore, IN_TREE_SCHEDULERS,
};

use crate::cli::SchedulerCommand;
use crate::format;

pub fn run(command: SchedulerCommand) -> Result<()> {
    let store = SchedulerStore::from_env()?;
    match command {
        SchedulerCommand::Install { specs, force } => {
            for spec in &specs {
                install(&store, spec, force)?;
            }
            Ok(())
        }
        SchedulerCommand::List => list(&store),
        SchedulerCommand::Flags { name } => flags(&name),
    }
}

fn install(store: &SchedulerStore, spec: &InstallSpec, force: bool) -> Result<()> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {prefix} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix(format!("cargo install {spec}"));
    bar.enable_steady_tick(Duration::from_millis(200));
    if bar.is_hidden() {
        eprintln!("ktstr: cargo install --locked {spec}");
    }
    let started = Instant::now();
    let outcome = install_scheduler(store, spec, force, &mut |line| {
        bar.set_message(line.trim().to_string())
    });
    bar.finish_and_clear();
    if let Err(ktstr::sched::InstallError::BuildFailed { tail, .. }) = &outcome {
        eprintln!("{tail}");
    }
    let took = format::duration(started.elapsed().as_secs_f64());
    match outcome? {
        InstallOutcome::Hit(found) => println!(
            "{}@{} is installed: {} (--force rebuilds)",
            found.metadata.name,
            found.metadata.version,
            found.binary.display()
        ),
        InstallOutcome::Built(built) => println!(
            "installed {}@{} in {took}: {}",
            built.metadata.name,
            built.metadata.version,
            built.binary.display()
        ),
    }
    Ok(())
}

fn list(store: &SchedulerStore) -> Result<()> {
    let mut rows = vec![["SCHEDULER", "VERSION", "SOURCE", "PATH"]
        .map(String::from)
        .to_vec()];
    let kernel = resolve_kernel().ok();
    for name in IN_TREE_SCHEDULERS {
        let path = kernel.as_ref().and_then(|k| k.scheduler(name));
        rows.push(vec![
            name.to_string(),
            "-".into(),
            "kernel tree".into(),
            path.map_or("(not built: run `ktstr kernel build`)".into(), |p| {
                p.display().to_string()
            }),
        ]);
    }
    for installed in store.list()? {
        rows.push(vec![
            installed.metadata.name.clone(),
            installed.metadata.version.clone(),
            "installed".into(),
            installed.binary.display().to_string(),
        ]);
    }
    let targets = cargo_target_dirs();
    for name in target_dir_schedulers(&targets) {
        if let Some(path) = find_in_target_dirs(&name, &targets) {
            rows.push(vec![
                name,
                "-".into(),
                "cargo target dir".into(),
                path.display().to_string(),
            ]);
        }
    }
    print!("{}", format::table(&rows));
    println!("store: {}", store.root().display());
    if kernel.is_none() {
        println!(
            "kernel cache: {} (no usable kernel)",
            Cache::from_env()?.root().display()
        );
    }
    Ok(())
}

fn flags(name: &str) -> Result<()> {
    let declared = ktstr::schedulers::by_binary(name).ok_or_else(|| CliError::UnknownDeclared {
        name: name.to_string(),
        known: ktstr::schedulers::ALL
            .iter()
            .filter_map(|s| s.binary_name())
            .collect::<Vec<_>>()
            .join(", "),
    })?;
    let mut rows = vec![["FLAG", "ARGS", "REQUIRES", "EXCLUDES"]
        .map(String::from)
        .to_vec()];
    for flag in declared.declared_flags() {
        rows.push(vec![
            flag.name.to_string(),
            flag.args.join(" "),
            flag.requires.join(", "),
            flag.excludes.join(", "),
        ]);
    }
    print!("{}", format::table(&rows));
    let profiles = declared.profiles();
    println!("{} profiles:", profiles.len());
    for profile in profiles {
        println!("  {profile}");
    }
    Ok(())
}

/// Executables named `scx_*` in the profile directories of `targets`.
fn target_dir_schedulers(targets: &[std::path::PathBuf]) -> Vec<String> {
    let mut names: Vec<String> = targets
        .iter()
        .flat_map(|t| ["release", "debug"].map(|p| t.join(p)))
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flat_map(|entries| entries.flatten())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("scx_") && !n.contains('.'))
        .collect();
    names.sort();
    names.dedup();
    names
}
