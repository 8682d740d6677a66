//! Calibration of the time-based thresholds under TCG (see docs/tcg-calibration.md): a clean EEVDF run
//! on an idle 4-vCPU guest must pass every time, and the starvation fixture must fail every time.
//! Prints pass counts and the gap/spread each run measured. `cargo bench --bench tcg_calibration [N]`.

use std::time::Duration;

use ktstr::harness::{run_vm_test, OutcomeKind, VmTest};
use ktstr::prelude::*;

mod common;

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
            .expect(OutcomeKind::ChecksFailed),
    ]
}

fn main() -> anyhow::Result<()> {
    let tests = tests();
    if !common::host_should_run(&tests) {
        return Ok(());
    }
    let runs = common::runs(20);
    for test in &tests {
        let mut matched = 0;
        for run in 0..runs {
            let outcome = run_vm_test(test)?;
            let stats = outcome
                .report
                .as_ref()
                .and_then(|r| r.test.result())
                .map(|r| &r.stats);
            let (gap, spread) = stats.map_or((0, 0.0), |s| (s.worst_gap_ms, s.worst_spread));
            matched += usize::from(outcome.kind == test.expected());
            println!(
                "{} run {run}: {:?}, worst gap {gap} ms, worst spread {spread:.1}%",
                test.name(),
                outcome.kind
            );
        }
        println!(
            "{}: {matched}/{runs} as expected ({:?})",
            test.name(),
            test.expected()
        );
    }
    Ok(())
}
