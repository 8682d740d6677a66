//! The plan: every trial a set of tests makes — each test as itself, the gauntlet variants of those that
//! fan out (ignored when the mode only lists them, or when this host cannot boot them), each with its
//! repeats — and the budget's selection, with the lines that say what was left out and why.

use std::time::Duration;

use super::budget::{self, Candidate};
use super::gauntlet::{self, GauntletMode, HostCapacity};
use crate::harness::VmTest;
use crate::kernel::KernelFlavor;

/// What a plan is made from.
#[derive(Clone)]
pub struct PlanInputs {
    pub tests: Vec<VmTest>,
    pub gauntlet: GauntletMode,
    /// The gauntlet's kernel dimension (`KTSTR_KERNELS`); empty is the default kernel only.
    pub kernels: Vec<KernelFlavor>,
    /// Runs of every trial, over each test's own `repeat`.
    pub repeat: Option<u32>,
    /// The time budget and its tie-break seed.
    pub budget: Option<(Duration, u64)>,
    pub host: HostCapacity,
}

impl PlanInputs {
    /// `tests` with the environment's choices: `KTSTR_GAUNTLET`, `KTSTR_KERNELS`, `KTSTR_REPEAT`,
    /// `KTSTR_BUDGET_SECS` / `KTSTR_BUDGET_SEED`, on this host.
    pub fn from_env(tests: Vec<VmTest>) -> Result<PlanInputs, String> {
        Ok(PlanInputs {
            tests,
            gauntlet: GauntletMode::from_env()?,
            kernels: gauntlet::kernels_from_env()?,
            repeat: repeat_from_env()?,
            budget: budget::from_env()?,
            host: HostCapacity::here(),
        })
    }
}

/// Every trial of a run, in order, and the lines for stderr that say what the plan left out.
pub struct Plan {
    pub trials: Vec<PlannedTrial>,
    /// Gauntlet variants this host skips, the budget's selection.
    pub notes: Vec<String>,
}

/// One trial: its name, whether it runs without `--include-ignored`, and what running it does.
pub struct PlannedTrial {
    pub name: String,
    pub ignored: bool,
    pub action: Action,
}

pub enum Action {
    /// Boot a VM for each repeat of the test.
    Vm(Box<VmTest>),
    /// Run the test's function on this host (`host_only`).
    Host(Box<VmTest>),
    /// A gauntlet variant this host cannot boot: run anyway (with `--include-ignored`), it fails saying why.
    CannotRun(String),
}

impl PlannedTrial {
    /// The test it runs, unless it cannot run here.
    pub fn test(&self) -> Option<&VmTest> {
        match &self.action {
            Action::Vm(test) | Action::Host(test) => Some(test),
            Action::CannotRun(_) => None,
        }
    }
}

impl Plan {
    /// The trials that run without `--include-ignored`.
    pub fn runnable(&self) -> impl Iterator<Item = &PlannedTrial> {
        self.trials.iter().filter(|t| !t.ignored)
    }
}

/// The plan of `inputs`. Every test's declaration is resolved first, so a mistake in one is an error
/// naming it before anything runs.
pub fn plan(inputs: PlanInputs) -> Result<Plan, String> {
    check_declarations(&inputs.tests)?;
    let PlanInputs {
        tests,
        gauntlet: mode,
        kernels,
        repeat,
        budget,
        host,
    } = inputs;
    let mut trials = Vec::new();
    let mut skipped = Vec::new();
    for test in tests {
        let test = match repeat {
            Some(r) => test.repeat(r),
            None => test,
        };
        if mode.expands(&test) {
            let variants = gauntlet::expand(&test, &host, &kernels)
                .map_err(|e| format!("test {}: {e}", test.name()))?;
            trials.extend(
                variants
                    .into_iter()
                    .map(|v| variant_trial(v, mode, &mut skipped)),
            );
        }
        trials.push(PlannedTrial {
            name: test.trial_name(),
            ignored: false,
            action: match test.is_host_only() {
                true => Action::Host(Box::new(test)),
                false => Action::Vm(Box::new(test)),
            },
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
    if let Some((budget, seed)) = budget {
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

/// `KTSTR_REPEAT`: how many times every trial runs, over each test's own `repeat`.
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
    budget: Duration,
    seed: u64,
    host: &HostCapacity,
) -> Vec<String> {
    let measured = budget::measured_walls(&crate::runs::runs_root());
    let mut candidates = Vec::new();
    let mut indices = Vec::new();
    for (i, trial) in trials.iter().enumerate() {
        if let Some(test) = trial.test().filter(|_| !trial.ignored) {
            candidates.push(Candidate::of(test, host.accel, &measured));
            indices.push(i);
        }
    }
    let selection = budget::select(&candidates, budget, seed);
    for (c, i) in indices.iter().enumerate() {
        trials[*i].ignored = !selection.chosen.contains(&c);
    }
    let mut lines = vec![selection.summary(candidates.len(), budget, seed)];
    for c in &selection.chosen {
        let candidate = &candidates[*c];
        let how = match candidate.measured {
            true => "measured",
            false => "estimated",
        };
        lines.push(format!(
            "  {} ({:.0} s {how})",
            candidate.name,
            candidate.cost.as_secs_f64()
        ));
    }
    lines
}

/// Every test's declaration resolved (profile, topology within its constraints) and its name unique.
fn check_declarations(tests: &[VmTest]) -> Result<(), String> {
    let mut names: Vec<&str> = tests.iter().map(|t| t.name()).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!(
            "two tests are named {:?}; a #[ktstr_test] is named after its function, so rename one",
            pair[0]
        ));
    }
    for test in tests {
        test.resolved()
            .map_err(|e| format!("test {}: {e}", test.name()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::AssertResult;
    use crate::scenario::Ctx;

    fn nothing(_: &Ctx) -> anyhow::Result<AssertResult> {
        Ok(AssertResult::pass())
    }

    fn inputs(tests: Vec<VmTest>) -> PlanInputs {
        PlanInputs {
            tests,
            gauntlet: GauntletMode::Listed,
            kernels: vec![],
            repeat: None,
            budget: None,
            host: HostCapacity::here(),
        }
    }

    #[test]
    fn duplicate_test_names_are_an_error_naming_the_name() {
        let tests = vec![
            VmTest::new("a", nothing),
            VmTest::new("b", nothing),
            VmTest::new("a", nothing),
        ];
        let why = plan(inputs(tests)).err().unwrap();
        assert!(why.contains("two tests are named \"a\""), "{why}");
    }

    #[test]
    fn a_repeat_over_the_plan_applies_to_every_trial() {
        let mut with_repeat = inputs(vec![VmTest::new("a", nothing), VmTest::new("b", nothing)]);
        with_repeat.repeat = Some(3);
        let planned = plan(with_repeat).unwrap();
        assert_eq!(planned.trials.len(), 2);
        assert!(planned
            .trials
            .iter()
            .all(|t| t.test().unwrap().repeats() == 3));
    }
}
