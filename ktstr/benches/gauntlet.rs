//! P5, the gauntlet's parallel efficiency through the trial pipeline: N variants run one at a time, then
//! the same N with J trials at once; the figures are the parallel wall ÷ (sum of the single walls ÷ J), 1.0
//! being J-fold overlap, and the speed-up over one at a time (sum of the single walls ÷ the parallel wall).
//! One untimed trial warms the caches first, so neither pass pays for a cold initramfs or page cache. The
//! verdicts of the two passes are compared: overlap must not change them. VMs' tests never share host CPUs
//! (`vm::CpuGate`), so on a host whose CPUs one test fills, J VMs overlap boots with tests, not tests with
//! tests, and the first figure cannot reach 1.0 there; docs/gauntlet.md has the measurements.
//! `cargo bench --bench gauntlet -- N J` (default 6 variants, J = 2).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ktstr::harness::VmTest;
use ktstr::pipeline::gauntlet::{GauntletMode, HostCapacity};
use ktstr::pipeline::{self, Event, PlanInputs, Sink, Sinks, SkipPolicy};
use ktstr::prelude::*;

mod common;

fn two_cgroups(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(
        ctx,
        vec![CgroupDef::named("cg_0"), CgroupDef::named("cg_1")],
    )?)
}

/// Each finished trial's outcome class and wall, by name.
#[derive(Default)]
struct Walls(Mutex<BTreeMap<String, (String, Duration)>>);

impl Sink for Walls {
    fn event(&self, event: &Event<'_>) {
        if let Event::Ended(row) = event {
            let mut walls = self.0.lock().unwrap();
            walls.insert(row.name.clone(), (row.outcome.clone(), row.wall));
        }
    }
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
    let mut plan = pipeline::plan(PlanInputs {
        tests: vec![base],
        gauntlet: GauntletMode::Marked,
        kernels: vec![],
        repeat: None,
        budget: None,
        host: HostCapacity::here(),
    })
    .expect("scx_qmap's gauntlet plans");
    // Small presets under the default and one flag profile: trials of similar length, so the figure is
    // about overlap, not about one long straggler.
    plan.trials.retain(|t| {
        let small = t.test().is_some_and(|v| {
            v.vm_topology().total_cpus() <= 4
                && matches!(v.profile_name().as_str(), "default" | "batch")
        });
        !t.ignored && t.name.starts_with("gauntlet/") && small
    });
    plan.trials.truncate(n);
    println!("{} variants, J = {jobs}", plan.trials.len());
    let single_walls = Arc::new(Walls::default());
    let sinks = Sinks::new(vec![Box::new(Arc::clone(&single_walls))]);
    pipeline::execute(&plan.trials[0], &sinks, SkipPolicy::Report);
    let mut single = Duration::ZERO;
    for trial in &plan.trials {
        let started = Instant::now();
        pipeline::execute(trial, &sinks, SkipPolicy::Report);
        single += started.elapsed();
    }
    let parallel_walls = Arc::new(Walls::default());
    let parallel_sinks = Sinks::new(vec![Box::new(Arc::clone(&parallel_walls))]);
    let started = Instant::now();
    pipeline::run_all(&plan, jobs, &parallel_sinks, SkipPolicy::Report);
    let parallel = started.elapsed();
    report(&single_walls, &parallel_walls, single, parallel, jobs);
}

/// Each variant's class and wall in both passes, the classes that changed, and the ratio.
fn report(single: &Walls, parallel: &Walls, single_sum: Duration, wall: Duration, jobs: usize) {
    let (one, many) = (single.0.lock().unwrap(), parallel.0.lock().unwrap());
    let mut changed = 0;
    for (name, (kind, alone)) in one.iter() {
        let (kind_j, with_j) = many
            .get(name)
            .cloned()
            .unwrap_or(("not run".into(), Duration::ZERO));
        changed += usize::from(*kind != kind_j);
        println!(
            "{name:<50} alone {kind} {:.1} s | J={jobs} {kind_j} {:.1} s",
            alone.as_secs_f64(),
            with_j.as_secs_f64()
        );
    }
    let ideal = single_sum.as_secs_f64() / jobs as f64;
    println!(
        "P5 = parallel wall {:.1} s / (sum of single walls {:.1} s / J {jobs}) = {:.2}; speed-up {:.2}x; \
         {changed} verdict(s) changed",
        wall.as_secs_f64(),
        single_sum.as_secs_f64(),
        wall.as_secs_f64() / ideal,
        single_sum.as_secs_f64() / wall.as_secs_f64()
    );
}
