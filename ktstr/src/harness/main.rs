//! The test binary's `main`: the guest role as PID 1, otherwise a libtest-compatible host harness that
//! also fans gauntlet tests out, applies a time budget, runs up to J VMs at once, prints progress as trials
//! finish and a summary table at the end.

use std::sync::Arc;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use super::budget::{self, Candidate};
use super::gauntlet::{self, GauntletMode, HostCapacity};
use super::progress::{Progress, Row};
use super::verdict::{render, write_record};
use super::{run_vm_test, OutcomeKind, Standing, TrialOutcome, VmTest};

/// Runs `tests`: as PID 1 inside a VM, the trial named on the kernel command line; otherwise each
/// selected test in its own VM, listed and filtered like `cargo test`. Never returns.
pub fn main(tests: Vec<VmTest>) -> ! {
    if std::process::id() == 1 {
        run_guest(&tests);
    }
    if let Some(name) = duplicate_name(&tests) {
        eprintln!(
            "ktstr: two tests are named {name:?}; a #[ktstr_test] is named after its function, so rename one"
        );
        std::process::exit(2);
    }
    let planned = check_declarations(&tests)
        .and_then(|()| plan(tests))
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
    let trials = plan
        .trials
        .into_iter()
        .map(|t| t.into_trial(&progress, skips))
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

/// What a binary will list: each trial, whether it is ignored, and what it does when run.
struct Plan {
    trials: Vec<PlannedTrial>,
    /// Lines for stderr: gauntlet variants this host skips, the budget's selection.
    notes: Vec<String>,
}

struct PlannedTrial {
    name: String,
    ignored: bool,
    action: Action,
}

enum Action {
    Vm(Box<VmTest>),
    Host(Box<VmTest>),
    /// A gauntlet variant this host cannot boot: run anyway (with `--include-ignored`), it fails saying why.
    CannotRun(String),
}

/// What a trial that skipped (where it expected a pass) does to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SkipPolicy {
    /// libtest's way: reported as ignored, with the reason; the run does not fail for it.
    Report,
    /// `KTSTR_FAIL_ON_SKIP=1`: the trial fails.
    Fail,
}

impl SkipPolicy {
    fn from_env() -> Result<SkipPolicy, String> {
        SkipPolicy::parse(std::env::var("KTSTR_FAIL_ON_SKIP").ok().as_deref())
    }

    /// `KTSTR_FAIL_ON_SKIP`'s value: unset, empty or 0 reports skips, 1 fails them.
    fn parse(value: Option<&str>) -> Result<SkipPolicy, String> {
        match value.map(str::trim) {
            None | Some("" | "0") => Ok(SkipPolicy::Report),
            Some("1") => Ok(SkipPolicy::Fail),
            Some(other) => Err(format!(
                "KTSTR_FAIL_ON_SKIP={other:?} is not 0 or 1; set 1 to fail a skipped trial, or unset it (or 0) to report it as ignored"
            )),
        }
    }
}

impl PlannedTrial {
    fn into_trial(self, progress: &Arc<Progress>, skips: SkipPolicy) -> Trial {
        let progress = Arc::clone(progress);
        let name = self.name.clone();
        let trial = Trial::ignorable_test(self.name, move || {
            progress.begin();
            let started = std::time::Instant::now();
            let (outcome, result) = match self.action {
                Action::Vm(test) => judge(&test, skips),
                Action::Host(test) => judge_on_host(&test, skips),
                Action::CannotRun(why) => (
                    None,
                    Err(Failed::from(format!("cannot run on this host: {why}"))),
                ),
            };
            progress.end(Row {
                name,
                outcome: outcome.map_or("not run".into(), |k| format!("{k:?}")),
                standing: match &result {
                    Ok(Completion::Completed) => Standing::AsExpected,
                    Ok(Completion::Ignored { .. }) => Standing::Skipped,
                    Err(_) => Standing::Unexpected,
                },
                wall: started.elapsed(),
            });
            result
        });
        trial.with_ignored_flag(self.ignored)
    }
}

/// The trials of `tests`: each test as itself, and the gauntlet variants of those that fan out; then the
/// budget, if one is set, leaves the trials it does not select ignored.
fn plan(tests: Vec<VmTest>) -> Result<Plan, String> {
    let mode = GauntletMode::from_env()?;
    let kernels = gauntlet::kernels_from_env()?;
    let repeat = repeat_from_env()?;
    let tests: Vec<VmTest> = tests
        .into_iter()
        .map(|t| match repeat {
            Some(r) => t.repeat(r),
            None => t,
        })
        .collect();
    let host = HostCapacity::here();
    let mut trials = Vec::new();
    let mut skipped = Vec::new();
    for test in tests {
        if mode.expands(&test) {
            let variants = gauntlet::expand(&test, &host, &kernels)
                .map_err(|e| format!("test {}: {e}", test.name))?;
            trials.extend(
                variants
                    .into_iter()
                    .map(|v| variant_trial(v, mode, &mut skipped)),
            );
        }
        let name = test.trial_name();
        let action = match test.host_only {
            true => Action::Host(Box::new(test)),
            false => Action::Vm(Box::new(test)),
        };
        trials.push(PlannedTrial {
            name,
            ignored: false,
            action,
        });
    }
    let mut notes = Vec::new();
    if !skipped.is_empty() {
        notes.push(format!(
            "ktstr: {} gauntlet variant(s) cannot run on this host ({:?}, {} CPUs) and are listed as ignored:",
            skipped.len(),
            host.accel,
            host.cpus
        ));
        notes.append(&mut skipped);
    }
    if let Some((budget, seed)) = budget::from_env()? {
        notes.extend(apply_budget(&mut trials, budget, seed, &host));
    }
    Ok(Plan { trials, notes })
}

/// A gauntlet variant as a trial: ignored unless the mode runs variants, and run only to fail when this
/// host cannot boot it (its name and reason go to `skipped`).
fn variant_trial(
    variant: gauntlet::Variant,
    mode: GauntletMode,
    skipped: &mut Vec<String>,
) -> PlannedTrial {
    let name = variant.test.trial_name();
    let action = match variant.skip {
        Some(why) => {
            skipped.push(format!("  {name}: {why}"));
            Action::CannotRun(why)
        }
        None => Action::Vm(Box::new(variant.test)),
    };
    let ignored = !mode.runs_variants() || matches!(action, Action::CannotRun(_));
    PlannedTrial {
        name,
        ignored,
        action,
    }
}

/// `KTSTR_REPEAT`: how many times every trial of the binary runs, over each test's own `repeat`.
fn repeat_from_env() -> Result<Option<u32>, String> {
    match std::env::var("KTSTR_REPEAT") {
        Ok(text) if !text.trim().is_empty() => text
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|r| (1..=1000).contains(r))
            .map(Some)
            .ok_or_else(|| format!("KTSTR_REPEAT={text:?} is not a repeat count from 1 to 1000")),
        _ => Ok(None),
    }
}

/// Leaves ignored every runnable trial the budget does not select; returns the lines that say what it chose.
fn apply_budget(
    trials: &mut [PlannedTrial],
    budget: std::time::Duration,
    seed: u64,
    host: &HostCapacity,
) -> Vec<String> {
    let measured = budget::measured_walls(&super::runs_dir());
    let mut candidates = Vec::new();
    let mut indices = Vec::new();
    for (i, trial) in trials.iter().enumerate() {
        let test = match &trial.action {
            Action::Vm(test) | Action::Host(test) if !trial.ignored => test,
            _ => continue,
        };
        candidates.push(Candidate::of(test, host.accel, &measured));
        indices.push(i);
    }
    let selection = budget::select(&candidates, budget, seed);
    for (c, i) in indices.iter().enumerate() {
        trials[*i].ignored = !selection.chosen.contains(&c);
    }
    let mut lines = vec![selection.summary(candidates.len(), budget, seed)];
    for c in &selection.chosen {
        let candidate = &candidates[*c];
        lines.push(format!(
            "  {} ({:.0} s {})",
            candidate.name,
            candidate.cost.as_secs_f64(),
            if candidate.measured {
                "measured"
            } else {
                "estimated"
            }
        ));
    }
    lines
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

/// Every test's declaration resolved (profile, topology within its constraints) before anything runs,
/// so a mistake in one stops the binary with its name instead of failing a trial minutes in.
fn check_declarations(tests: &[VmTest]) -> Result<(), String> {
    for test in tests {
        test.resolved()
            .map_err(|e| format!("test {}: {e}", test.name))?;
    }
    Ok(())
}

/// A name two of `tests` share.
fn duplicate_name(tests: &[VmTest]) -> Option<&str> {
    let mut names: Vec<&str> = tests.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    names.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
}

/// Every `#[ktstr_test]` linked into this binary, sorted by name.
pub fn registered_tests() -> Vec<VmTest> {
    let mut tests: Vec<VmTest> = crate::__private::KTSTR_TESTS
        .iter()
        .map(|build| build())
        .collect();
    tests.sort_by(|a, b| a.name.cmp(&b.name));
    tests
}

/// The guest role over `tests`: PID 1 runs the one the kernel command line names. Never returns.
pub fn run_guest(tests: &[VmTest]) -> ! {
    crate::guest::run_guest(&|name| tests.iter().find(|t| t.name == name).map(|t| t.func))
}

fn judge(test: &VmTest, skips: SkipPolicy) -> (Option<OutcomeKind>, Result<Completion, Failed>) {
    let repeats = test.repeats();
    let mut kind = None;
    let mut failures = Vec::new();
    let mut skipped = None;
    for repeat in 0..repeats {
        let outcome = match run_vm_test(test) {
            Ok(outcome) => outcome,
            Err(e) => return (kind, Err(Failed::from(format!("could not run: {e}")))),
        };
        let mut text = render(&outcome, test.expect);
        if repeats > 1 {
            text = format!("--- repeat {}/{repeats} ---\n{text}", repeat + 1);
        }
        match write_record(&outcome, repeat) {
            Ok(path) => text += &format!("\nrun record: {}", path.display()),
            Err(e) => text += &format!("\nrun record not written: {e}"),
        }
        // One write, so a verdict stays whole when several VMs run at once.
        println!("{text}");
        let standing = test.standing(outcome.kind, &outcome.reason, &outcome.detail_kinds());
        match (standing, skips) {
            (Standing::AsExpected, _) => {}
            (Standing::Skipped, SkipPolicy::Report) => {
                skipped.get_or_insert(outcome.reason.clone());
            }
            _ => failures.push(text + &why_unexpected(test, &outcome)),
        }
        kind = Some(outcome.kind);
    }
    if !failures.is_empty() {
        let failed = Failed::from(format!(
            "{} of {repeats} run(s) not as expected:\n{}",
            failures.len(),
            failures.join("\n")
        ));
        return (kind, Err(failed));
    }
    (kind, Ok(completion(skipped)))
}

/// A trial with no failure: completed, or ignored with the reason it skipped.
fn completion(skipped: Option<String>) -> Completion {
    match skipped {
        Some(reason) => Completion::ignored_with(reason),
        None => Completion::Completed,
    }
}

/// What an unexpected outcome lacked, when its class alone matched or it skipped where skips fail.
fn why_unexpected(test: &VmTest, outcome: &TrialOutcome) -> String {
    if outcome.kind == test.expect {
        return format!(
            "\nthe outcome class is as expected, but the verdict lacks {}",
            test.expectation()
        );
    }
    if test.standing(outcome.kind, &outcome.reason, &[]) == Standing::Skipped {
        return "\nthe trial skipped, and KTSTR_FAIL_ON_SKIP=1 makes a skip fail".into();
    }
    String::new()
}

fn judge_on_host(
    test: &VmTest,
    skips: SkipPolicy,
) -> (Option<OutcomeKind>, Result<Completion, Failed>) {
    let outcome = match super::run_host_test(test) {
        Ok(outcome) => outcome,
        Err(e) => return (None, Err(Failed::from(format!("could not run: {e}")))),
    };
    println!("{}", outcome.text);
    let details: Vec<_> = outcome
        .result
        .iter()
        .flat_map(|r| r.details.iter().map(|d| d.kind))
        .collect();
    let result = match (
        test.standing(outcome.kind, &outcome.reason, &details),
        skips,
    ) {
        (Standing::AsExpected, _) => Ok(Completion::Completed),
        (Standing::Skipped, SkipPolicy::Report) => Ok(completion(Some(outcome.reason))),
        _ => Err(Failed::from(outcome.text)),
    };
    (Some(outcome.kind), result)
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
    use crate::assert::AssertResult;
    use crate::scenario::Ctx;

    fn nothing(_: &Ctx) -> anyhow::Result<AssertResult> {
        Ok(AssertResult::pass())
    }

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
    fn a_skip_becomes_libtests_ignored_with_its_reason() {
        assert!(matches!(completion(None), Completion::Completed));
        let ignored = completion(Some("skipped: needs 2 LLCs".into()));
        assert!(
            matches!(ignored, Completion::Ignored { reason: Some(ref r) } if r == "skipped: needs 2 LLCs")
        );
    }

    #[test]
    fn duplicate_test_names_are_found() {
        let tests = [
            VmTest::new("a", nothing),
            VmTest::new("b", nothing),
            VmTest::new("a", nothing),
        ];
        assert_eq!(duplicate_name(&tests), Some("a"));
        assert_eq!(duplicate_name(&tests[..2]), None);
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
