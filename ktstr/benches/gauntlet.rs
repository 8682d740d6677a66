//! P5, the gauntlet's parallel efficiency: N variants run one at a time, then the same N with J VMs at
//! once; the figure is the parallel wall ÷ (sum of the single walls ÷ J), 1.0 being perfect overlap.
//! `cargo bench --bench gauntlet -- N J` (default 6 variants, J = 2). Goal on this 2-CPU host: ≤ 1.1.

use std::time::{Duration, Instant};

use ktstr::harness::gauntlet::{expand, HostCapacity};
use ktstr::harness::{run_parallel, run_vm_test, Progress, VmTest};
use ktstr::prelude::*;

mod common;

fn two_cgroups(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(
        ctx,
        vec![CgroupDef::named("cg_0"), CgroupDef::named("cg_1")],
    )?)
}

fn main() {
    let base = VmTest::new("gauntlet_bench", two_cgroups)
        .scheduler(ktstr::schedulers::SCX_QMAP)
        .duration(Duration::from_secs(2))
        .gauntlet();
    if !common::host_should_run(std::slice::from_ref(&base)) {
        return;
    }
    let n = common::runs(6);
    let jobs = common::nth_number(1).unwrap_or(2);
    // Small presets under the default and one flag profile: trials of similar length, so the figure is
    // about overlap, not about one long straggler.
    let variants: Vec<VmTest> = expand(&base, &HostCapacity::here(), &[])
        .expect("scx_qmap's profiles")
        .into_iter()
        .filter(|v| v.skip.is_none() && v.preset.topology.total_cpus() <= 4)
        .filter(|v| matches!(v.test.profile_name().as_str(), "default" | "batch"))
        .map(|v| v.test)
        .take(n)
        .collect();
    println!("{} variants, J = {jobs}", variants.len());
    let mut single = Duration::ZERO;
    for test in &variants {
        let started = Instant::now();
        let outcome = run_vm_test(test).expect("a runnable variant");
        let wall = started.elapsed();
        single += wall;
        println!(
            "single   {:<45} {:?} {:.1} s",
            test.trial_name(),
            outcome.kind,
            wall.as_secs_f64()
        );
    }
    let progress = Progress::new(variants.len(), jobs);
    let started = Instant::now();
    let results = run_parallel(&variants, jobs, &progress, |test, result| {
        if let Ok(o) = result {
            println!(
                "parallel {:<45} {:?} {:.1} s",
                test.trial_name(),
                o.kind,
                o.wall_ms as f64 / 1000.0
            );
        }
    });
    let parallel = started.elapsed();
    let failed = results.iter().filter(|r| r.is_err()).count();
    let ideal = single.as_secs_f64() / jobs as f64;
    println!(
        "P5 = parallel wall {:.1} s / (sum of single walls {:.1} s / J {jobs}) = {:.2}  ({failed} could not run)",
        parallel.as_secs_f64(),
        single.as_secs_f64(),
        parallel.as_secs_f64() / ideal
    );
}
