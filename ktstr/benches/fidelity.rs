//! Verdict fidelity: every fixture of the VM suite (`tests/guest/suite.rs`, pinned as `tests/vm.rs` runs
//! them), two slower ones of its own, and clean catalog runs, each N times; then a confusion
//! matrix of expected × observed outcome class, scored like the VM suite: a fixture counts only in its class
//! with the reason or detail it pins, else under "right class, wrong reason". `cargo bench --bench fidelity
//! -- N` (default 10). The goal on a 2-core TCG host: each fixture in its own class for its own reason N/N,
//! and no clean run failed. Results: docs/fidelity.md.

use std::collections::BTreeMap;
use std::time::Duration;

use ktstr::harness::{run_vm_test, HarnessError, VmTest};
use ktstr::outcome::{OutcomeKind, TrialOutcome};
use ktstr::prelude::*;
use ktstr::runs::write_record;

mod common;
#[path = "common/score.rs"]
mod score;

use score::Landed;

#[path = "../tests/guest/suite.rs"]
mod suite;

use suite::fixtures::{fifo_hog_starves_a_normal_worker, whole_catalog};

fn two_cgroups(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(
        ctx,
        vec![CgroupDef::named("cg_0"), CgroupDef::named("cg_1")],
    )?)
}

fn simple() -> Scheduler {
    Scheduler::in_tree("scx_simple").expect("scx_simple")
}

fn topo(text: &str) -> Topology {
    text.parse().expect("a topology")
}

/// Every fixture of the VM suite, as `tests/vm.rs` declares and pins it: `tp_` ones must fail for
/// their pinned reason, `tn_` ones must pass.
fn suite_fixtures() -> Vec<VmTest> {
    ktstr::pipeline::registered_tests()
        .into_iter()
        .filter(|t| t.name().starts_with("tp_") || t.name().starts_with("tn_"))
        .collect()
}

/// Fixtures only the bench runs, too slow for every CI run: scx_qmap's dispatch loop, which only the
/// watchdog catches, and the FIFO hog under scx_simple.
fn bench_only() -> Vec<VmTest> {
    let dispatch_loop = Scheduler::in_tree("scx_qmap")
        .and_then(|s| s.args(["-l", "100"]))
        .expect("scx_qmap");
    vec![
        VmTest::new("dispatch_stall_qmap_l", two_cgroups)
            .scheduler(dispatch_loop)
            .duration(Duration::from_secs(15))
            .expect(OutcomeKind::SchedulerDied)
            .expect_reason("runnable task stall"),
        VmTest::new("rt_hog_scx_simple", fifo_hog_starves_a_normal_worker)
            .scheduler(simple())
            .push_sysctl("kernel/sched_rt_runtime_us", "-1")
            .duration(Duration::from_secs(5))
            .expect(OutcomeKind::ChecksFailed)
            .expect_detail(DetailKind::Stuck),
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
    [suite_fixtures(), bench_only(), clean_runs()].concat()
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
