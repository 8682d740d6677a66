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

/// Every canned scenario in one guest; timing verdicts are asserted here, on an otherwise idle VM.
pub fn whole_catalog(ctx: &Ctx) -> Result<AssertResult> {
    let mut verdict = AssertResult::pass();
    for canned in ktstr::scenario::catalog::catalog() {
        let result =
            (canned.run)(ctx).map_err(|e| e.context(format!("canned scenario {}", canned.name)))?;
        verdict = verdict.merge(result);
    }
    Ok(verdict)
}
