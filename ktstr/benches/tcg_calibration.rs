//! Calibration of the time-based thresholds under TCG (see docs/tcg-calibration.md): a clean EEVDF run
//! on an idle 4-vCPU guest must pass every time, and the starvation fixture must fail its gap check every
//! time (the `Stuck` detail `ktstr/tests/vm.rs` pins on it; another failure is a miss). Prints the counts
//! and the gap/spread each run measured. `cargo bench --bench tcg_calibration [N]`.

use std::time::Duration;

use ktstr::harness::{run_vm_test, HarnessError, VmTest};
use ktstr::outcome::{OutcomeKind, TrialOutcome};
use ktstr::prelude::*;

mod common;
#[path = "common/score.rs"]
mod score;

use score::Landed;

#[path = "../tests/guest/fixtures.rs"]
#[expect(
    dead_code,
    reason = "the calibration uses one fixture of the shared set"
)]
mod fixtures;

use fixtures::fifo_hog_starves_a_normal_worker as fifo_hog;

fn clean(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(
        ctx,
        vec![
            CgroupDef::named("cg_0").workers(2),
            CgroupDef::named("cg_1").workers(2),
        ],
    )?)
}

fn tests() -> Vec<VmTest> {
    let four = "1n1l4c1t".parse::<Topology>().expect("a topology");
    vec![
        VmTest::new("calibration_clean", clean)
            .topology(four)
            .duration(Duration::from_secs(3)),
        VmTest::new("calibration_fifo_hog", fifo_hog)
            .topology(four)
            .duration(Duration::from_secs(3))
            .push_sysctl("kernel/sched_rt_runtime_us", "-1")
            .expect(OutcomeKind::ChecksFailed)
            .expect_detail(DetailKind::Stuck),
    ]
}

fn main() -> anyhow::Result<()> {
    let tests = tests();
    if !common::host_should_run(&tests) {
        return Ok(());
    }
    let runs = common::runs(20);
    for test in &tests {
        let mut landed = Vec::new();
        for i in 0..runs {
            let run = run_vm_test(test);
            landed.push(Landed::of(test, &run));
            let (gap, spread) = worst(&run);
            println!(
                "{} run {i}: {}, worst gap {gap} ms, worst spread {spread:.1}%",
                test.name(),
                landed[i]
            );
            if let Some(miss) = score::miss(test, &run) {
                println!("{} run {i}: miss: {miss}", test.name());
            }
        }
        let count = |l: Landed| landed.iter().filter(|&&x| x == l).count();
        println!(
            "{}: {}/{runs} as expected ({}), {} right class, wrong reason",
            test.name(),
            count(Landed::Class(test.expected())),
            score::expected(test),
            count(Landed::RightClassWrongReason),
        );
    }
    Ok(())
}

/// The worst scheduling gap (ms) and fairness spread (%) a run's checks saw; zeros without a verdict.
fn worst(run: &Result<TrialOutcome, HarnessError>) -> (u64, f64) {
    let stats = run
        .as_ref()
        .ok()
        .and_then(|o| o.report.as_ref())
        .and_then(|r| r.test.result())
        .map(|r| &r.stats);
    stats.map_or((0, 0.0), |s| (s.worst_gap_ms, s.worst_spread))
}
