//! The libtest adapter (`ktstr::main!`): the test binary as PID 1 in a VM runs the trial the kernel
//! command line names; otherwise the plan's trials become libtest trials — listed, filtered and run up to
//! `--test-threads` at once like `cargo test` — each running through the pipeline's run stage, with
//! progress as trials finish and a summary table at the end.

use std::sync::Arc;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use super::plan::{plan, PlanInputs, PlannedTrial};
use super::progress::Progress;
use super::run::{execute, SkipPolicy, TrialResult};
use super::sink::{Records, Sinks, VerdictText};
use crate::harness::{Standing, VmTest};

/// Runs `tests`: as PID 1 inside a VM, the trial named on the kernel command line; otherwise each
/// selected trial of their plan. Never returns.
pub fn main(tests: Vec<VmTest>) -> ! {
    if std::process::id() == 1 {
        run_guest(&tests);
    }
    let planned = PlanInputs::from_env(tests)
        .and_then(plan)
        .and_then(|plan| Ok((plan, SkipPolicy::from_env()?)));
    let (plan, skips) = match planned {
        Ok(planned) => planned,
        Err(why) => {
            eprintln!("ktstr: {why}");
            std::process::exit(2);
        }
    };
    let mut args = Arguments::from_args();
    if !args.list {
        crate::vm::TrialDir::sweep_orphans(&std::env::temp_dir());
    }
    for note in &plan.notes {
        eprintln!("{note}");
    }
    args.test_threads.get_or_insert(super::default_jobs());
    let jobs = args.test_threads.unwrap_or(1);
    let to_run = plan
        .trials
        .iter()
        .filter(|t| will_run(&args, &t.name, t.ignored))
        .count();
    let progress = Arc::new(Progress::new(to_run, jobs));
    let sinks = Arc::new(Sinks::new(vec![
        Box::new(Records),
        Box::new(VerdictText),
        Box::new(Arc::clone(&progress)),
    ]));
    let trials = plan
        .trials
        .into_iter()
        .map(|t| libtest_trial(t, &sinks, skips))
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if !args.list && to_run > 1 {
        println!("{}", progress.summary_table());
    }
    let leftovers = qemu_children();
    if !leftovers.is_empty() {
        eprintln!("ktstr: QEMU processes outlived their trials: {leftovers:?}");
        std::process::exit(101);
    }
    conclusion.exit()
}

/// A planned trial as libtest's: run through the pipeline, its result told as libtest tells one.
fn libtest_trial(planned: PlannedTrial, sinks: &Arc<Sinks>, skips: SkipPolicy) -> Trial {
    let sinks = Arc::clone(sinks);
    let ignored = planned.ignored;
    Trial::ignorable_test(planned.name.clone(), move || {
        completion(execute(&planned, &sinks, skips))
    })
    .with_ignored_flag(ignored)
}

/// Passed, ignored with the reason it skipped, or failed with the verdicts that were not as expected.
fn completion(result: TrialResult) -> Result<Completion, Failed> {
    match result.standing() {
        Standing::AsExpected => Ok(Completion::Completed),
        Standing::Skipped => Ok(Completion::ignored_with(result.skipped.unwrap_or_default())),
        Standing::Unexpected if result.standings.is_empty() => {
            Err(Failed::from(result.failures.join("\n")))
        }
        Standing::Unexpected => Err(Failed::from(format!(
            "{} of {} run(s) not as expected:\n{}",
            result.failures.len(),
            result.standings.len(),
            result.failures.join("\n")
        ))),
    }
}

/// Whether libtest will run the trial `name`: selected by the filter and skips, and run under the
/// `--ignored` / `--include-ignored` choice.
fn will_run(args: &Arguments, name: &str, ignored: bool) -> bool {
    let probe = Trial::test(name.to_string(), || Ok(())).with_ignored_flag(ignored);
    let ignored_ok = match (args.ignored, args.include_ignored) {
        (true, _) => ignored,
        (false, true) => true,
        (false, false) => !ignored,
    };
    !args.list && !args.is_filtered_out(&probe) && ignored_ok
}

/// Every `#[ktstr_test]` linked into this binary, sorted by name.
pub fn registered_tests() -> Vec<VmTest> {
    let mut tests: Vec<VmTest> = crate::__private::KTSTR_TESTS
        .iter()
        .map(|build| build())
        .collect();
    tests.sort_by(|a, b| a.name().cmp(b.name()));
    tests
}

/// The guest role over `tests`: PID 1 runs the one the kernel command line names. Never returns.
pub fn run_guest(tests: &[VmTest]) -> ! {
    crate::guest::run_guest(&|name| tests.iter().find(|t| t.name() == name).map(|t| t.func))
}

/// Pids of QEMU processes that are children of this process.
fn qemu_children() -> Vec<u32> {
    crate::guest::children_of(std::process::id())
        .into_iter()
        .filter(|(_, comm)| comm.contains("qemu"))
        .map(|(pid, _)| pid)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::OutcomeKind;

    #[test]
    fn a_skip_becomes_libtests_ignored_with_its_reason() {
        let mut result = TrialResult {
            name: "t".into(),
            kinds: vec![OutcomeKind::Passed],
            standings: vec![Standing::AsExpected],
            failures: vec![],
            skipped: None,
        };
        assert!(matches!(
            completion(result.clone()),
            Ok(Completion::Completed)
        ));
        result.standings.push(Standing::Skipped);
        result.skipped = Some("skipped: needs 2 LLCs".into());
        assert!(matches!(
            completion(result),
            Ok(Completion::Ignored { reason: Some(ref r) }) if r == "skipped: needs 2 LLCs"
        ));
    }

    #[test]
    fn filters_and_ignored_choices_decide_what_runs() {
        let args =
            |list: &[&str]| Arguments::from_iter(std::iter::once("t").chain(list.iter().copied()));
        assert!(will_run(&args(&[]), "a/eevdf/1n1l2c1t/default", false));
        assert!(!will_run(&args(&[]), "gauntlet/a/smt-1llc/default", true));
        assert!(will_run(
            &args(&["--include-ignored"]),
            "gauntlet/a/smt-1llc/default",
            true
        ));
        assert!(!will_run(
            &args(&["--ignored"]),
            "a/eevdf/1n1l2c1t/default",
            false
        ));
        assert!(!will_run(
            &args(&["smt"]),
            "a/eevdf/1n1l2c1t/default",
            false
        ));
        assert!(!will_run(
            &args(&["--exact", "a"]),
            "a/eevdf/1n1l2c1t/default",
            false
        ));
        assert!(!will_run(
            &args(&["--list"]),
            "a/eevdf/1n1l2c1t/default",
            false
        ));
    }
}
