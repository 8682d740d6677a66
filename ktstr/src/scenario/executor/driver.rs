//! The scenario executors: validate everything, set up the backdrop, run each step, judge, tear down.

use std::time::{Duration, Instant};

use super::live::LiveScope;
use super::running_scenario::RunningScenario;
use crate::assert::{Assert, AssertDetail, AssertResult, DetailKind};
use crate::scenario::{Backdrop, CgroupDef, Ctx, HoldSpec, ScenarioError, Scope, Step};
use crate::sys::process_alive;

/// How often a hold re-checks that the scheduler is alive.
const LIVENESS_POLL: Duration = Duration::from_millis(100);

/// Runs the given cgroups for the whole duration and judges them. A declaration that cannot run is a
/// typed `ScenarioError`, returned before anything starts.
///
/// ```no_run
/// use ktstr::prelude::*;
/// fn two_cgroups(ctx: &Ctx) -> Result<AssertResult> {
///     Ok(execute_defs(ctx, vec![
///         CgroupDef::named("cg_0").workers(2),
///         CgroupDef::named("cg_1").workers(2).with_cpuset(CpusetSpec::llc(0)),
///     ])?)
/// }
/// ```
pub fn execute_defs(ctx: &Ctx, defs: Vec<CgroupDef>) -> Result<AssertResult, ScenarioError> {
    execute_steps(ctx, vec![Step::with_defs(defs, HoldSpec::FULL)])
}

/// Runs the steps in order with `ctx.assert` as the checks.
pub fn execute_steps(ctx: &Ctx, steps: Vec<Step>) -> Result<AssertResult, ScenarioError> {
    execute_scenario_with(ctx, &Backdrop::EMPTY, steps, None)
}

/// Runs the steps with `checks` replacing `ctx.assert` when given.
pub fn execute_steps_with(
    ctx: &Ctx,
    steps: Vec<Step>,
    checks: Option<&Assert>,
) -> Result<AssertResult, ScenarioError> {
    execute_scenario_with(ctx, &Backdrop::EMPTY, steps, checks)
}

/// Runs a backdrop (alive for the whole scenario) and the steps.
pub fn execute_scenario(
    ctx: &Ctx,
    backdrop: &Backdrop,
    steps: Vec<Step>,
) -> Result<AssertResult, ScenarioError> {
    execute_scenario_with(ctx, backdrop, steps, None)
}

/// The full executor. A declaration that cannot run is an `Err(ScenarioError)` before anything starts; a
/// failure while running is a failed `AssertResult` that keeps every verdict gathered so far.
pub fn execute_scenario_with(
    ctx: &Ctx,
    backdrop: &Backdrop,
    steps: Vec<Step>,
    checks: Option<&Assert>,
) -> Result<AssertResult, ScenarioError> {
    let expanded: Vec<(&Step, Vec<CgroupDef>)> =
        steps.iter().map(|s| (s, s.setup.defs(ctx))).collect();
    crate::scenario::validate::validate(ctx, backdrop, &expanded)?;
    let assert = checks.copied().unwrap_or(ctx.assert);
    assert.validate().map_err(ScenarioError::Checks)?;
    let mut running = RunningScenario::new(ctx, assert);
    let start = Instant::now();
    let mut failure = backdrop_setup(&mut running, backdrop).err();
    if failure.is_none() {
        failure = run_steps(&mut running, &expanded, start);
    }
    let backdrop_scope = std::mem::replace(&mut running.backdrop, LiveScope::new(ctx.cgroups));
    running.end_scope(backdrop_scope);
    if failure.is_none() {
        failure = scheduler_check(
            ctx,
            &format!("the last of {} step(s)", expanded.len()),
            start,
        );
    }
    let mut verdict = running.verdict;
    if let Some(detail) = failure {
        verdict = verdict.merge(AssertResult::fail(detail));
    }
    if running.workers_judged == 0 && verdict.passed {
        verdict = verdict.merge(AssertResult::fail_msg(
            "the scenario ran no workers, so nothing was measured; give it at least one CgroupDef or Op::spawn",
        ));
    }
    Ok(verdict)
}

fn backdrop_setup(running: &mut RunningScenario, backdrop: &Backdrop) -> Result<(), AssertDetail> {
    running
        .setup_defs(Scope::Backdrop, &backdrop.cgroups)
        .and_then(|()| running.apply_ops(Scope::Backdrop, &backdrop.ops))
        .map_err(|e| detail(DetailKind::Other, format!("Backdrop setup failed: {e}")))
}

fn run_steps(
    running: &mut RunningScenario,
    steps: &[(&Step, Vec<CgroupDef>)],
    start: Instant,
) -> Option<AssertDetail> {
    let ctx = running.ctx;
    for (i, (step, defs)) in steps.iter().enumerate() {
        if i > 0 {
            let done = format!("step {} of {}", i, steps.len());
            if let Some(died) = scheduler_check(ctx, &done, start) {
                return Some(died);
            }
        }
        running.step = Some(LiveScope::new(ctx.cgroups));
        let outcome = run_step(running, Scope::Step(i), step, defs, start);
        if let Some(scope) = running.step.take() {
            running.end_scope(scope);
        }
        if let Err(e) = outcome {
            return Some(e);
        }
    }
    None
}

fn run_step(
    running: &mut RunningScenario,
    scope: Scope,
    step: &Step,
    defs: &[CgroupDef],
    start: Instant,
) -> Result<(), AssertDetail> {
    let ctx = running.ctx;
    let failed = |e: crate::scenario::ScenarioError| {
        detail(DetailKind::Other, format!("{scope} failed: {e}"))
    };
    match step.hold {
        HoldSpec::Loop { interval } => {
            running.setup_defs(scope, defs).map_err(failed)?;
            let deadline = start + ctx.duration;
            loop {
                running.apply_ops(scope, &step.ops).map_err(failed)?;
                if Instant::now() >= deadline {
                    return Ok(());
                }
                hold(
                    ctx,
                    interval.min(deadline.saturating_duration_since(Instant::now())),
                    start,
                )?;
            }
        }
        _ => {
            running.apply_ops(scope, &step.ops).map_err(failed)?;
            running.setup_defs(scope, defs).map_err(failed)?;
            hold(ctx, step.hold.duration(ctx.duration), start)
        }
    }
}

/// Sleeps for `length`, failing early if the scheduler dies meanwhile.
fn hold(ctx: &Ctx, length: Duration, start: Instant) -> Result<(), AssertDetail> {
    let until = Instant::now() + length;
    loop {
        let now = Instant::now();
        if now >= until {
            return Ok(());
        }
        std::thread::sleep(LIVENESS_POLL.min(until - now));
        if let Some(died) = scheduler_check(ctx, "a hold", start) {
            return Err(died);
        }
    }
}

fn scheduler_check(ctx: &Ctx, after: &str, start: Instant) -> Option<AssertDetail> {
    let pid = ctx.sched_pid?;
    if u32::try_from(pid).is_ok_and(process_alive) {
        return None;
    }
    Some(detail(
        DetailKind::SchedulerDied,
        format!(
            "scheduler process {pid} died unexpectedly during or after {after} ({:.1}s into the test)",
            start.elapsed().as_secs_f64()
        ),
    ))
}

fn detail(kind: DetailKind, message: String) -> AssertDetail {
    AssertDetail { kind, message }
}
