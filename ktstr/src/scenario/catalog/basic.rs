//! Basic canned scenarios: steady cgroups with fixed shapes.

use crate::assert::AssertResult;
use crate::scenario::{
    execute_defs, execute_steps_with, AffinityIntent, CgroupDef, CpusetSpec, Ctx, HoldSpec, Step,
    Work,
};
use crate::workload::{SchedPolicy, WorkType};

pub fn steady(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    Ok(execute_defs(
        ctx,
        vec![
            CgroupDef::named("cg_0").swappable(true),
            CgroupDef::named("cg_1").swappable(true),
        ],
    )?)
}

pub fn steady_llc(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    if ctx.topo.num_llcs() < 2 {
        return Ok(AssertResult::skip(format!(
            "steady_llc needs at least 2 LLCs; this topology has {}",
            ctx.topo.num_llcs()
        )));
    }
    let defs = vec![
        CgroupDef::named("cg_0").with_cpuset(CpusetSpec::llc(0)),
        CgroupDef::named("cg_1").with_cpuset(CpusetSpec::llc(1)),
    ];
    let checks = super::isolation_unless_set(ctx);
    Ok(execute_steps_with(
        ctx,
        vec![Step::with_defs(defs, HoldSpec::FULL)],
        Some(&checks),
    )?)
}

pub fn oversubscribed(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    let def = |name: &'static str| {
        CgroupDef::named(name).push_work(Work::new(WorkType::Mixed).workers(16))
    };
    Ok(execute_defs(ctx, vec![def("cg_0"), def("cg_1")])?)
}

pub fn affinity_pinned(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    let pair: Vec<usize> = ctx.topo.usable_cpus().iter().take(2).collect();
    let def =
        |name: &'static str| CgroupDef::named(name).affinity(AffinityIntent::exact(pair.clone()));
    Ok(execute_defs(ctx, vec![def("cg_0"), def("cg_1")])?)
}

pub fn mixed_workloads(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    Ok(execute_defs(
        ctx,
        vec![
            CgroupDef::named("heavy").work_type(WorkType::SpinWait),
            CgroupDef::named("bursty").work_type(WorkType::bursty(50, 100)),
            CgroupDef::named("io").push_work(Work::new(WorkType::IoSync).workers(2)),
        ],
    )?)
}

/// Normal and batch workers are bursty, leaving idle time: SCHED_IDLE workers beside CPU-saturating
/// normal ones starve by design, which would make the scenario fail on every scheduler.
pub fn sched_policies(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    let bursty = || WorkType::bursty(20, 40);
    Ok(execute_defs(
        ctx,
        vec![
            CgroupDef::named("normal")
                .work_type(bursty())
                .sched_policy(SchedPolicy::Normal),
            CgroupDef::named("batch")
                .work_type(bursty())
                .sched_policy(SchedPolicy::Batch),
            CgroupDef::named("idle").sched_policy(SchedPolicy::Idle),
        ],
    )?)
}
