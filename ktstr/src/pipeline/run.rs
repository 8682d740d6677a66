//! The run stage: one planned trial run to its end (each repeat in its own VM, or on the host), emitting
//! events to the sinks; and a whole plan, up to J trials at once on worker threads.

use std::fmt::Display;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use super::plan::{Action, Plan, PlannedTrial};
use super::progress::Row;
use super::sink::{Event, Finished, Sinks};
use crate::harness::{run_host_test, run_vm_test, Standing, VmTest};
use crate::outcome::{OutcomeKind, TrialOutcome};

/// What a trial that skipped (where it expected a pass) does to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipPolicy {
    /// Reported as skipped, with the reason; the run does not fail for it.
    Report,
    /// `KTSTR_FAIL_ON_SKIP=1`, `--fail-on-skip`: the trial fails.
    Fail,
}

impl SkipPolicy {
    pub fn from_env() -> Result<SkipPolicy, String> {
        SkipPolicy::parse(std::env::var("KTSTR_FAIL_ON_SKIP").ok().as_deref())
    }

    /// `KTSTR_FAIL_ON_SKIP`'s value: unset, empty or 0 reports skips, 1 fails them.
    pub fn parse(value: Option<&str>) -> Result<SkipPolicy, String> {
        match value.map(str::trim) {
            None | Some("" | "0") => Ok(SkipPolicy::Report),
            Some("1") => Ok(SkipPolicy::Fail),
            Some(other) => Err(format!(
                "KTSTR_FAIL_ON_SKIP={other:?} is not 0 or 1; set 1 to fail a skipped trial, or unset it (or 0) to report it as ignored"
            )),
        }
    }
}

/// How one planned trial ended, over all its repeats.
#[derive(Debug, Clone)]
pub struct TrialResult {
    pub name: String,
    /// Each run's outcome class, in order; empty when nothing ran.
    pub kinds: Vec<OutcomeKind>,
    /// Each run's standing under the skip policy, in order.
    pub standings: Vec<Standing>,
    /// The verdict of every run that was not as expected, with what it lacked; or why nothing ran.
    pub failures: Vec<String>,
    /// The reason of the first run that skipped where a pass was expected.
    pub skipped: Option<String>,
}

impl TrialResult {
    fn new(name: &str) -> TrialResult {
        TrialResult {
            name: name.to_string(),
            kinds: Vec::new(),
            standings: Vec::new(),
            failures: Vec::new(),
            skipped: None,
        }
    }

    /// The trial's standing: unexpected when any run was or nothing ran, else skipped when one skipped.
    pub fn standing(&self) -> Standing {
        if self.standings.is_empty() || self.standings.contains(&Standing::Unexpected) {
            Standing::Unexpected
        } else if self.standings.contains(&Standing::Skipped) {
            Standing::Skipped
        } else {
            Standing::AsExpected
        }
    }

    /// One run's class and standing; under `SkipPolicy::Fail` a skip is unexpected.
    fn add(
        &mut self,
        kind: OutcomeKind,
        standing: Standing,
        reason: &str,
        skips: SkipPolicy,
    ) -> Standing {
        let standing = match (standing, skips) {
            (Standing::Skipped, SkipPolicy::Fail) => Standing::Unexpected,
            (standing, _) => standing,
        };
        if standing == Standing::Skipped {
            self.skipped.get_or_insert_with(|| reason.to_string());
        }
        self.kinds.push(kind);
        self.standings.push(standing);
        standing
    }
}

/// Runs `trial` to its end, emitting its events to `sinks`.
pub fn execute(trial: &PlannedTrial, sinks: &Sinks, skips: SkipPolicy) -> TrialResult {
    sinks.emit(&Event::Started { name: &trial.name });
    let started = Instant::now();
    let mut result = TrialResult::new(&trial.name);
    match &trial.action {
        Action::Vm(test) => run_repeats(test, sinks, skips, &mut result),
        Action::Host(test) => run_on_host(test, sinks, skips, &mut result),
        Action::CannotRun(why) => could_not_run(
            &trial.name,
            &format!("cannot run on this host: {why}"),
            sinks,
            &mut result,
        ),
    }
    let row = Row {
        name: trial.name.clone(),
        outcome: result
            .kinds
            .last()
            .map_or("not run".into(), |k| format!("{k:?}")),
        standing: result.standing(),
        wall: started.elapsed(),
    };
    sinks.emit(&Event::Ended(&row));
    result
}

fn could_not_run(name: &str, error: &str, sinks: &Sinks, result: &mut TrialResult) {
    sinks.emit(&Event::CouldNotRun { name, error });
    result.failures.push(error.to_string());
}

/// `test`'s VM or host run failed before it had an outcome.
fn could_not_start(test: &VmTest, error: impl Display, sinks: &Sinks, result: &mut TrialResult) {
    let error = format!("could not run: {error}");
    could_not_run(&test.trial_name(), &error, sinks, result);
}

/// Each repeat of `test` in a VM of its own.
fn run_repeats(test: &VmTest, sinks: &Sinks, skips: SkipPolicy, result: &mut TrialResult) {
    let repeats = test.repeats();
    for repeat in 0..repeats {
        let outcome = match run_vm_test(test) {
            Ok(outcome) => outcome,
            Err(e) => return could_not_start(test, e, sinks, result),
        };
        let verdict = &outcome.verdict;
        let standing = test.standing(verdict.kind, &verdict.reason, &outcome.detail_kinds());
        let finished = Finished {
            test,
            repeat,
            repeats,
            outcome: &outcome,
            standing: result.add(verdict.kind, standing, &verdict.reason, skips),
            record: OnceLock::new(),
        };
        sinks.emit(&Event::Finished(&finished));
        if finished.standing == Standing::Unexpected {
            let text = super::sink::VerdictText::text(&finished);
            result.failures.push(text + &why_unexpected(test, &outcome));
        }
    }
}

/// What an unexpected outcome lacked, when its class alone matched or it skipped where skips fail.
fn why_unexpected(test: &VmTest, outcome: &TrialOutcome) -> String {
    let verdict = &outcome.verdict;
    if verdict.kind == test.expected() {
        return format!(
            "\nthe outcome class is as expected, but the verdict lacks {}",
            test.expectation()
        );
    }
    if test.standing(verdict.kind, &verdict.reason, &[]) == Standing::Skipped {
        return "\nthe trial skipped, and KTSTR_FAIL_ON_SKIP=1 makes a skip fail".into();
    }
    String::new()
}

/// A `host_only` test's function on this host.
fn run_on_host(test: &VmTest, sinks: &Sinks, skips: SkipPolicy, result: &mut TrialResult) {
    let outcome = match run_host_test(test) {
        Ok(outcome) => outcome,
        Err(e) => return could_not_start(test, e, sinks, result),
    };
    let details: Vec<_> = outcome
        .result
        .iter()
        .flat_map(|r| r.details.iter().map(|d| d.kind))
        .collect();
    let standing = test.standing(outcome.kind, &outcome.reason, &details);
    let standing = result.add(outcome.kind, standing, &outcome.reason, skips);
    sinks.emit(&Event::HostFinished {
        test,
        outcome: &outcome,
        standing,
    });
    if standing == Standing::Unexpected {
        result.failures.push(outcome.text.clone());
    }
}

/// Runs every trial of `plan` that is not ignored, `jobs` at a time, and returns their results in the
/// plan's order.
pub fn run_all(plan: &Plan, jobs: usize, sinks: &Sinks, skips: SkipPolicy) -> Vec<TrialResult> {
    let trials: Vec<&PlannedTrial> = plan.runnable().collect();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<TrialResult>>> = Mutex::new(vec![None; trials.len()]);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, trials.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(trial) = trials.get(i) else { break };
                let result = execute(trial, sinks, skips);
                results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| r.expect("every index below the length was taken by a worker"))
        .collect()
}

/// Runs of a command-line invocation, by standing: a skip counts as failed only under `SkipPolicy::Fail`
/// (which makes it unexpected already).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Tally {
    pub fn of(results: &[TrialResult]) -> Tally {
        let mut tally = Tally::default();
        for result in results {
            if result.standings.is_empty() {
                tally.failed += 1;
            }
            for standing in &result.standings {
                match standing {
                    Standing::AsExpected => tally.passed += 1,
                    Standing::Skipped => tally.skipped += 1,
                    Standing::Unexpected => tally.failed += 1,
                }
            }
        }
        tally
    }

    /// `3 passed, 1 failed, 1 skipped`.
    pub fn summary(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// VMs at once when not told: one per two host CPUs, at most one per 2 GiB of available memory. Their
/// tests never share CPUs (`vm::CpuGate`); more VMs (`--jobs`, `--test-threads`) boot while one tests.
pub fn default_jobs() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let available_mb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<usize>().ok())
        })
        .map_or(2048, |kb| kb / 1024);
    (cpus / 2).min(available_mb / 2048).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_skip_takes_1_or_0_and_nothing_else() {
        assert_eq!(SkipPolicy::parse(None), Ok(SkipPolicy::Report));
        assert_eq!(SkipPolicy::parse(Some("0")), Ok(SkipPolicy::Report));
        assert_eq!(SkipPolicy::parse(Some(" 1 ")), Ok(SkipPolicy::Fail));
        let bad = SkipPolicy::parse(Some("yes")).unwrap_err();
        assert!(
            bad.contains("KTSTR_FAIL_ON_SKIP=\"yes\" is not 0 or 1"),
            "{bad}"
        );
    }

    #[test]
    fn a_skip_is_neither_passed_nor_failed_unless_skips_fail() {
        let mut reported = TrialResult::new("t");
        let why = "skipped: needs 2 LLCs";
        reported.add(
            OutcomeKind::Passed,
            Standing::AsExpected,
            "",
            SkipPolicy::Report,
        );
        reported.add(
            OutcomeKind::Skipped,
            Standing::Skipped,
            why,
            SkipPolicy::Report,
        );
        assert_eq!(reported.standing(), Standing::Skipped);
        assert_eq!(reported.skipped.as_deref(), Some(why));
        let mut failing = TrialResult::new("u");
        failing.add(
            OutcomeKind::Skipped,
            Standing::Skipped,
            why,
            SkipPolicy::Fail,
        );
        assert_eq!(failing.standing(), Standing::Unexpected);
        let nothing_ran = TrialResult::new("v");
        assert_eq!(nothing_ran.standing(), Standing::Unexpected);
        let tally = Tally::of(&[reported, failing, nothing_ran]);
        assert_eq!(tally.summary(), "1 passed, 2 failed, 1 skipped");
    }
}
