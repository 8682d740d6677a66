//! Verdict fidelity: every true-positive fixture N times and clean catalog runs N times, then a confusion
//! matrix of expected × observed outcome class, scored like the VM suite: a fixture counts only in its class
//! with the reason or detail it pins, else under "right class, wrong reason". `cargo bench --bench fidelity
//! -- N` (default 10). The goal on a 2-core TCG host: each fixture in its own class for its own reason N/N,
//! and no clean run failed. Results: docs/fidelity.md.

use std::collections::BTreeMap;
use std::time::Duration;

use ktstr::harness::{run_vm_test, write_record, HarnessError, OutcomeKind, TrialOutcome, VmTest};
use ktstr::prelude::*;

mod common;
#[path = "common/score.rs"]
mod score;

use score::Landed;

#[path = "../tests/guest/fixtures.rs"]
mod fixtures;

use fixtures::{
    cgroup_pair_two_to_one, crashes_the_kernel, exhausts_memory, fifo_hog_starves_a_normal_worker,
    never_returns, panics, split_one_cpu, stacked_beside_an_idle_cpu, static_three_on_two_cpus,
    whole_catalog,
};

fn two_cgroups(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(
        ctx,
        vec![CgroupDef::named("cg_0"), CgroupDef::named("cg_1")],
    )?)
}

fn qmap(args: &[&str]) -> Scheduler {
    Scheduler::in_tree("scx_qmap")
        .and_then(|s| s.args(args.iter().copied()))
        .expect("scx_qmap")
}

fn simple() -> Scheduler {
    Scheduler::in_tree("scx_simple").expect("scx_simple")
}

fn topo(text: &str) -> Topology {
    text.parse().expect("a topology")
}

/// scx_qmap's fault injection, each pinned to the exit reason the kernel gives when it ejects qmap.
fn scheduler_deaths() -> Vec<VmTest> {
    let died = |name: &str, args: &[&str], reason: &str| {
        VmTest::new(name, two_cgroups)
            .scheduler(qmap(args))
            .expect(OutcomeKind::SchedulerDied)
            .expect_reason(reason)
    };
    vec![
        died("stall_qmap_t", &["-t", "10"], "runnable task stall")
            .topology(topo("2n4l1c1t"))
            .duration(Duration::from_secs(15)),
        died("scx_bpf_error_qmap_e", &["-e", "100"], "scx_bpf_error"),
        died(
            "dispatch_stall_qmap_l",
            &["-l", "100"],
            "runnable task stall",
        )
        .duration(Duration::from_secs(15)),
    ]
}

/// The worker, test and guest faults, pinned as `ktstr/tests/vm.rs` pins the same fixtures.
fn other_faults() -> Vec<VmTest> {
    let rt_hog = |name: &str| {
        VmTest::new(name, fifo_hog_starves_a_normal_worker)
            .push_sysctl("kernel/sched_rt_runtime_us", "-1")
            .duration(Duration::from_secs(5))
            .expect(OutcomeKind::ChecksFailed)
            .expect_detail(DetailKind::Stuck)
    };
    vec![
        rt_hog("rt_hog_eevdf"),
        rt_hog("rt_hog_scx_simple").scheduler(simple()),
        VmTest::new("stacked_beside_idle_cpu", stacked_beside_an_idle_cpu)
            .topology(topo("1n2l2c1t"))
            .expect(OutcomeKind::ChecksFailed)
            .expect_detail(DetailKind::Unfair),
        VmTest::new("test_panic", panics)
            .expect(OutcomeKind::TestPanicked)
            .expect_reason("deliberate panic in the test function"),
        VmTest::new("guest_kernel_panic", crashes_the_kernel)
            .expect(OutcomeKind::GuestKernelPanic)
            .expect_reason("sysrq triggered crash"),
        VmTest::new("hang", never_returns)
            .timeout(Duration::from_secs(5))
            .expect(OutcomeKind::TimedOut)
            .expect_reason("no report before the deadline"),
        VmTest::new("oom_in_test", exhausts_memory)
            .memory_mb(512)
            .expect(OutcomeKind::TestKilled)
            .expect_reason("killed by the OOM killer"),
    ]
}

/// Saturated CPUs split unevenly between equal spinners (as `ktstr/tests/vm.rs` runs them), and the
/// 55:45 split the spread check lets through.
fn saturated_splits() -> Vec<VmTest> {
    let unfair = |name: &str, f: fn(&Ctx) -> Result<AssertResult>| {
        VmTest::new(name, f)
            .topology(topo("1n2l2c1t"))
            .duration(Duration::from_secs(5))
            .expect(OutcomeKind::ChecksFailed)
            .expect_detail(DetailKind::Unfair)
    };
    vec![
        unfair("saturated_two_to_one", |ctx| split_one_cpu(ctx, 3)),
        unfair("saturated_static_100_50_50", static_three_on_two_cpus)
            .duration(Duration::from_secs(3)),
        unfair("saturated_cgroup_pair_two_to_one", cgroup_pair_two_to_one),
        VmTest::new("saturated_55_to_45_passes", |ctx| split_one_cpu(ctx, 1))
            .topology(topo("1n2l2c1t"))
            .duration(Duration::from_secs(5)),
    ]
}

/// The whole catalog at the VM suite's 3 s per scenario under EEVDF and scx_simple on two shapes, and
/// under scx_bpfland on the multi-node one: each must pass.
fn clean_runs() -> Vec<VmTest> {
    let catalog = |name: String, scheduler: Scheduler, shape: &str| {
        VmTest::new(name, whole_catalog)
            .topology(topo(shape))
            .scheduler(scheduler)
            .duration(Duration::from_secs(3))
            .timeout(Duration::from_secs(360))
    };
    let mut tests = Vec::new();
    for (sched, scheduler) in [("eevdf", Scheduler::EEVDF), ("scx_simple", simple())] {
        for shape in ["1n2l2c1t", "2n4l1c1t"] {
            let name = format!("clean_catalog_{sched}_{shape}");
            tests.push(catalog(name, scheduler.clone(), shape));
        }
    }
    let bpfland = ktstr::schedulers::SCX_BPFLAND;
    tests.push(catalog(
        "clean_catalog_scx_bpfland_2n4l1c1t".into(),
        bpfland,
        "2n4l1c1t",
    ));
    tests
}

fn tests() -> Vec<VmTest> {
    [
        scheduler_deaths(),
        other_faults(),
        saturated_splits(),
        clean_runs(),
    ]
    .concat()
}

/// Counts per (fixture row, column where its run landed).
type Matrix = BTreeMap<(String, Landed), usize>;

fn main() -> anyhow::Result<()> {
    let tests = tests();
    if !common::host_should_run(&tests) {
        return Ok(());
    }
    let runs = common::runs(10);
    let mut matrix = Matrix::new();
    let mut misses = Vec::new();
    for round in 1..=runs {
        for test in &tests {
            let run = run_vm_test(test);
            let landed = Landed::of(test, &run);
            let record = record(&run);
            if let Some(miss) = score::miss(test, &run) {
                misses.push(format!("round {round} {}: {miss}{record}", test.name()));
            }
            eprintln!("round {round}/{runs} {}: {landed}", test.name());
            let row = format!("{} ({:?})", test.name(), test.expected());
            *matrix.entry((row, landed)).or_default() += 1;
        }
    }
    print_matrix(&matrix, runs);
    for miss in &misses {
        println!("miss: {miss}");
    }
    Ok(())
}

/// Writes the run's record; the text to append to a miss.
fn record(run: &Result<TrialOutcome, HarnessError>) -> String {
    match run.as_ref().map(|outcome| write_record(outcome, 0)) {
        Ok(Ok(path)) => format!(" (record {})", path.display()),
        Ok(Err(e)) => format!(" (record not written: {e})"),
        Err(_) => String::new(),
    }
}

/// One row per fixture (with its expected class), one column per observed class, and always a column
/// for the expected class reached without the pinned reason or detail: those runs are misses.
fn print_matrix(matrix: &Matrix, runs: usize) {
    let mut columns: Vec<Landed> = matrix.keys().map(|(_, c)| *c).collect();
    columns.push(Landed::RightClassWrongReason);
    columns.sort();
    columns.dedup();
    let mut rows: Vec<&String> = matrix.keys().map(|(r, _)| r).collect();
    rows.dedup();
    println!("confusion matrix, {runs} run(s) each: fixture (expected class) × observed class;");
    println!("a count under the expected class is a run with the pinned reason and detail\n");
    let header: Vec<String> = columns.iter().map(Landed::to_string).collect();
    println!("| fixture (expected) | {} |", header.join(" | "));
    println!("|---|{}", "---|".repeat(columns.len()));
    for row in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match matrix.get(&(row.clone(), *c)) {
                Some(n) => n.to_string(),
                None => String::new(),
            })
            .collect();
        println!("| {row} | {} |", cells.join(" | "));
    }
}
