//! Dynamic canned scenarios: cgroups added, removed and nested, affinities and tasks moved mid-run.

use crate::assert::AssertResult;
use crate::scenario::{
    execute_scenario, execute_scenario_with, AffinityIntent, Backdrop, CgroupDef, Ctx, HoldSpec,
    Op, Step, WithOps,
};

const HALF: HoldSpec = HoldSpec::Frac(0.5);

fn named(names: &[&'static str]) -> Vec<CgroupDef> {
    names.iter().map(|n| CgroupDef::named(*n)).collect()
}

pub fn cgroup_add(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    let backdrop = Backdrop::with_cgroups(named(&["cg_0", "cg_1"]));
    let steps = vec![
        Step::new(Vec::new(), HALF),
        Step::with_defs(named(&["cg_2", "cg_3"]), HALF),
    ];
    Ok(execute_scenario(ctx, &backdrop, steps)?)
}

/// Step-local cgroups are stopped, judged and removed when their step ends.
pub fn cgroup_remove(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    let backdrop = Backdrop::with_cgroups(named(&["cg_0", "cg_1"]));
    let steps = vec![
        Step::with_defs(named(&["cg_2", "cg_3"]), HALF),
        Step::new(Vec::new(), HALF),
    ];
    Ok(execute_scenario(ctx, &backdrop, steps)?)
}

/// Random affinities can stack workers unevenly (three on two CPUs, one on the other two), so CPU shares
/// differ by construction; the spread threshold allows that 2:1 split, while gaps are judged as usual.
pub fn affinity_change(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    let backdrop = Backdrop::with_cgroups(named(&["cg_0", "cg_1"]));
    let randomize = || {
        Step::new(
            vec![
                Op::set_affinity("cg_0", AffinityIntent::RandomSubset),
                Op::set_affinity("cg_1", AffinityIntent::RandomSubset),
            ],
            HoldSpec::Frac(0.25),
        )
    };
    let checks = super::spread_unless_set(ctx, 50.0);
    let steps = (0..4).map(|_| randomize()).collect();
    Ok(execute_scenario_with(ctx, &backdrop, steps, Some(&checks))?)
}

pub fn nested_steady(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    let defs = vec![
        CgroupDef::named("outer_0/inner_0"),
        CgroupDef::named("outer_0/inner_1"),
        CgroupDef::named("outer_1/inner_0"),
    ];
    Ok(execute_scenario(
        ctx,
        &Backdrop::EMPTY,
        vec![Step::with_defs(defs, HoldSpec::FULL)],
    )?)
}

pub fn nested_task_move(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    let backdrop = Backdrop::with_cgroups([CgroupDef::named("outer/a").workers(2)])
        .push_op(Op::add_cgroup("outer/b"));
    let steps = vec![
        Step::new(Vec::new(), HALF),
        Step::new(vec![Op::move_all_tasks("outer/a", "outer/b")], HALF),
    ];
    Ok(execute_scenario(ctx, &backdrop, steps)?)
}
