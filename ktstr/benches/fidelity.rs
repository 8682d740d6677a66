//! Verdict fidelity: every true-positive fixture N times and clean catalog runs N times, then a confusion
//! matrix of expected × observed outcome class. `cargo bench --bench fidelity -- N` (default 10). The goal
//! on a 2-core TCG host: each fixture in its own class N/N, and no clean run failed. Results: docs/fidelity.md.

use std::collections::BTreeMap;
use std::time::Duration;

use ktstr::harness::{run_vm_test, write_record, OutcomeKind, VmTest};
use ktstr::prelude::*;

mod common;

#[path = "../tests/guest/fixtures.rs"]
mod fixtures;

use fixtures::{
    crashes_the_kernel, exhausts_memory, fifo_hog_starves_a_normal_worker, never_returns, panics,
    stacked_beside_an_idle_cpu, whole_catalog,
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

/// Each fixture with the class it must land in, and the clean runs that must pass.
fn tests() -> Vec<VmTest> {
    let died = OutcomeKind::SchedulerDied;
    let mut tests = vec![
        VmTest::new("stall_qmap_t", two_cgroups)
            .topology(topo("2n4l1c1t"))
            .scheduler(qmap(&["-t", "10"]))
            .duration(Duration::from_secs(15))
            .expect(died),
        VmTest::new("scx_bpf_error_qmap_e", two_cgroups)
            .scheduler(qmap(&["-e", "100"]))
            .expect(died),
        VmTest::new("dispatch_stall_qmap_l", two_cgroups)
            .scheduler(qmap(&["-l", "100"]))
            .duration(Duration::from_secs(15))
            .expect(died),
        VmTest::new("rt_hog_eevdf", fifo_hog_starves_a_normal_worker)
            .push_sysctl("kernel/sched_rt_runtime_us", "-1")
            .duration(Duration::from_secs(5))
            .expect(OutcomeKind::ChecksFailed),
        VmTest::new("rt_hog_scx_simple", fifo_hog_starves_a_normal_worker)
            .scheduler(simple())
            .push_sysctl("kernel/sched_rt_runtime_us", "-1")
            .duration(Duration::from_secs(5))
            .expect(OutcomeKind::ChecksFailed),
        VmTest::new("stacked_beside_idle_cpu", stacked_beside_an_idle_cpu)
            .topology(topo("1n2l2c1t"))
            .expect(OutcomeKind::ChecksFailed),
        VmTest::new("test_panic", panics).expect(OutcomeKind::TestPanicked),
        VmTest::new("guest_kernel_panic", crashes_the_kernel).expect(OutcomeKind::GuestKernelPanic),
        VmTest::new("hang", never_returns)
            .timeout(Duration::from_secs(5))
            .expect(OutcomeKind::TimedOut),
        VmTest::new("oom_in_test", exhausts_memory)
            .memory_mb(512)
            .expect(OutcomeKind::TestKilled),
    ];
    for (sched, scheduler) in [("eevdf", Scheduler::EEVDF), ("scx_simple", simple())] {
        for shape in ["1n2l2c1t", "2n4l1c1t"] {
            tests.push(
                VmTest::new(format!("clean_catalog_{sched}_{shape}"), whole_catalog)
                    .topology(topo(shape))
                    .scheduler(scheduler.clone())
                    .duration(Duration::from_secs(1))
                    .timeout(Duration::from_secs(240)),
            );
        }
    }
    tests
}

fn main() -> anyhow::Result<()> {
    let tests = tests();
    if !common::host_should_run(&tests) {
        return Ok(());
    }
    let runs = common::runs(10);
    let mut matrix: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut misses = Vec::new();
    for round in 1..=runs {
        for test in &tests {
            let observed = match run_vm_test(test) {
                Ok(outcome) => {
                    let record = write_record(&outcome, 0)
                        .map_or_else(|e| format!("not written: {e}"), |p| p.display().to_string());
                    if outcome.kind != test.expected() {
                        misses.push(format!(
                            "round {round} {}: {:?}: {} (record {record})",
                            test.name(),
                            outcome.kind,
                            outcome.reason
                        ));
                    }
                    format!("{:?}", outcome.kind)
                }
                Err(e) => {
                    misses.push(format!("round {round} {}: could not run: {e}", test.name()));
                    "could not run".to_string()
                }
            };
            eprintln!("round {round}/{runs} {}: {observed}", test.name());
            let row = format!("{} ({:?})", test.name(), test.expected());
            *matrix.entry((row, observed)).or_default() += 1;
        }
    }
    print_matrix(&matrix, runs);
    for miss in &misses {
        println!("miss: {miss}");
    }
    Ok(())
}

/// One row per fixture (with its expected class), one column per observed class.
fn print_matrix(matrix: &BTreeMap<(String, String), usize>, runs: usize) {
    let mut columns: Vec<&String> = matrix.keys().map(|(_, c)| c).collect();
    columns.sort();
    columns.dedup();
    let mut rows: Vec<&String> = matrix.keys().map(|(r, _)| r).collect();
    rows.dedup();
    println!("confusion matrix, {runs} run(s) each: fixture (expected class) × observed class\n");
    let header: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    println!("| fixture (expected) | {} |", header.join(" | "));
    println!("|---|{}", "---|".repeat(columns.len()));
    for row in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| {
                let n = matrix
                    .get(&(row.clone(), (*c).clone()))
                    .copied()
                    .unwrap_or(0);
                if n == 0 {
                    String::new()
                } else {
                    n.to_string()
                }
            })
            .collect();
        println!("| {row} | {} |", cells.join(" | "));
    }
}
