//! `ktstr stats`: the runs under the runs directory, one run's trials, and the A/B comparison of two.

use std::path::PathBuf;

use ktstr::compare::{compare, html_report, render_json, render_table, CompareOptions};
use ktstr::runs::{runs_root, Run};

use crate::cli::{CompareArgs, StatsCommand, StatsDir};
use crate::error::CliError;
use crate::format;

type Result<T> = std::result::Result<T, CliError>;

pub fn run(command: StatsCommand) -> Result<()> {
    match command {
        StatsCommand::List(dir) => list(&root(&dir)),
        StatsCommand::Show { run, dir } => show(&root(&dir), &run),
        StatsCommand::Compare(args) => compare_runs(&args),
    }
}

/// `--runs-dir`, else `KTSTR_RUNS_DIR`, else `target/ktstr-runs` of the cargo project around the current
/// directory.
fn root(dir: &StatsDir) -> PathBuf {
    if let Some(dir) = &dir.runs_dir {
        return dir.clone();
    }
    if std::env::var_os("KTSTR_RUNS_DIR").is_some() {
        return runs_root();
    }
    ktstr::sched::cargo_target_dirs()
        .into_iter()
        .map(|t| t.join("ktstr-runs"))
        .find(|d| d.is_dir())
        .unwrap_or_else(runs_root)
}

fn stats_error(why: String) -> CliError {
    CliError::Stats(why)
}

fn list(root: &std::path::Path) -> Result<()> {
    let runs =
        Run::list(root).map_err(|e| stats_error(format!("reading {}: {e}", root.display())))?;
    let mut rows = vec![["RUN", "STARTED", "TRIALS", "UNEXPECTED", "COMMIT", "HOST"]
        .map(String::from)
        .to_vec()];
    for run in &runs {
        let unexpected = run.records.iter().filter(|r| !r.ok()).count();
        let (started, commit, host) = match &run.stamp {
            Some(s) => (
                s.started_utc.clone(),
                s.git.as_ref().map_or("-".into(), |g| {
                    format!(
                        "{}{}",
                        &g.commit[..g.commit.len().min(10)],
                        if g.dirty { "+dirty" } else { "" }
                    )
                }),
                format!(
                    "{} ({} CPUs, load {:.1})",
                    s.host.cpu_model, s.host.cpus, s.host.load_1m
                ),
            ),
            None => ("?".into(), "-".into(), "-".into()),
        };
        rows.push(vec![
            run.id.clone(),
            started,
            run.records.len().to_string(),
            unexpected.to_string(),
            commit,
            host,
        ]);
    }
    print!("{}", format::table(&rows));
    println!("{} run(s) in {}", runs.len(), root.display());
    Ok(())
}

fn show(root: &std::path::Path, spec: &str) -> Result<()> {
    let run = Run::find(root, spec).map_err(stats_error)?;
    if let Some(stamp) = &run.stamp {
        println!(
            "run {} started {} by `{}`; ktstr {}; {} ({} CPUs)",
            run.id,
            stamp.started_utc,
            stamp.command.join(" "),
            stamp.ktstr_version,
            stamp.host.cpu_model,
            stamp.host.cpus
        );
    }
    let mut rows = vec![[
        "TRIAL", "REPEAT", "OUTCOME", "EXPECTED", "WALL", "KERNEL", "METRICS",
    ]
    .map(String::from)
    .to_vec()];
    for r in &run.records {
        rows.push(vec![
            r.test().to_string(),
            r.repeat.to_string(),
            format!("{:?}", r.kind()),
            if r.ok() { "yes".into() } else { "NO".into() },
            format::duration(r.outcome.timings.wall_ms as f64 / 1000.0),
            r.outcome
                .vm
                .kernel_stamp
                .key
                .clone()
                .unwrap_or_else(|| "-".into()),
            r.metrics.len().to_string(),
        ]);
    }
    print!("{}", format::table(&rows));
    for (path, why) in &run.unreadable {
        println!("unreadable: {}: {why}", path.display());
    }
    Ok(())
}

fn compare_runs(args: &CompareArgs) -> Result<()> {
    let root = root(&args.dir);
    let base = Run::find(&root, &args.base).map_err(stats_error)?;
    let new = Run::find(&root, &args.new).map_err(stats_error)?;
    let options = CompareOptions {
        alpha: args.alpha,
        min_effect: args.min_effect,
        force: args.force,
    };
    let comparison = compare(&base, &new, &options);
    match args.json {
        true => println!("{}", render_json(&comparison)),
        false => print!("{}", render_table(&comparison, args.all)),
    }
    if let Some(path) = &args.html {
        std::fs::write(path, html_report(&comparison))
            .map_err(|e| stats_error(format!("writing {}: {e}", path.display())))?;
        eprintln!("report: {}", path.display());
    }
    if let Some(why) = comparison.refusal {
        return Err(CliError::Incomparable(why));
    }
    if comparison.regressed() {
        return Err(CliError::Regression);
    }
    Ok(())
}
