//! `ktstr run` and `ktstr list`: canned scenarios directly on this host.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ktstr::assert::ReportHeader;
use ktstr::host::{CgroupMode, HostCgroups, HostRun};
use ktstr::scenario::catalog::{self, CannedScenario};
use ktstr::topology::TestTopology;

use crate::cli::RunArgs;

pub fn list() -> Result<()> {
    for scenario in catalog::catalog() {
        println!(
            "{:<22} {:<8} {}",
            scenario.name, scenario.category, scenario.description
        );
    }
    Ok(())
}

pub fn run(args: RunArgs) -> Result<()> {
    let scenarios = select(&args.scenarios)?;
    let topo = TestTopology::from_sysfs().context("reading this host's CPU topology")?;
    let cgroups = HostCgroups::open(args.cgroups.into())?;
    let shape = topo.shape().map_or_else(
        |_| format!("{} cpus (non-uniform)", topo.total_cpus()),
        |s| s.to_string(),
    );
    println!(
        "ktstr run: {} scenario(s) on this host, topology {shape}",
        scenarios.len()
    );
    println!("cgroups: {}", cgroups.description);
    let settings = HostRun {
        duration: Duration::from_secs_f64(args.duration),
        workers_per_cgroup: args.workers.get(),
        ..HostRun::default()
    };
    let (mut failed, mut skipped) = (0, 0);
    for scenario in &scenarios {
        let started = Instant::now();
        let header = ReportHeader {
            test: scenario.name.to_string(),
            scheduler: None,
            topology: Some(shape.clone()),
        };
        match settings.run(scenario, &topo, &cgroups) {
            Ok(result) => {
                failed += usize::from(!result.passed);
                skipped += usize::from(result.skipped);
                print!("{}", result.format_human(&header));
            }
            Err(error) => {
                failed += 1;
                println!("ktstr_test '{}' could not run: {error:#}", scenario.name);
            }
        }
        println!("  ({:.1}s)\n", started.elapsed().as_secs_f64());
    }
    let passed = scenarios.len() - failed - skipped;
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    if failed > 0 {
        return Err(ScenariosFailed(failed).into());
    }
    Ok(())
}

/// Some scenarios' verdicts were failures (their reports are printed above).
#[derive(Debug, thiserror::Error)]
#[error("{0} scenario(s) failed")]
pub struct ScenariosFailed(pub usize);

fn select(names: &[String]) -> Result<Vec<&'static CannedScenario>> {
    if names.is_empty() {
        return Ok(catalog::catalog().iter().collect());
    }
    names.iter().map(|n| Ok(catalog::find(n)?)).collect()
}

impl From<crate::cli::CgroupsArg> for CgroupMode {
    fn from(arg: crate::cli::CgroupsArg) -> Self {
        match arg {
            crate::cli::CgroupsArg::Auto => CgroupMode::Auto,
            crate::cli::CgroupsArg::Real => CgroupMode::Real,
            crate::cli::CgroupsArg::Simulated => CgroupMode::Simulated,
        }
    }
}
