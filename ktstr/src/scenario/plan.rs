//! Resolution of declared work into workload configs, shared by validation and execution.

use super::{Ctx, ScenarioError, Scope, Work};
use crate::topology::CpuSet;
use crate::workload::WorkloadConfig;

/// Resolves one `Work` of cgroup `name` into a validated `WorkloadConfig`.
pub(crate) fn resolve_work(
    ctx: &Ctx,
    scope: Scope,
    name: &str,
    work: &Work,
    cpuset: Option<&CpuSet>,
    swappable: bool,
) -> Result<WorkloadConfig, ScenarioError> {
    let workers = work.num_workers.unwrap_or(ctx.workers_per_cgroup);
    if workers == 0 {
        return Err(ScenarioError::ZeroWorkers {
            scope,
            name: name.to_string(),
        });
    }
    let work_type = match &ctx.work_type_override {
        Some(over) if swappable && workers % over.worker_group_size() == 0 => over.clone(),
        _ => work.work_type.clone(),
    };
    let affinity =
        work.affinity
            .resolve(cpuset, ctx.topo)
            .map_err(|source| ScenarioError::Affinity {
                scope,
                name: name.to_string(),
                source,
            })?;
    let config = WorkloadConfig::new(work_type)
        .workers(workers)
        .affinity(affinity)
        .sched_policy(work.sched_policy)
        .nice(work.nice);
    config
        .validate()
        .map_err(|source| ScenarioError::Workload {
            scope,
            name: name.to_string(),
            source,
        })?;
    Ok(config)
}
