//! `ktstr run` and `ktstr list`: canned scenarios on this host, or each in its own VM (`--vm`).

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use crate::error::CliError;

type Result<T> = std::result::Result<T, CliError>;

/// A line for people: stdout normally, stderr under `--json`, where stdout carries only verdicts.
macro_rules! say {
    ($json:expr, $($arg:tt)*) => {
        if $json { eprintln!($($arg)*) } else { println!($($arg)*) }
    };
}
use ktstr::assert::ReportHeader;
use ktstr::harness::{render, run_vm_test, write_record, OutcomeKind, VmTest};
use ktstr::host::{CgroupMode, HostCgroups, HostRun};
use ktstr::kernel::resolve_kernel;
use ktstr::scenario::catalog::{self, CannedScenario};
use ktstr::sched::Scheduler;
use ktstr::topology::TestTopology;

use crate::cli::RunArgs;

/// `ktstr list [--filter TEXT] [--json]`.
pub fn list(filter: Option<&str>, json: bool) -> Result<()> {
    let selected: Vec<&CannedScenario> = catalog::catalog()
        .iter()
        .filter(|s| {
            filter.is_none_or(|f| {
                s.name.contains(f)
                    || s.category.to_string().contains(f)
                    || s.description.contains(f)
            })
        })
        .collect();
    if json {
        let list: Vec<serde_json::Value> = selected
            .iter()
            .map(|s| {
                serde_json::json!({
                    "name": s.name,
                    "category": s.category.to_string(),
                    "description": s.description,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(());
    }
    for scenario in selected {
        println!(
            "{:<22} {:<8} {}",
            scenario.name, scenario.category, scenario.description
        );
    }
    Ok(())
}

/// One verdict as one line of JSON: `ktstr run --json`.
fn verdict_json(
    outcome: &ktstr::harness::TrialOutcome,
    record: Option<&std::path::Path>,
) -> String {
    let result = outcome.report.as_ref().and_then(|r| r.test.result());
    serde_json::json!({
        "test": outcome.test,
        "kind": outcome.kind,
        "as_expected": outcome.as_expected,
        "reason": outcome.reason,
        "topology": outcome.topology,
        "scheduler": outcome.scheduler,
        "profile": outcome.profile,
        "accel": outcome.accel,
        "wall_ms": outcome.wall_ms,
        "details": result.map(|r| &r.details),
        "stats": result.map(|r| &r.stats),
        "record": record,
    })
    .to_string()
}

/// The catalog as VM tests: what the guest role (this binary as PID 1) looks trials up in.
pub fn catalog_tests() -> Vec<VmTest> {
    catalog::catalog()
        .iter()
        .map(|c| VmTest::new(c.name, c.run))
        .collect()
}

pub fn run(args: RunArgs) -> Result<()> {
    if args.vm {
        return run_in_vms(args);
    }
    let scenarios = select(&args.scenarios)?;
    let topo = TestTopology::from_sysfs().map_err(CliError::HostTopology)?;
    let cgroups = HostCgroups::open(args.cgroups.into())?;
    let shape = topo.shape().map_or_else(
        |_| format!("{} cpus (non-uniform)", topo.total_cpus()),
        |s| s.to_string(),
    );
    say!(
        args.json,
        "ktstr run: {} scenario(s) on this host, topology {shape}",
        scenarios.len()
    );
    say!(args.json, "cgroups: {}", cgroups.description);
    let settings = HostRun {
        duration: Duration::from_secs_f64(args.duration),
        workers_per_cgroup: args.workers.get(),
        ..HostRun::default()
    };
    let mut tally = Tally::default();
    for scenario in &scenarios {
        let started = Instant::now();
        let header = ReportHeader {
            test: scenario.name.to_string(),
            scheduler: None,
            topology: Some(shape.clone()),
        };
        match settings.run(scenario, &topo, &cgroups) {
            Ok(result) => {
                tally.add(Tally::kind_of(&result), args.fail_on_skip);
                match args.json {
                    true => println!(
                        "{}",
                        serde_json::json!({
                            "test": scenario.name, "host": true, "passed": result.passed,
                            "skipped": result.skipped, "details": result.details,
                            "stats": result.stats, "wall_ms": started.elapsed().as_millis() as u64,
                        })
                    ),
                    false => print!("{}", result.format_human(&header)),
                }
            }
            Err(error) => {
                tally.failed += 1;
                match args.json {
                    true => println!(
                        "{}",
                        serde_json::json!({"test": scenario.name, "host": true, "error": format!("{error:#}")})
                    ),
                    false => println!("ktstr_test '{}' could not run: {error:#}", scenario.name),
                }
            }
        }
        say!(args.json, "  ({:.1}s)\n", started.elapsed().as_secs_f64());
    }
    say!(args.json, "{}", tally.summary());
    tally.result()
}

/// The scheduler `--scheduler`, `--profile` and `--sched-arg` name (EEVDF without `--scheduler`).
fn scheduler_of(args: &RunArgs) -> Result<Scheduler> {
    let scheduler = match &args.scheduler {
        None => return Ok(Scheduler::EEVDF),
        Some(name) => Scheduler::by_name(name)?,
    };
    let scheduler = match &args.profile {
        Some(profile) => scheduler.with_profile(profile)?,
        None => scheduler,
    };
    match args.sched_args.is_empty() {
        true => Ok(scheduler),
        false => Ok(scheduler.args(args.sched_args.iter().cloned())?),
    }
}

fn run_in_vms(args: RunArgs) -> Result<()> {
    if args.gauntlet {
        return run_gauntlet(args);
    }
    let scenarios = select(&args.scenarios)?;
    let scheduler = scheduler_of(&args)?;
    if let Some(located) = scheduler.locate(|name| resolve_kernel().ok()?.scheduler(name))? {
        say!(
            args.json,
            "scheduler binary: {} ({})",
            located.path.display(),
            located.source
        );
    }
    say!(
        args.json,
        "ktstr run: {} scenario(s), each in a VM of topology {} under {}",
        scenarios.len(),
        args.topology,
        scheduler.name()
    );
    let mut tally = Tally::default();
    for scenario in &scenarios {
        let test = VmTest::new(scenario.name, scenario.run)
            .topology(args.topology)
            .scheduler(scheduler.clone())
            .duration(Duration::from_secs_f64(args.duration))
            .workers_per_cgroup(args.workers.get());
        let test = match args.kernel_flavor {
            Some(flavor) => test.kernel_flavor(flavor),
            None => test,
        };
        for repeat in 0..args.repeat.get() as u32 {
            let outcome = run_vm_test(&test)?;
            tally.add(outcome.kind, args.fail_on_skip);
            let record = write_record(&outcome, repeat);
            if args.json {
                println!("{}", verdict_json(&outcome, record.as_deref().ok()));
                continue;
            }
            println!("{}", render(&outcome, OutcomeKind::Passed));
            match record {
                Ok(path) => println!("run record: {}\n", path.display()),
                Err(e) => println!("run record not written: {e}\n"),
            }
        }
    }
    say!(args.json, "{}", tally.summary());
    tally.result()
}

/// Scenario verdicts of a run: a skip counts as failed only under `--fail-on-skip`.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
}

impl Tally {
    fn add(&mut self, kind: OutcomeKind, fail_on_skip: bool) {
        match kind {
            OutcomeKind::Passed => self.passed += 1,
            OutcomeKind::Skipped if !fail_on_skip => self.skipped += 1,
            _ => self.failed += 1,
        }
    }

    /// The class of a host run's verdict.
    fn kind_of(result: &ktstr::assert::AssertResult) -> OutcomeKind {
        match (result.passed, result.skipped) {
            (false, _) => OutcomeKind::ChecksFailed,
            (true, true) => OutcomeKind::Skipped,
            (true, false) => OutcomeKind::Passed,
        }
    }

    /// `3 passed, 1 failed, 1 skipped`.
    fn summary(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }

    fn result(&self) -> Result<()> {
        match self.failed {
            0 => Ok(()),
            failed => Err(CliError::ScenariosFailed(failed)),
        }
    }
}

fn select(names: &[String]) -> Result<Vec<&'static CannedScenario>> {
    if names.is_empty() {
        return Ok(catalog::catalog().iter().collect());
    }
    names.iter().map(|n| Ok(catalog::find(n)?)).collect()
}

impl From<crate::cli::CgroupsArg> for CgroupMode {
    fn from(arg: crate::cli::CgroupsArg) -> Self {
        match arg {
            crate::cli::CgroupsArg::Auto => CgroupMode::Auto,
            crate::cli::CgroupsArg::Real => CgroupMode::Real,
            crate::cli::CgroupsArg::Simulated => CgroupMode::Simulated,
        }
    }
}

/// `run --vm --gauntlet`: each scenario over every preset × profile this host can boot, narrowed by the
/// budget, `--jobs` at a time, with progress and a summary table.
fn run_gauntlet(args: RunArgs) -> Result<()> {
    use ktstr::harness::budget::{self, Candidate};
    use ktstr::harness::gauntlet::{self, HostCapacity};
    use ktstr::harness::{run_parallel, Progress};

    let scenarios = select(&args.scenarios)?;
    let scheduler = scheduler_of(&args)?;
    let host = HostCapacity::here();
    let kernels = gauntlet::kernels_from_env().map_err(CliError::BadEnvironment)?;
    let mut tests = Vec::new();
    let mut skipped = Vec::new();
    for scenario in &scenarios {
        let test = VmTest::new(scenario.name, scenario.run)
            .scheduler(scheduler.clone())
            .duration(Duration::from_secs_f64(args.duration))
            .workers_per_cgroup(args.workers.get())
            .gauntlet();
        let test = match args.kernel_flavor {
            Some(flavor) => test.kernel_flavor(flavor),
            None => test,
        };
        for variant in gauntlet::expand(&test, &host, &kernels)? {
            match variant.skip {
                Some(why) => skipped.push(format!("  {}: {why}", variant.test.trial_name())),
                None => tests.push(variant.test),
            }
        }
    }
    let all = tests.len();
    let budget = match args.budget {
        Some(secs) => Some((Duration::from_secs_f64(secs), args.seed.unwrap_or(0))),
        None => budget::from_env().map_err(CliError::BadEnvironment)?,
    };
    if let Some((budget, seed)) = budget {
        let measured = budget::measured_walls(&ktstr::runs::runs_root());
        let candidates: Vec<Candidate> = tests
            .iter()
            .map(|t| Candidate::of(t, host.accel, &measured))
            .collect();
        let selection = budget::select(&candidates, budget, seed);
        say!(
            args.json,
            "{}",
            selection.summary(candidates.len(), budget, seed)
        );
        let mut chosen = selection.chosen.clone();
        chosen.sort_unstable();
        tests = chosen.into_iter().map(|i| tests[i].clone()).collect();
    }
    let jobs = args
        .jobs
        .map_or_else(ktstr::harness::default_jobs, NonZeroUsize::get);
    say!(
        args.json,
        "ktstr run --gauntlet: {} of {all} variant(s) under {}, {jobs} VM(s) at once",
        tests.len(),
        scheduler.name()
    );
    if !skipped.is_empty() {
        say!(
            args.json,
            "{} variant(s) this host ({:?}, {} CPUs) cannot boot, skipped:",
            skipped.len(),
            host.accel,
            host.cpus
        );
        for line in &skipped {
            say!(args.json, "{line}");
        }
    }
    let tests: Vec<VmTest> = tests
        .iter()
        .flat_map(|t| std::iter::repeat_n(t.clone(), args.repeat.get()))
        .collect();
    let repeats_done = std::sync::Mutex::new(std::collections::HashMap::<String, u32>::new());
    let progress = Progress::new(tests.len(), jobs);
    let results = run_parallel(&tests, jobs, &progress, |test, result| match result {
        Ok(outcome) => {
            let repeat = {
                let mut done = repeats_done.lock().unwrap_or_else(|p| p.into_inner());
                let n = done.entry(outcome.test.clone()).or_insert(0);
                *n += 1;
                *n - 1
            };
            let record = write_record(outcome, repeat);
            if args.json {
                println!("{}", verdict_json(outcome, record.as_deref().ok()));
                return;
            }
            let mut text = render(outcome, test.expected());
            match record {
                Ok(path) => text += &format!("\nrun record: {}\n", path.display()),
                Err(e) => text += &format!("\nrun record not written: {e}\n"),
            }
            println!("{text}");
        }
        Err(e) => println!("=== ktstr {}: could not run: {e}\n", test.trial_name()),
    });
    say!(args.json, "{}", progress.summary_table());
    if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
        eprintln!("ktstr: a variant could not run: {e}");
    }
    let mut tally = Tally::default();
    for result in &results {
        match result {
            Ok(outcome) => tally.add(outcome.kind, args.fail_on_skip),
            Err(_) => tally.failed += 1,
        }
    }
    tally.result()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skip_is_neither_passed_nor_failed_unless_asked() {
        let kinds = [
            OutcomeKind::Passed,
            OutcomeKind::Skipped,
            OutcomeKind::ChecksFailed,
        ];
        let tally = |fail_on_skip| {
            let mut tally = Tally::default();
            kinds.iter().for_each(|k| tally.add(*k, fail_on_skip));
            tally
        };
        let reported = tally(false);
        assert_eq!(
            (reported.passed, reported.failed, reported.skipped),
            (1, 1, 1)
        );
        let failing = tally(true);
        assert_eq!((failing.passed, failing.failed, failing.skipped), (1, 2, 0));
        assert_eq!(reported.summary(), "1 passed, 1 failed, 1 skipped");
        let skip = ktstr::assert::AssertResult::skip("needs 2 LLCs");
        assert_eq!(Tally::kind_of(&skip), OutcomeKind::Skipped);
        let mut skipped_only = Tally::default();
        skipped_only.add(OutcomeKind::Skipped, false);
        assert!(skipped_only.result().is_ok());
        skipped_only.add(OutcomeKind::Skipped, true);
        assert!(matches!(
            skipped_only.result(),
            Err(CliError::ScenariosFailed(1))
        ));
    }
}
