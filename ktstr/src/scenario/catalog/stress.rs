//! Stress canned scenarios: host contention, cgroup churn, cpuset flips, many work types at once.

use std::time::Duration;

use crate::assert::AssertResult;
use crate::scenario::{
    execute_scenario, execute_scenario_with, Backdrop, CgroupDef, CpusetSpec, Ctx, HoldSpec, Op,
    Step, WithOps, Work,
};
use crate::workload::WorkType;

pub fn host_contention(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    let per_cpu = Work::default().workers(ctx.topo.total_cpus());
    let backdrop = Backdrop::with_cgroups([CgroupDef::named("cg_0"), CgroupDef::named("cg_1")])
        .push_op(Op::spawn_host(per_cpu));
    Ok(execute_scenario(
        ctx,
        &backdrop,
        vec![Step::new(Vec::new(), HoldSpec::FULL)],
    )?)
}

/// One step per churn cycle: each step's cgroup is created, filled, and removed at the step's end.
pub fn cgroup_rapid_churn(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    const CYCLE: Duration = Duration::from_millis(100);
    let cycles = (ctx.duration.as_millis() / CYCLE.as_millis()).max(1);
    let backdrop = Backdrop::with_cgroups([CgroupDef::named("steady")]);
    let steps = (0..cycles)
        .map(|_| Step::with_defs(vec![CgroupDef::named("churn")], HoldSpec::Fixed(CYCLE)))
        .collect();
    Ok(execute_scenario(ctx, &backdrop, steps)?)
}

pub fn cpuset_flip_race(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    let backdrop = Backdrop::with_cgroups([
        CgroupDef::named("cg_0").with_cpuset(CpusetSpec::disjoint(0, 2)),
        CgroupDef::named("cg_1").with_cpuset(CpusetSpec::disjoint(1, 2)),
    ]);
    let flip = Step::new(
        vec![Op::swap_cpusets("cg_0", "cg_1")],
        HoldSpec::Loop {
            interval: Duration::from_millis(50),
        },
    );
    let checks = super::isolation_unless_set(ctx);
    Ok(execute_scenario_with(
        ctx,
        &backdrop,
        vec![flip],
        Some(&checks),
    )?)
}

pub fn workload_variety(ctx: &Ctx) -> anyhow::Result<AssertResult> {
    let types = [
        ("spin", WorkType::SpinWait),
        ("bursty", WorkType::bursty(50, 100)),
        ("io", WorkType::IoSync),
        ("mixed", WorkType::Mixed),
        ("yield", WorkType::YieldHeavy),
    ];
    let defs: Vec<CgroupDef> = types
        .into_iter()
        .map(|(name, wt)| CgroupDef::named(name).push_work(Work::new(wt).workers(2)))
        .collect();
    // Unpinned spinners share CPUs with yielding, sleeping and IO workers in different mixes, so over a
    // few seconds their shares differ by up to ~25 points even under a fair scheduler (measured in the VM).
    let checks = super::spread_unless_set(ctx, 40.0);
    Ok(execute_scenario_with(
        ctx,
        &Backdrop::EMPTY,
        vec![Step::with_defs(defs, HoldSpec::FULL)],
        Some(&checks),
    )?)
}
