//! ktstr's own VM tests, written exactly as a scheduler author would: each test boots a sched_ext kernel
//! under QEMU with the topology it names. Run with `cargo test --test vm` (needs `ktstr kernel build`).

use std::time::Duration;

use ktstr::prelude::*;

fn two_cgroups_with_cpusets(ctx: &Ctx) -> Result<AssertResult> {
    execute_defs(
        ctx,
        vec![
            CgroupDef::named("cg_0").with_cpuset(CpusetSpec::disjoint(0, 2)),
            CgroupDef::named("cg_1").with_cpuset(CpusetSpec::disjoint(1, 2)),
        ],
    )
}

/// Set, read back and clear a cpuset through the real cgroup v2 manager, then inherit through nesting.
fn cpuset_read_back(ctx: &Ctx) -> Result<AssertResult> {
    let cpus = CpuSet::from_iter(ctx.topo.usable_cpus().iter().take(1));
    ctx.cgroups.create_cgroup("outer/inner")?;
    ctx.cgroups.set_cpuset("outer", &cpus)?;
    let read = ctx.cgroups.cpuset("outer")?;
    ctx.cgroups.clear_cpuset("outer")?;
    let cleared = ctx.cgroups.cpuset("outer")?;
    ctx.cgroups.remove_cgroup("outer")?;
    let mut result = AssertResult::pass();
    if read != cpus {
        result = result.merge(AssertResult::fail_msg(format!(
            "cpuset read back {read}, wrote {cpus}"
        )));
    }
    if !cleared.is_empty() {
        result = result.merge(AssertResult::fail_msg(format!(
            "cleared cpuset reads {cleared}"
        )));
    }
    Ok(result.merge(two_cgroups_with_cpusets(ctx)?))
}

fn cross_cgroup_affinity_stays_confined(ctx: &Ctx) -> Result<AssertResult> {
    let def = CgroupDef::named("narrow")
        .with_cpuset(CpusetSpec::exact([0]))
        .affinity(AffinityIntent::CrossCgroup);
    execute_defs(ctx, vec![def])
}

fn swap_clear_and_move(ctx: &Ctx) -> Result<AssertResult> {
    let backdrop = Backdrop::with_cgroups([
        CgroupDef::named("a").with_cpuset(CpusetSpec::disjoint(0, 2)),
        CgroupDef::named("b").with_cpuset(CpusetSpec::disjoint(1, 2)),
    ]);
    let steps = vec![
        Step::new(vec![Op::swap_cpusets("a", "b")], HoldSpec::Frac(0.5)),
        Step::new(
            vec![Op::clear_cpuset("a"), Op::move_all_tasks("b", "a")],
            HoldSpec::Frac(0.5),
        ),
    ];
    execute_scenario(ctx, &backdrop, steps)
}

/// A SCHED_FIFO hog and a normal worker pinned to one CPU; with RT throttling off (the trial's sysctl) and
/// CPU 0's fair server (6.12's 5 % reserve for normal tasks) off, the normal one starves.
fn fifo_hog_starves_a_normal_worker(ctx: &Ctx) -> Result<AssertResult> {
    std::fs::write("/sys/kernel/debug/sched/fair_server/cpu0/runtime", "0")?;
    let cpu0 = || {
        Work::new(WorkType::SpinWait)
            .workers(1)
            .affinity(AffinityIntent::exact([0]))
    };
    let def = CgroupDef::named("shared")
        .push_work(cpu0().sched_policy(SchedPolicy::fifo(50)))
        .push_work(cpu0());
    execute_defs(ctx, vec![def])
}

/// Every canned scenario in one guest; timing verdicts are asserted here, on an otherwise idle VM.
fn whole_catalog(ctx: &Ctx) -> Result<AssertResult> {
    let mut verdict = AssertResult::pass();
    for canned in ktstr::scenario::catalog::catalog() {
        let result =
            (canned.run)(ctx).map_err(|e| e.context(format!("canned scenario {}", canned.name)))?;
        verdict = verdict.merge(result);
    }
    Ok(verdict)
}

fn panics(_ctx: &Ctx) -> Result<AssertResult> {
    panic!("deliberate panic in the test function");
}

fn crashes_the_kernel(_ctx: &Ctx) -> Result<AssertResult> {
    std::fs::write("/proc/sysrq-trigger", "c")?;
    Ok(AssertResult::fail_msg("the kernel survived a sysrq crash"))
}

fn never_returns(_ctx: &Ctx) -> Result<AssertResult> {
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// `NAME@VERSION` of each published scheduler the suite runs, from `real_schedulers.txt`.
fn real_schedulers() -> impl Iterator<Item = &'static str> {
    include_str!("real_schedulers.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// What a published scheduler's catalog run is known to end in when it is not a pass; the evidence for
/// each is in docs/schedulers.md.
fn known_outcome(scheduler: &str, topology: &str) -> Option<(OutcomeKind, &'static str)> {
    match (scheduler, topology) {
        // 6.12's verifier rejects lavd_enqueue: a write through the untrusted rq->curr of the
        // scx_bpf_cpu_curr fallback.
        ("scx_lavd", _) => Some((
            OutcomeKind::SchedulerFailedToStart,
            "the verifier rejected program \"lavd_enqueue\"",
        )),
        _ => None,
    }
}

/// Check overrides a published scheduler runs the suite with, for a property it does not claim.
fn suite_overrides(scheduler: Scheduler) -> Scheduler {
    match scheduler.name() {
        // rusty balances across LLC domains in user space at its interval, so over 1 s windows a stacked
        // pair stays stacked: 41-65 % spread on 2n4l1c1t, 36-39 % in one of four runs on 1n2l2c1t, where
        // EEVDF and bpfland stay within 14 % (docs/schedulers.md). Fairness is not judged for it here;
        // starvation, gaps, isolation and survival are.
        "scx_rusty" => scheduler.assert(Assert::NO_OVERRIDES.max_spread_pct(100.0)),
        _ => scheduler,
    }
}

/// The whole catalog under each published scheduler, on a multi-LLC and a multi-node topology.
fn real_scheduler_tests() -> Vec<VmTest> {
    let mut tests = Vec::new();
    for spec in real_schedulers() {
        let scheduler = suite_overrides(Scheduler::installed(spec).expect("a valid NAME@VERSION"));
        for topology in ["1n2l2c1t", "2n4l1c1t"] {
            let test = VmTest::new(
                format!("real_{}_catalog_{topology}", scheduler.name()),
                whole_catalog,
            )
            .topology(topology.parse().expect("a topology"))
            .scheduler(scheduler.clone())
            .duration(Duration::from_secs(1))
            .timeout(Duration::from_secs(240));
            tests.push(match known_outcome(scheduler.name(), topology) {
                Some((kind, reason)) => test.expect(kind).expect_reason(reason),
                None => test,
            });
        }
    }
    tests
}

fn in_tree(name: &str, args: &[&str]) -> Scheduler {
    Scheduler::in_tree(name)
        .and_then(|s| s.args(args.iter().copied()))
        .expect("an in-tree scheduler")
}

fn main() {
    let topo = |text: &str| text.parse::<Topology>().expect("a topology");
    let isolated = Assert::NO_OVERRIDES.check_isolation();
    let first_real = real_schedulers()
        .next()
        .expect("real_schedulers.txt names one");
    let bad_flag = Scheduler::installed(first_real)
        .and_then(|s| s.args(["--no-such-flag"]))
        .expect("a valid scheduler");
    let mut tests = vec![
        VmTest::new("eevdf_two_cgroups_1n2l2c1t", two_cgroups_with_cpusets)
            .topology(topo("1n2l2c1t"))
            .assert(isolated),
        VmTest::new("eevdf_two_cgroups_2n4l1c1t", two_cgroups_with_cpusets)
            .topology(topo("2n4l1c1t"))
            .assert(isolated),
        VmTest::new("guest_cpuset_read_back", cpuset_read_back)
            .topology(topo("1n2l2c1t"))
            .assert(isolated),
        VmTest::new(
            "guest_cross_cgroup_affinity_confined",
            cross_cgroup_affinity_stays_confined,
        )
        .topology(topo("1n2l2c1t"))
        .assert(isolated),
        VmTest::new("guest_swap_clear_move", swap_clear_and_move)
            .topology(topo("1n2l2c1t"))
            .assert(isolated),
        VmTest::new("eevdf_whole_catalog", whole_catalog)
            .topology(topo("1n2l2c1t"))
            .duration(Duration::from_secs(1))
            .timeout(Duration::from_secs(180)),
        VmTest::new("scx_simple_two_cgroups", two_cgroups_with_cpusets)
            .topology(topo("1n2l2c1t"))
            .scheduler(in_tree("scx_simple", &[])),
        VmTest::new("scx_qmap_two_cgroups", two_cgroups_with_cpusets)
            .topology(topo("1n2l2c1t"))
            .scheduler(in_tree("scx_qmap", &[])),
        VmTest::new("tp_qmap_stall_is_scheduler_death", two_cgroups_with_cpusets)
            .topology(topo("1n2l2c1t"))
            .scheduler(in_tree("scx_qmap", &["-t", "10"]))
            .duration(Duration::from_secs(15))
            .expect(OutcomeKind::SchedulerDied)
            .expect_reason("runnable task stall"),
        VmTest::new("tp_fifo_hog_starves", fifo_hog_starves_a_normal_worker)
            .push_sysctl("kernel/sched_rt_runtime_us", "-1")
            .duration(Duration::from_secs(5))
            .expect(OutcomeKind::ChecksFailed),
        VmTest::new("tp_scheduler_exits_at_once", two_cgroups_with_cpusets)
            .scheduler(in_tree("scx_qmap", &["-Z"]))
            .expect(OutcomeKind::SchedulerFailedToStart)
            .expect_reason("rejected its arguments: "),
        VmTest::new("tp_real_scheduler_bad_flag", two_cgroups_with_cpusets)
            .scheduler(bad_flag)
            .expect(OutcomeKind::SchedulerFailedToStart)
            .expect_reason("rejected its arguments: error: unexpected argument '--no-such-flag'"),
        VmTest::new("tp_test_panics", panics).expect(OutcomeKind::TestPanicked),
        VmTest::new("tp_guest_kernel_panic", crashes_the_kernel)
            .expect(OutcomeKind::GuestKernelPanic),
        VmTest::new("tp_test_never_returns", never_returns)
            .timeout(Duration::from_secs(5))
            .expect(OutcomeKind::TimedOut),
    ];
    tests.extend(real_scheduler_tests());
    ktstr::harness::main(tests);
}
