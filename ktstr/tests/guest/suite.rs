//! The VM suite's trials: ktstr's own tests and its true-positive (`tp_`) and true-negative (`tn_`)
//! fixtures, each pinned to the outcome it must reach. `tests/vm.rs` runs them as a test binary; the
//! fidelity bench links the same registrations and runs every fixture N times.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ktstr::prelude::*;
use ktstr::schedulers::{SCX_BPFLAND, SCX_LAVD, SCX_QMAP, SCX_RUSTY, SCX_SIMPLE};
use ktstr::workload::{spin_burst, Phase, WorkerReport};

#[path = "cgroup_rules.rs"]
mod cgroup_rules;
#[path = "fixtures.rs"]
pub mod fixtures;

#[ktstr_test(topology = "1n2l2c1t", isolation = true)]
fn eevdf_two_cgroups_1n2l2c1t(ctx: &Ctx) -> Result<AssertResult> {
    two_cgroups_with_cpusets(ctx)
}

#[ktstr_test(topology = "2n4l1c1t", isolation = true)]
fn eevdf_two_cgroups_2n4l1c1t(ctx: &Ctx) -> Result<AssertResult> {
    two_cgroups_with_cpusets(ctx)
}

#[ktstr_test(topology = "1n2l2c1t", scheduler = SCX_SIMPLE)]
fn scx_simple_two_cgroups(ctx: &Ctx) -> Result<AssertResult> {
    two_cgroups_with_cpusets(ctx)
}

#[ktstr_test(topology = "1n2l2c1t", scheduler = SCX_QMAP)]
fn scx_qmap_two_cgroups(ctx: &Ctx) -> Result<AssertResult> {
    two_cgroups_with_cpusets(ctx)
}

/// A flag profile: `-b 8 -H` on the command line, and the same checks hold.
#[ktstr_test(topology = "1n2l2c1t", scheduler = SCX_QMAP, profile = "batch+boost-nice")]
fn scx_qmap_batched_two_cgroups(ctx: &Ctx) -> Result<AssertResult> {
    two_cgroups_with_cpusets(ctx)
}

/// A declaration's kernel arguments, sysctls and default topology reach the guest. A scheduler with no
/// flags is an enum with no variants.
#[derive(Scheduler)]
#[scheduler(
    binary = "scx_simple",
    kargs = ["nosoftlockup"],
    sysctls = ["kernel.sched_rt_runtime_us=900000"],
    topology(1, 2, 1, 1)
)]
pub enum ProbedSimpleFlags {}

#[ktstr_test(scheduler = PROBED_SIMPLE)]
fn declared_kargs_and_sysctls_reach_the_guest(ctx: &Ctx) -> Result<AssertResult> {
    let cmdline = std::fs::read_to_string("/proc/cmdline")?;
    let rt = std::fs::read_to_string("/proc/sys/kernel/sched_rt_runtime_us")?;
    let mut result = execute_defs(ctx, vec![CgroupDef::named("cg_0")])?;
    if !cmdline.split_whitespace().any(|a| a == "nosoftlockup") {
        result = result.merge(AssertResult::fail_msg(format!(
            "nosoftlockup not in {cmdline:?}"
        )));
    }
    if rt.trim() != "900000" {
        result = result.merge(AssertResult::fail_msg(format!(
            "sched_rt_runtime_us is {rt:?}"
        )));
    }
    Ok(result)
}

#[ktstr_test(topology = "1n2l2c1t")]
fn guest_cgroup_manager_rules(ctx: &Ctx) -> Result<AssertResult> {
    cgroup_rules::cgroup_manager_rules(ctx)
}

#[ktstr_test(topology = "1n2l2c1t", duration_s = 3, timeout_s = 360)]
fn eevdf_whole_catalog(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::whole_catalog(ctx)
}

/// On the host, without a VM: two cgroups of spinning workers under the host's own scheduler.
#[ktstr_test(host_only = true, duration_s = 1, workers_per_cgroup = 1)]
fn host_two_cgroups(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(
        ctx,
        vec![CgroupDef::named("cg_0"), CgroupDef::named("cg_1")],
    )?)
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
#[ktstr_test(topology = "1n2l2c1t", isolation = true)]
fn guest_cpuset_read_back(ctx: &Ctx) -> Result<AssertResult> {
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

#[ktstr_test(topology = "1n2l2c1t", isolation = true)]
fn guest_cross_cgroup_affinity_confined(ctx: &Ctx) -> Result<AssertResult> {
    let def = CgroupDef::named("narrow")
        .with_cpuset(CpusetSpec::exact([0]))
        .affinity(AffinityIntent::CrossCgroup);
    Ok(execute_defs(ctx, vec![def])?)
}

/// Two cgroups swap their disjoint cpusets and hold them: isolation is judged against the swapped sets.
#[ktstr_test(topology = "1n2l2c1t", isolation = true)]
fn guest_swapped_cpusets_isolate(ctx: &Ctx) -> Result<AssertResult> {
    let backdrop = Backdrop::with_cgroups([
        CgroupDef::named("a").with_cpuset(CpusetSpec::disjoint(0, 2)),
        CgroupDef::named("b").with_cpuset(CpusetSpec::disjoint(1, 2)),
    ]);
    let steps = vec![Step::new(vec![Op::swap_cpusets("a", "b")], HoldSpec::FULL)];
    Ok(execute_scenario(ctx, &backdrop, steps)?)
}

/// Swap, then clear one cpuset and move the other cgroup's tasks into it: every worker survives the moves
/// and keeps running (no cpuset is left to isolate against, so isolation is not asserted here).
#[ktstr_test(topology = "1n2l2c1t")]
fn guest_swap_clear_move_keeps_running(ctx: &Ctx) -> Result<AssertResult> {
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
fn hoarding_worker(_stop: &AtomicBool) -> WorkerReport {
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

// The whole catalog under each published scheduler, on a multi-LLC and a multi-node topology, judged at
// the default thresholds.

/// The in-tree scx_simple on the multi-node shape: EEVDF's catalog runs on the multi-LLC one above.
#[ktstr_test(scheduler = SCX_SIMPLE, topology = "2n4l1c1t", duration_s = 3, timeout_s = 360)]
fn simple_catalog_nodes(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::whole_catalog(ctx)
}

#[ktstr_test(scheduler = SCX_BPFLAND, topology = "1n2l2c1t", duration_s = 3, timeout_s = 360)]
fn bpfland_catalog_llcs(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::whole_catalog(ctx)
}

#[ktstr_test(scheduler = SCX_BPFLAND, topology = "2n4l1c1t", duration_s = 3, timeout_s = 360)]
fn bpfland_catalog_nodes(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::whole_catalog(ctx)
}

#[ktstr_test(scheduler = SCX_RUSTY, topology = "1n2l2c1t", duration_s = 3, timeout_s = 360)]
fn rusty_catalog_llcs(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::whole_catalog(ctx)
}

/// A finding about scx_rusty 1.1.4, pinned rather than switched off: on four one-CPU domains it leaves
/// a stacked pair stacked, and six cgroups fail the spread run after run (docs/schedulers.md). A rusty
/// that balances them turns this into an unexpected pass.
#[ktstr_test(
    scheduler = SCX_RUSTY,
    topology = "2n4l1c1t",
    duration_s = 3,
    timeout_s = 360,
    expect = ChecksFailed,
    expect_detail = Unfair
)]
fn rusty_catalog_nodes(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::whole_catalog(ctx)
}

// 6.12's verifier rejects lavd_enqueue (a write through the untrusted rq->curr of the scx_bpf_cpu_curr
// fallback); docs/schedulers.md has the evidence. The run pins the load-failure diagnosis.
#[ktstr_test(
    scheduler = SCX_LAVD,
    topology = "1n2l2c1t",
    duration_s = 1,
    timeout_s = 240,
    expect = SchedulerFailedToStart,
    expect_reason = "the verifier rejected program \"lavd_enqueue\""
)]
fn lavd_catalog_llcs(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::whole_catalog(ctx)
}

#[ktstr_test(
    scheduler = SCX_LAVD,
    topology = "2n4l1c1t",
    duration_s = 1,
    timeout_s = 240,
    expect = SchedulerFailedToStart,
    expect_reason = "the verifier rejected program \"lavd_enqueue\""
)]
fn lavd_catalog_nodes(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::whole_catalog(ctx)
}

// True-positive fixtures: each must end in the class it names, with the reason or detail it pins.

#[ktstr_test(
    topology = "1n2l2c1t",
    scheduler = SCX_QMAP,
    extra_sched_args = ["-t", "10"],
    duration_s = 15,
    expect = SchedulerDied,
    expect_reason = "runnable task stall"
)]
fn tp_qmap_stall_is_scheduler_death(ctx: &Ctx) -> Result<AssertResult> {
    two_cgroups_with_cpusets(ctx)
}

#[ktstr_test(
    sysctls = ["kernel/sched_rt_runtime_us=-1"],
    duration_s = 5,
    expect = ChecksFailed,
    expect_detail = Stuck
)]
fn tp_fifo_hog_starves(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::fifo_hog_starves_a_normal_worker(ctx)
}

#[ktstr_test(topology = "1n2l2c1t", expect = ChecksFailed, expect_detail = Unfair)]
fn tp_stacked_beside_idle_cpu_is_unfair(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::stacked_beside_an_idle_cpu(ctx)
}

#[ktstr_test(topology = "1n2l2c1t", duration_s = 5, expect = ChecksFailed, expect_detail = Unfair)]
fn tp_saturated_two_to_one_is_unfair(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::split_one_cpu(ctx, 3)
}

/// What the spread check lets through: nice 1 beside nice 0 splits a saturated CPU about 55:45, within
/// the threshold and its timeslice noise (docs/fairness.md has the measured floor).
#[ktstr_test(topology = "1n2l2c1t", duration_s = 5)]
fn tn_saturated_55_to_45_split_passes(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::split_one_cpu(ctx, 1)
}

#[ktstr_test(topology = "1n2l2c1t", duration_s = 3, expect = ChecksFailed, expect_detail = Unfair)]
fn tp_saturated_static_placement_is_unfair(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::static_three_on_two_cpus(ctx)
}

#[ktstr_test(topology = "1n2l2c1t", duration_s = 5, expect = ChecksFailed, expect_detail = Unfair)]
fn tp_saturated_cgroup_pair_is_unfair(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::cgroup_pair_two_to_one(ctx)
}

#[ktstr_test(memory_mb = 512, expect = TestKilled, expect_reason = "killed by the OOM killer")]
fn tp_test_exhausts_memory(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::exhausts_memory(ctx)
}

#[ktstr_test(
    scheduler = SCX_QMAP,
    extra_sched_args = ["-Z"],
    expect = SchedulerFailedToStart,
    expect_reason = "rejected its arguments: "
)]
fn tp_scheduler_exits_at_once(ctx: &Ctx) -> Result<AssertResult> {
    two_cgroups_with_cpusets(ctx)
}

#[ktstr_test(
    scheduler = SCX_BPFLAND,
    extra_sched_args = ["--no-such-flag"],
    expect = SchedulerFailedToStart,
    expect_reason = "rejected its arguments: error: unexpected argument '--no-such-flag'"
)]
fn tp_real_scheduler_bad_flag(ctx: &Ctx) -> Result<AssertResult> {
    two_cgroups_with_cpusets(ctx)
}

#[ktstr_test(expect = TestPanicked, expect_reason = "deliberate panic in the test function")]
fn tp_test_panics(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::panics(ctx)
}

#[ktstr_test(expect = GuestKernelPanic, expect_reason = "sysrq triggered crash")]
fn tp_guest_kernel_panic(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::crashes_the_kernel(ctx)
}

#[ktstr_test(
    timeout_s = 5,
    expect = TimedOut,
    expect_reason = "the test function never returned"
)]
fn tp_test_never_returns(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::never_returns(ctx)
}

/// An LLC scenario on one LLC judges nothing: the trial is Skipped with the scenario's own reason, not
/// Passed (a test expecting a pass reports it as ignored, like libtest).
#[ktstr_test(
    expect = Skipped,
    expect_reason = "steady_llc needs at least 2 LLCs; this topology has 1"
)]
fn tp_llc_scenario_on_one_llc_skips(ctx: &Ctx) -> Result<AssertResult> {
    (ktstr::scenario::catalog::find("steady_llc")?.run)(ctx)
}

// True-positive fixtures of the remaining outcome classes and checks: each fails through the real
// mechanism (a kernel argument, a power-off, a real-time hog, a worker that leaves its cgroup, real
// migrations, scx_qmap's own fault injection) and is pinned to the reason or detail that says so.

/// Asks for a cpuset on a CPU the VM does not have: the scenario refuses it before any worker starts,
/// and the test function returns that error.
#[ktstr_test(
    topology = "1n1l2c1t",
    expect = TestError,
    expect_reason = "CpusetSpec validation failed: Exact cpuset names CPUs 10 that do not exist"
)]
fn tp_test_returns_error(ctx: &Ctx) -> Result<AssertResult> {
    let beyond = ctx.topo.total_cpus() + 8;
    let def = CgroupDef::named("nowhere").with_cpuset(CpusetSpec::exact([beyond]));
    Ok(execute_defs(ctx, vec![def])?)
}

/// The kernel's own scheduler, booted with `nr_cpus=1` while QEMU gives the VM two CPUs: the guest sees
/// one CPU where the trial asked for two, and stops before the test.
const ONE_CPU_KERNEL: Scheduler = Scheduler::EEVDF.kargs(&["nr_cpus=1"]);

#[ktstr_test(
    scheduler = ONE_CPU_KERNEL,
    topology = "1n1l2c1t",
    expect = TopologyMismatch,
    expect_reason = "requested topology 1n1l2c1t but the guest saw 1n1l1c1t"
)]
fn tp_kernel_sees_fewer_cpus(ctx: &Ctx) -> Result<AssertResult> {
    two_cgroups_with_cpusets(ctx)
}

/// The test powers the guest off itself, so PID 1 never sends its report.
#[ktstr_test(
    expect = NoReport,
    expect_reason = "powered off without a report while the test function ran"
)]
fn tp_test_powers_the_guest_off(_ctx: &Ctx) -> Result<AssertResult> {
    use nix::sys::reboot::{reboot, RebootMode};
    match reboot(RebootMode::RB_POWER_OFF) {
        Err(e) => Err(anyhow::anyhow!("reboot(RB_POWER_OFF) failed: {e}")),
        Ok(never) => match never {},
    }
}

/// A SCHED_FIFO hog takes CPU 0 for 3 s (RT throttling and CPU 0's fair server off). While it spins, a
/// step starts a worker pinned to CPU 0 — one that sleeps 1 ms, then computes — and stops it a second
/// later. The worker first runs when the hog sleeps, already told to stop: it did no work at all.
#[ktstr_test(
    topology = "1n1l2c1t",
    sysctls = ["kernel/sched_rt_runtime_us=-1"],
    max_gap_ms = 10000,
    expect = ChecksFailed,
    expect_detail = Starved,
    expect_reason = "starved (0 work units)"
)]
fn tp_fifo_hog_starves_a_late_worker(ctx: &Ctx) -> Result<AssertResult> {
    std::fs::write("/sys/kernel/debug/sched/fair_server/cpu0/runtime", "0")?;
    let on_cpu0 = |work: WorkType| {
        Work::new(work)
            .workers(1)
            .affinity(AffinityIntent::exact([0]))
    };
    let hog = on_cpu0(WorkType::sequence(
        Phase::Spin(Duration::from_secs(3)),
        vec![Phase::Sleep(Duration::from_secs(60))],
    ))
    .sched_policy(SchedPolicy::fifo(50));
    let late = on_cpu0(WorkType::sequence(
        Phase::Sleep(Duration::from_millis(1)),
        vec![Phase::Spin(Duration::from_millis(50))],
    ));
    let backdrop = Backdrop::with_cgroups([CgroupDef::named("hog").push_work(hog)]);
    let step = Step::with_defs(
        vec![CgroupDef::named("late").push_work(late)],
        HoldSpec::Fixed(Duration::from_secs(1)),
    );
    Ok(execute_scenario(ctx, &backdrop, vec![step])?)
}

/// A worker that leaves its cgroup for the root cgroup, pins itself to CPU 1 and spins there until told
/// to stop, noting each CPU it runs on. A refused move or affinity leaves it on CPU 0, and the fixture
/// then fails for want of its Isolation detail. It runs in a forked worker: plain syscalls, no output.
fn breakout_worker(stop: &AtomicBool) -> WorkerReport {
    let started = Instant::now();
    let _ = std::fs::write(
        "/sys/fs/cgroup/cgroup.procs",
        std::process::id().to_string(),
    );
    let mut cpu1 = nix::sched::CpuSet::new();
    if cpu1.set(1).is_ok() {
        let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &cpu1);
    }
    let (mut work_units, mut iterations, mut ran_on) = (0, 0, [false; 2]);
    while !stop.load(Ordering::Relaxed) {
        work_units += spin_burst(1024);
        iterations += 1;
        let cpu = nix::sched::sched_getcpu().ok();
        if let Some(seen) = cpu.and_then(|c| ran_on.get_mut(c)) {
            *seen = true;
        }
    }
    WorkerReport {
        work_units,
        iterations,
        wall_time_ns: started.elapsed().as_nanos() as u64,
        cpus_used: (0..ran_on.len()).filter(|&cpu| ran_on[cpu]).collect(),
        completed: true,
        ..WorkerReport::default()
    }
}

/// A cgroup confined to CPU 0 whose worker breaks out (into the root cgroup, then onto CPU 1): the
/// isolation check sees it run outside its cpuset.
#[ktstr_test(
    topology = "1n1l2c1t",
    isolation = true,
    duration_s = 1,
    expect = ChecksFailed,
    expect_detail = Isolation,
    expect_reason = "ran on unexpected CPUs 1"
)]
fn tp_worker_leaves_its_cpuset(ctx: &Ctx) -> Result<AssertResult> {
    let def = CgroupDef::named("confined")
        .with_cpuset(CpusetSpec::exact([0]))
        .push_work(Work::new(WorkType::custom("breakout", breakout_worker)).workers(1));
    Ok(execute_defs(ctx, vec![def])?)
}

/// A SCHED_FIFO worker that spins 80 ms and sleeps 20 ms shares CPU 0 with a normal worker that spins
/// 1 ms and sleeps 5 ms: each of the normal worker's wake-ups that lands in a burst waits for its end,
/// tens of milliseconds. Only the wake-latency check judges.
#[ktstr_test(
    duration_s = 1,
    not_starved = false,
    max_p99_wake_latency_ns = 10_000_000,
    expect = ChecksFailed,
    expect_detail = Benchmark,
    expect_reason = "p99 wake latency"
)]
fn tp_fifo_bursts_delay_wakeups(ctx: &Ctx) -> Result<AssertResult> {
    bursts_beside_a_waker(ctx, SchedPolicy::fifo(50))
}

/// The same pair with the bursting worker at normal policy: the waker preempts it, its p99 stays a few
/// milliseconds, and neither worker leaves CPU 0.
#[ktstr_test(
    duration_s = 1,
    not_starved = false,
    max_p99_wake_latency_ns = 10_000_000,
    max_migration_ratio = 0.1
)]
fn tn_normal_bursts_meet_the_wake_latency_and_migration_limits(ctx: &Ctx) -> Result<AssertResult> {
    bursts_beside_a_waker(ctx, SchedPolicy::Normal)
}

/// A worker that spins 80 ms and sleeps 20 ms under `policy`, beside one that spins 1 ms and sleeps
/// 5 ms, both on CPU 0.
fn bursts_beside_a_waker(ctx: &Ctx, policy: SchedPolicy) -> Result<AssertResult> {
    let on_cpu0 = |work: WorkType| {
        Work::new(work)
            .workers(1)
            .affinity(AffinityIntent::exact([0]))
    };
    let def = CgroupDef::named("shared")
        .push_work(on_cpu0(WorkType::bursty(80, 20)).sched_policy(policy))
        .push_work(on_cpu0(WorkType::bursty(1, 5)));
    Ok(execute_defs(ctx, vec![def])?)
}

/// A worker that moves itself to a random CPU after every short spin migrates on about half its
/// iterations, over the 0.1 ceiling.
#[ktstr_test(
    duration_s = 1,
    max_migration_ratio = 0.1,
    expect = ChecksFailed,
    expect_detail = Migration,
    expect_reason = "migration ratio"
)]
fn tp_affinity_churn_migrates(ctx: &Ctx) -> Result<AssertResult> {
    let def =
        CgroupDef::named("churn").push_work(Work::new(WorkType::affinity_churn(1024)).workers(1));
    Ok(execute_defs(ctx, vec![def])?)
}

/// scx_qmap `-e 100` calls scx_bpf_error() on its 100th enqueue: sched_ext ejects it, naming the error
/// and the scheduler's own message.
#[ktstr_test(
    scheduler = SCX_QMAP,
    extra_sched_args = ["-e", "100"],
    expect = SchedulerDied,
    expect_reason = "scx_bpf_error (test triggering error)"
)]
fn tp_qmap_error_exit_is_scheduler_death(ctx: &Ctx) -> Result<AssertResult> {
    two_cgroups_with_cpusets(ctx)
}

/// scx_qmap `-T 5` drops every 5th kernel-thread enqueue: a kernel thread never runs again, and
/// sched_ext's watchdog (5 s for qmap) ejects the scheduler while the test still runs.
#[ktstr_test(
    scheduler = SCX_QMAP,
    extra_sched_args = ["-T", "5"],
    duration_s = 8,
    expect = SchedulerDied,
    expect_reason = "runnable task stall"
)]
fn tp_qmap_kernel_thread_stall_is_scheduler_death(ctx: &Ctx) -> Result<AssertResult> {
    two_cgroups_with_cpusets(ctx)
}

// Rate and latency checks: each fails on a real shape and passes on a healthy one at the same threshold
// (docs/checks.md lists every check with the fixtures that fail and pass it).

/// The starved worker beside the FIFO hog runs a handful of iterations in 5 s; a spinner sharing a CPU
/// under TCG runs about 700 a second.
#[ktstr_test(
    sysctls = ["kernel/sched_rt_runtime_us=-1"],
    duration_s = 5,
    min_iteration_rate = 50.0,
    expect = ChecksFailed,
    expect_detail = Benchmark
)]
fn tp_starved_worker_misses_the_iteration_rate(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::fifo_hog_starves_a_normal_worker(ctx)
}

/// Workers that spend their CPU time in write and fsync do far less work per CPU-second than the
/// spinner floor (about 1.4 million units per CPU-second under TCG).
#[ktstr_test(
    topology = "1n2l2c1t",
    duration_s = 3,
    min_work_rate = 500000.0,
    expect = ChecksFailed,
    expect_detail = Throughput
)]
fn tp_io_workers_miss_a_spinner_work_rate(ctx: &Ctx) -> Result<AssertResult> {
    let def = CgroupDef::named("io").push_work(Work::new(WorkType::IoSync).workers(2));
    Ok(execute_defs(ctx, vec![def])?)
}

/// A spinner beside an IO worker in one cgroup: their work rates differ by two orders of magnitude.
#[ktstr_test(
    topology = "1n2l2c1t",
    duration_s = 3,
    max_throughput_cv = 0.5,
    expect = ChecksFailed,
    expect_detail = Throughput
)]
fn tp_uneven_work_rates_fail_the_throughput_cv(ctx: &Ctx) -> Result<AssertResult> {
    let def = CgroupDef::named("uneven")
        .push_work(Work::new(WorkType::SpinWait).workers(1))
        .push_work(Work::new(WorkType::IoSync).workers(1));
    Ok(execute_defs(ctx, vec![def])?)
}

/// Bursty workers whose CPU a SCHED_FIFO worker takes 100 ms of every second: most wake-ups are quick,
/// one in ten waits out the burst.
#[ktstr_test(
    topology = "1n2l2c1t",
    duration_s = 3,
    max_wake_latency_cv = 2.0,
    expect = ChecksFailed,
    expect_detail = Benchmark
)]
fn tp_wakeups_behind_fifo_bursts_fail_the_latency_cv(ctx: &Ctx) -> Result<AssertResult> {
    fixtures::wakers_on_cpu1(ctx, true)
}

/// The thresholds above, met by healthy workers: spinners on their own CPUs, and bursty workers alone.
#[ktstr_test(
    topology = "1n2l2c1t",
    duration_s = 3,
    min_iteration_rate = 50.0,
    min_work_rate = 500000.0,
    max_throughput_cv = 0.5,
    max_wake_latency_cv = 2.0
)]
fn tn_rate_and_latency_checks_pass_healthy_workers(ctx: &Ctx) -> Result<AssertResult> {
    let spinners = two_cgroups_with_cpusets(ctx)?;
    Ok(spinners.merge(fixtures::wakers_on_cpu1(ctx, false)?))
}
