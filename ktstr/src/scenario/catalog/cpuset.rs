//! Cpuset canned scenarios: cpusets applied, cleared, resized and swapped under running workers.

use crate::assert::AssertResult;
use crate::scenario::{
    execute_scenario_with, Backdrop, CgroupDef, CpusetSpec, Ctx, HoldSpec, Op, Step,
};

fn two_cgroups(a: Option<CpusetSpec>, b: Option<CpusetSpec>) -> Backdrop {
    let def = |name: &'static str, spec: Option<CpusetSpec>| match spec {
        Some(spec) => CgroupDef::named(name).with_cpuset(spec),
        None => CgroupDef::named(name),
    };
    Backdrop::with_cgroups([def("cg_0", a), def("cg_1", b)])
}

fn split(a: CpusetSpec, b: CpusetSpec, hold: HoldSpec) -> Step {
    Step::new(
        vec![Op::set_cpuset("cg_0", a), Op::set_cpuset("cg_1", b)],
        hold,
    )
}

fn idle_step(hold: HoldSpec) -> Step {
    Step::new(Vec::new(), hold)
}

pub fn cpuset_apply(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    let half = HoldSpec::Frac(0.5);
    let steps = vec![
        idle_step(half),
        split(CpusetSpec::disjoint(0, 2), CpusetSpec::disjoint(1, 2), half),
    ];
    run(ctx, &two_cgroups(None, None), steps)
}

/// Runs a cpuset scenario with isolation judged phase by phase.
fn run(ctx: &Ctx, backdrop: &Backdrop, steps: Vec<Step>) -> anyhow::Result<AssertResult> {
    let checks = super::isolation_unless_set(ctx);
    Ok(execute_scenario_with(ctx, backdrop, steps, Some(&checks))?)
}

pub fn cpuset_clear(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    let half = HoldSpec::Frac(0.5);
    let backdrop = two_cgroups(
        Some(CpusetSpec::disjoint(0, 2)),
        Some(CpusetSpec::disjoint(1, 2)),
    );
    let steps = vec![
        idle_step(half),
        Step::new(
            vec![Op::clear_cpuset("cg_0"), Op::clear_cpuset("cg_1")],
            half,
        ),
    ];
    run(ctx, &backdrop, steps)
}

pub fn cpuset_resize(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    let third = HoldSpec::Frac(1.0 / 3.0);
    let steps = vec![
        split(
            CpusetSpec::range(0.0, 0.5),
            CpusetSpec::range(0.5, 1.0),
            third,
        ),
        split(
            CpusetSpec::range(0.0, 0.75),
            CpusetSpec::range(0.75, 1.0),
            third,
        ),
        split(
            CpusetSpec::range(0.5, 1.0),
            CpusetSpec::range(0.0, 0.5),
            third,
        ),
    ];
    run(ctx, &two_cgroups(None, None), steps)
}

pub fn cpuset_swap(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    let third = HoldSpec::Frac(1.0 / 3.0);
    let backdrop = two_cgroups(
        Some(CpusetSpec::disjoint(0, 2)),
        Some(CpusetSpec::disjoint(1, 2)),
    );
    let swap = || Step::new(vec![Op::swap_cpusets("cg_0", "cg_1")], third);
    run(ctx, &backdrop, vec![idle_step(third), swap(), swap()])
}
