//! Test functions shared by the VM suite (tests/vm.rs) and the fidelity bench (benches/fidelity.rs): the
//! true-positive fixtures and the whole catalog as one test.

use std::time::Duration;

use ktstr::prelude::*;

/// A SCHED_FIFO hog and a normal worker pinned to one CPU; with RT throttling off (the trial's sysctl) and
/// CPU 0's fair server (6.12's 5 % reserve for normal tasks) off, the normal one starves.
pub fn fifo_hog_starves_a_normal_worker(ctx: &Ctx) -> Result<AssertResult> {
    std::fs::write("/sys/kernel/debug/sched/fair_server/cpu0/runtime", "0")?;
    let cpu0 = || {
        Work::new(WorkType::SpinWait)
            .workers(1)
            .affinity(AffinityIntent::exact([0]))
    };
    let def = CgroupDef::named("shared")
        .push_work(cpu0().sched_policy(SchedPolicy::fifo(50)))
        .push_work(cpu0());
    Ok(execute_defs(ctx, vec![def])?)
}

/// One cpuset of three CPUs: two workers pinned to its first CPU, one to its second, the third idles.
pub fn stacked_beside_an_idle_cpu(ctx: &Ctx) -> Result<AssertResult> {
    let on = |cpu: usize, workers: usize| {
        Work::new(WorkType::SpinWait)
            .workers(workers)
            .affinity(AffinityIntent::exact([cpu]))
    };
    let def = CgroupDef::named("stacked")
        .with_cpuset(CpusetSpec::exact([0, 1, 2]))
        .push_work(on(0, 2))
        .push_work(on(1, 1));
    Ok(execute_defs(ctx, vec![def])?)
}

/// Two spinners pinned to `cpu`, one at nice 0 and one at `nice`: the kernel's weights split the CPU
/// as a scheduler that favours one of two equal tasks would (nice 3: 1024 to 526, about 66:34 or 2:1;
/// nice 1: 1024 to 820, about 55:45).
fn split_pair_on(cpu: usize, nice: i32) -> [Work; 2] {
    let on = |nice: i32| {
        Work::new(WorkType::SpinWait)
            .workers(1)
            .affinity(AffinityIntent::exact([cpu]))
            .nice(nice)
    };
    [on(0), on(nice)]
}

/// One saturated CPU split between the two workers of a cgroup, one at nice 0 and one at `nice`.
pub fn split_one_cpu(ctx: &Ctx, nice: i32) -> Result<AssertResult> {
    let [a, b] = split_pair_on(1, nice);
    let def = CgroupDef::named("split")
        .with_cpuset(CpusetSpec::exact([1]))
        .push_work(a)
        .push_work(b);
    Ok(execute_defs(ctx, vec![def])?)
}

/// Three spinners on a two-CPU cpuset placed statically, one alone and two sharing: 100:50:50.
pub fn static_three_on_two_cpus(ctx: &Ctx) -> Result<AssertResult> {
    let on = |cpu: usize, workers: usize| {
        Work::new(WorkType::SpinWait)
            .workers(workers)
            .affinity(AffinityIntent::exact([cpu]))
    };
    let def = CgroupDef::named("static")
        .with_cpuset(CpusetSpec::exact([1, 2]))
        .push_work(on(1, 1))
        .push_work(on(2, 2));
    Ok(execute_defs(ctx, vec![def])?)
}

/// A pair of cgroups, each splitting its own saturated CPU 2:1 between its two workers.
pub fn cgroup_pair_two_to_one(ctx: &Ctx) -> Result<AssertResult> {
    let def = |name: &'static str, cpu: usize| {
        let [a, b] = split_pair_on(cpu, 3);
        CgroupDef::named(name)
            .with_cpuset(CpusetSpec::exact([cpu]))
            .push_work(a)
            .push_work(b)
    };
    Ok(execute_defs(ctx, vec![def("pair_a", 1), def("pair_b", 2)])?)
}

/// Two bursty workers (5 ms of work, 10 ms asleep) pinned to CPU 1; with `fifo_bursts`, a SCHED_FIFO
/// worker in a cgroup of its own takes CPU 1 for 100 ms of every second, so about one wake-up in ten
/// waits tens of milliseconds while the rest wait well under one.
pub fn wakers_on_cpu1(ctx: &Ctx, fifo_bursts: bool) -> Result<AssertResult> {
    let on_cpu1 = |work: WorkType| {
        Work::new(work)
            .workers(1)
            .affinity(AffinityIntent::exact([1]))
    };
    let mut defs =
        vec![CgroupDef::named("wakers").push_work(on_cpu1(WorkType::bursty(5, 10)).workers(2))];
    if fifo_bursts {
        let bursts = on_cpu1(WorkType::bursty(100, 900)).sched_policy(SchedPolicy::fifo(50));
        defs.push(CgroupDef::named("fifo").push_work(bursts));
    }
    Ok(execute_defs(ctx, defs)?)
}

/// Allocates and touches memory until the kernel's OOM killer ends it.
pub fn exhausts_memory(_ctx: &Ctx) -> Result<AssertResult> {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(vec![0x5a; 16 << 20]);
    }
}

pub fn panics(_ctx: &Ctx) -> Result<AssertResult> {
    panic!("deliberate panic in the test function");
}

pub fn crashes_the_kernel(_ctx: &Ctx) -> Result<AssertResult> {
    std::fs::write("/proc/sysrq-trigger", "c")?;
    Ok(AssertResult::fail_msg("the kernel survived a sysrq crash"))
}

pub fn never_returns(_ctx: &Ctx) -> Result<AssertResult> {
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Every canned scenario in one guest; timing verdicts are asserted here, on an otherwise idle VM. A run
/// too short for any scenario to judge its scheduling gap fails: the gap check must be able to bite.
pub fn whole_catalog(ctx: &Ctx) -> Result<AssertResult> {
    let mut verdict = AssertResult::pass();
    let mut gap_judged = 0;
    for canned in ktstr::scenario::catalog::catalog() {
        let result =
            (canned.run)(ctx).map_err(|e| e.context(format!("canned scenario {}", canned.name)))?;
        gap_judged += usize::from(judged_the_gap(&result));
        verdict = verdict.merge(result);
    }
    if gap_judged == 0 {
        verdict = verdict.merge(AssertResult::fail_msg(format!(
            "no canned scenario judged the scheduling gap at {:?} per scenario: \
             run the catalog longer than the {} ms gap threshold",
            ctx.duration,
            ctx.assert.effective_max_gap_ms()
        )));
    }
    Ok(verdict)
}

/// Whether some cgroup of the scenario had its scheduling gap judged.
fn judged_the_gap(result: &AssertResult) -> bool {
    result.stats.cgroups.iter().any(|cg| {
        !result
            .not_judged
            .iter()
            .any(|n| n.check == "scheduling gap" && n.cgroup == cg.name)
    })
}
