//! ktstr's own VM tests, written exactly as a scheduler author would: each test boots a sched_ext kernel
//! under QEMU with the topology it names. Run with `cargo test --test vm` (needs `ktstr kernel build`).

use std::time::Duration;

use ktstr::prelude::*;

#[path = "guest/cgroup_rules.rs"]
mod cgroup_rules;
#[path = "guest/fixtures.rs"]
mod fixtures;

use fixtures::{
    crashes_the_kernel, exhausts_memory, fifo_hog_starves_a_normal_worker, never_returns, panics,
    stacked_beside_an_idle_cpu, whole_catalog,
};

#[ktstr_test(topology = "1n2l2c1t", isolation = true)]
fn eevdf_two_cgroups_1n2l2c1t(ctx: &Ctx) -> Result<AssertResult> {
    two_cgroups_with_cpusets(ctx)
}

#[ktstr_test(topology = "2n4l1c1t", isolation = true)]
fn eevdf_two_cgroups_2n4l1c1t(ctx: &Ctx) -> Result<AssertResult> {
    two_cgroups_with_cpusets(ctx)
}

fn two_cgroups_with_cpusets(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(
        ctx,
        vec![
            CgroupDef::named("cg_0").with_cpuset(CpusetSpec::disjoint(0, 2)),
            CgroupDef::named("cg_1").with_cpuset(CpusetSpec::disjoint(1, 2)),
        ],
    )?)
}

/// The kernel's `cpuset.cpus.effective` of a trial cgroup, read directly rather than through ktstr.
fn effective_cpuset(name: &str) -> Result<CpuSet> {
    let path = format!("/sys/fs/cgroup/ktstr/{name}/cpuset.cpus.effective");
    let text = std::fs::read_to_string(&path)?;
    Ok(text.trim().parse()?)
}

/// Set, read back and clear a cpuset through the real cgroup v2 manager; the nested cgroup, which sets
/// none of its own, inherits the outer one's as its effective cpuset.
fn cpuset_read_back(ctx: &Ctx) -> Result<AssertResult> {
    let cpus = CpuSet::from_iter(ctx.topo.usable_cpus().iter().take(1));
    ctx.cgroups.create_cgroup("outer/inner")?;
    ctx.cgroups.set_cpuset("outer", &cpus)?;
    let read = ctx.cgroups.cpuset("outer")?;
    let inherited = effective_cpuset("outer/inner")?;
    ctx.cgroups.clear_cpuset("outer")?;
    let cleared = ctx.cgroups.cpuset("outer")?;
    let widened = effective_cpuset("outer/inner")?;
    ctx.cgroups.remove_cgroup("outer")?;
    let mut result = AssertResult::pass();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            result = std::mem::replace(&mut result, AssertResult::pass())
                .merge(AssertResult::fail_msg(what));
        }
    };
    expect(
        read == cpus,
        format!("cpuset read back {read}, wrote {cpus}"),
    );
    expect(
        inherited == cpus,
        format!("outer/inner's effective cpuset is {inherited}, not the outer {cpus}"),
    );
    expect(
        cleared.is_empty(),
        format!("cleared cpuset reads {cleared}"),
    );
    expect(
        &widened == ctx.topo.all_cpus(),
        format!("after clearing, outer/inner's effective cpuset is {widened}, not every CPU"),
    );
    Ok(result.merge(two_cgroups_with_cpusets(ctx)?))
}

fn cross_cgroup_affinity_stays_confined(ctx: &Ctx) -> Result<AssertResult> {
    let def = CgroupDef::named("narrow")
        .with_cpuset(CpusetSpec::exact([0]))
        .affinity(AffinityIntent::CrossCgroup);
    Ok(execute_defs(ctx, vec![def])?)
}

/// Two cgroups swap their disjoint cpusets and hold them: isolation is judged against the swapped sets.
fn swapped_cpusets_isolate(ctx: &Ctx) -> Result<AssertResult> {
    let backdrop = Backdrop::with_cgroups([
        CgroupDef::named("a").with_cpuset(CpusetSpec::disjoint(0, 2)),
        CgroupDef::named("b").with_cpuset(CpusetSpec::disjoint(1, 2)),
    ]);
    let steps = vec![Step::new(vec![Op::swap_cpusets("a", "b")], HoldSpec::FULL)];
    Ok(execute_scenario(ctx, &backdrop, steps)?)
}

/// Swap, then clear one cpuset and move the other cgroup's tasks into it: every worker survives the moves
/// and keeps running (no cpuset is left to isolate against, so isolation is not asserted here).
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
    Ok(execute_scenario(ctx, &backdrop, steps)?)
}

/// A custom worker that allocates and touches memory until it is killed.
fn hoarding_worker(_stop: &std::sync::atomic::AtomicBool) -> ktstr::workload::WorkerReport {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(vec![0x5a; 16 << 20]);
    }
}

/// One hoarding worker beside a spinning one: the OOM killer takes the hoarder, and the verdict says so.
#[ktstr_test(
    memory_mb = 512,
    expect = ChecksFailed,
    expect_detail = WorkerDied,
    expect_reason = "killed by the OOM killer"
)]
fn tp_worker_exhausts_memory(ctx: &Ctx) -> Result<AssertResult> {
    let def = CgroupDef::named("hoard")
        .push_work(Work::new(WorkType::custom("hoard", hoarding_worker)).workers(1))
        .push_work(Work::new(WorkType::SpinWait).workers(1));
    Ok(execute_defs(ctx, vec![def])?)
}

#[ktstr_test(expect = TestKilled, expect_reason = "SIGABRT")]
fn tp_test_aborts(_ctx: &Ctx) -> Result<AssertResult> {
    std::process::abort();
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

/// The tests built with `VmTest` directly (those generated per published scheduler among them); the
/// `#[ktstr_test]` functions above register themselves.
fn hand_built_tests() -> Vec<VmTest> {
    let topo = |text: &str| text.parse::<Topology>().expect("a topology");
    let isolated = Assert::NO_OVERRIDES.check_isolation();
    let first_real = real_schedulers()
        .next()
        .expect("real_schedulers.txt names one");
    let bad_flag = Scheduler::installed(first_real)
        .and_then(|s| s.args(["--no-such-flag"]))
        .expect("a valid scheduler");
    let mut tests = vec![
        VmTest::new("guest_cpuset_read_back", cpuset_read_back)
            .topology(topo("1n2l2c1t"))
            .assert(isolated),
        VmTest::new(
            "guest_cross_cgroup_affinity_confined",
            cross_cgroup_affinity_stays_confined,
        )
        .topology(topo("1n2l2c1t"))
        .assert(isolated),
        VmTest::new(
            "guest_cgroup_manager_rules",
            cgroup_rules::cgroup_manager_rules,
        )
        .topology(topo("1n2l2c1t")),
        VmTest::new("guest_swapped_cpusets_isolate", swapped_cpusets_isolate)
            .topology(topo("1n2l2c1t"))
            .assert(isolated),
        VmTest::new("guest_swap_clear_move_keeps_running", swap_clear_and_move)
            .topology(topo("1n2l2c1t")),
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
            .expect(OutcomeKind::ChecksFailed)
            .expect_detail(DetailKind::Stuck),
        VmTest::new(
            "tp_stacked_beside_idle_cpu_is_unfair",
            stacked_beside_an_idle_cpu,
        )
        .topology(topo("1n2l2c1t"))
        .expect(OutcomeKind::ChecksFailed)
        .expect_detail(DetailKind::Unfair),
        VmTest::new("tp_test_exhausts_memory", exhausts_memory)
            .memory_mb(512)
            .expect(OutcomeKind::TestKilled)
            .expect_reason("killed by the OOM killer"),
        VmTest::new("tp_scheduler_exits_at_once", two_cgroups_with_cpusets)
            .scheduler(in_tree("scx_qmap", &["-Z"]))
            .expect(OutcomeKind::SchedulerFailedToStart)
            .expect_reason("rejected its arguments: "),
        VmTest::new("tp_real_scheduler_bad_flag", two_cgroups_with_cpusets)
            .scheduler(bad_flag)
            .expect(OutcomeKind::SchedulerFailedToStart)
            .expect_reason("rejected its arguments: error: unexpected argument '--no-such-flag'"),
        VmTest::new("tp_test_panics", panics)
            .expect(OutcomeKind::TestPanicked)
            .expect_reason("deliberate panic in the test function"),
        VmTest::new("tp_guest_kernel_panic", crashes_the_kernel)
            .expect(OutcomeKind::GuestKernelPanic)
            .expect_reason("sysrq triggered crash"),
        VmTest::new("tp_test_never_returns", never_returns)
            .timeout(Duration::from_secs(5))
            .expect(OutcomeKind::TimedOut)
            .expect_reason("no report before the deadline"),
    ];
    tests.extend(real_scheduler_tests());
    tests
}

ktstr::main!(hand_built_tests());
