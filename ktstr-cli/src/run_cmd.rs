//! `ktstr run` and `ktstr list`: canned scenarios on this host, or each in its own VM (`--vm`).

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use crate::error::CliError;

type Result<T> = std::result::Result<T, CliError>;

/// A line for people: stdout normally, stderr under `--json`, where stdout carries only verdicts.
macro_rules! say {
    ($json:expr, $($arg:tt)*) => {
        if $json { eprintln!($($arg)*) } else { println!($($arg)*) }
    };
}
use ktstr::harness::VmTest;
use ktstr::host::CgroupMode;
use ktstr::kernel::resolve_kernel;
use ktstr::pipeline::gauntlet::{self, GauntletMode, HostCapacity};
use ktstr::pipeline::{
    self, JsonLines, Plan, PlanInputs, Progress, Records, Sink, Sinks, SkipPolicy, Tally,
    VerdictText,
};
use ktstr::scenario::catalog::{self, CannedScenario};
use ktstr::sched::Scheduler;

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

/// The catalog as VM tests: what the guest role (this binary as PID 1) looks trials up in.
pub fn catalog_tests() -> Vec<VmTest> {
    catalog::catalog()
        .iter()
        .map(|c| VmTest::new(c.name, c.run))
        .collect()
}

/// `ktstr run`: the selected scenarios planned, run and reported by the trial pipeline — on this host, or
/// each in its own VM (`--vm`), over the gauntlet (`--gauntlet`).
pub fn run(args: RunArgs) -> Result<()> {
    let scheduler = scheduler_of(&args)?;
    let plan = pipeline::plan(plan_inputs(&args, &scheduler)?).map_err(CliError::BadEnvironment)?;
    if args.vm {
        preflight(&plan)?;
        describe_vm_run(&args, &scheduler, &plan)?;
    } else {
        say!(
            args.json,
            "ktstr run: {} scenario(s) on this host",
            plan.trials.len()
        );
    }
    for note in &plan.notes {
        say!(args.json, "{note}");
    }
    let jobs = match args.vm {
        true => args
            .jobs
            .map_or_else(pipeline::default_jobs, NonZeroUsize::get),
        false => 1,
    };
    let total = plan.runnable().count();
    let progress = Arc::new(Progress::new(total, jobs));
    let verdicts: Box<dyn Sink> = match args.json {
        true => Box::new(JsonLines),
        false => Box::new(VerdictText),
    };
    let sinks = Sinks::new(vec![
        Box::new(Records),
        verdicts,
        Box::new(Arc::clone(&progress)),
    ]);
    let skips = match args.fail_on_skip {
        true => SkipPolicy::Fail,
        false => SkipPolicy::Report,
    };
    let tally = Tally::of(&pipeline::run_all(&plan, jobs, &sinks, skips));
    if total > 1 {
        say!(args.json, "{}", progress.summary_table());
    }
    say!(args.json, "{}", tally.summary());
    match tally.failed {
        0 => Ok(()),
        failed => Err(CliError::ScenariosFailed(failed)),
    }
}

/// What the pipeline plans from the command line: each selected scenario as a test (host-only without
/// `--vm`), the gauntlet when asked, the repeats, and the budget (`--budget`, else the environment's).
fn plan_inputs(args: &RunArgs, scheduler: &Scheduler) -> Result<PlanInputs> {
    let tests = select(&args.scenarios)?
        .into_iter()
        .map(|scenario| scenario_test(scenario, args, scheduler))
        .collect();
    let budget = match args.budget {
        Some(secs) => Some((Duration::from_secs_f64(secs), args.seed.unwrap_or(0))),
        None => pipeline::budget::from_env().map_err(CliError::BadEnvironment)?,
    };
    Ok(PlanInputs {
        tests,
        gauntlet: match args.gauntlet {
            true => GauntletMode::Marked,
            false => GauntletMode::Listed,
        },
        kernels: gauntlet::kernels_from_env().map_err(CliError::BadEnvironment)?,
        repeat: Some(args.repeat.get() as u32),
        budget,
        host: HostCapacity::here(),
    })
}

/// One canned scenario as the test the command line asks for.
fn scenario_test(scenario: &CannedScenario, args: &RunArgs, scheduler: &Scheduler) -> VmTest {
    let test = VmTest::new(scenario.name, scenario.run)
        .duration(Duration::from_secs_f64(args.duration))
        .workers_per_cgroup(args.workers.get());
    let test = match (args.vm, args.gauntlet) {
        (false, _) => return test.host_only().host_cgroups(args.cgroups.into()),
        (true, false) => test,
        (true, true) => test.gauntlet(),
    };
    let test = test.topology(args.topology).scheduler(scheduler.clone());
    match args.kernel_flavor {
        Some(flavor) => test.kernel_flavor(flavor),
        None => test,
    }
}

/// Bad input (a topology this host cannot boot, a scheduler path that is not a program) stops the
/// command before any VM boots.
fn preflight(plan: &Plan) -> Result<()> {
    for test in plan.runnable().filter_map(|t| t.test()) {
        ktstr::harness::preflight(test)?;
    }
    Ok(())
}

/// The lines before a VM run: where the scheduler's binary is, and what runs how.
fn describe_vm_run(args: &RunArgs, scheduler: &Scheduler, plan: &Plan) -> Result<()> {
    if let Some(located) = scheduler.locate(|name| resolve_kernel().ok()?.scheduler(name))? {
        say!(
            args.json,
            "scheduler binary: {} ({})",
            located.path.display(),
            located.source
        );
    }
    let shape = match args.gauntlet {
        true => "over the gauntlet's presets".to_string(),
        false => format!("each in a VM of topology {}", args.topology),
    };
    say!(
        args.json,
        "ktstr run: {} of {} trial(s) {shape} under {}",
        plan.runnable().count(),
        plan.trials.len(),
        scheduler.name()
    );
    Ok(())
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
    match args.sched_args.args.is_empty() {
        true => Ok(scheduler),
        false => Ok(scheduler.args(args.sched_args.args.iter().cloned())?),
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// Each trial of a plan as the run stage sees it: name, whether it runs, repeats, and what it runs.
    fn shape(plan: &Plan) -> Vec<String> {
        plan.trials
            .iter()
            .map(|t| match t.test() {
                Some(test) => format!(
                    "{} ignored={} repeats={} topology={} scheduler={}",
                    t.name,
                    t.ignored,
                    test.repeats(),
                    test.vm_topology(),
                    test.sched().all_args().join(" ")
                ),
                None => format!("{} ignored={} cannot run", t.name, t.ignored),
            })
            .collect()
    }

    /// `ktstr run --vm --gauntlet --repeat 2` and a test binary under `KTSTR_GAUNTLET=1 KTSTR_REPEAT=2`
    /// plan the same trials for the same test.
    #[test]
    fn the_command_line_and_a_test_binary_plan_the_same_trials() {
        let cli = crate::cli::Cli::parse_from([
            "ktstr",
            "run",
            "--vm",
            "--gauntlet",
            "--repeat",
            "2",
            "--scheduler",
            "scx_qmap",
            "--duration",
            "2",
            "steady",
        ]);
        let crate::cli::Command::Run(args) = cli.command else {
            panic!("parsed as run");
        };
        let scheduler = scheduler_of(&args).unwrap();
        let from_cli = pipeline::plan(plan_inputs(&args, &scheduler).unwrap()).unwrap();
        // What `#[ktstr_test(topology = "1n2l2c1t", scheduler = SCX_QMAP, gauntlet = true)] fn steady`
        // declares: the command line's default topology, scheduler and duration.
        let steady = catalog::find("steady").unwrap();
        let declared = VmTest::new("steady", steady.run)
            .topology(args.topology)
            .scheduler(ktstr::schedulers::SCX_QMAP)
            .gauntlet();
        std::env::set_var("KTSTR_GAUNTLET", "1");
        std::env::set_var("KTSTR_REPEAT", "2");
        let from_binary = pipeline::plan(PlanInputs::from_env(vec![declared]).unwrap()).unwrap();
        std::env::remove_var("KTSTR_GAUNTLET");
        std::env::remove_var("KTSTR_REPEAT");
        assert!(from_cli.trials.len() > 10, "{}", from_cli.trials.len());
        assert_eq!(shape(&from_cli), shape(&from_binary));
        assert_eq!(from_cli.notes, from_binary.notes);
    }
}
