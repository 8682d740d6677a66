//! `RunningScenario`: a scenario while it runs — its live backdrop and step scopes, to which it applies ops
//! and cgroup definitions, and the verdict so far.

use super::live::{Judged, LiveCgroup, LiveScope, HOST};
use crate::assert::{Assert, AssertResult};
use crate::scenario::plan::resolve_work;
use crate::scenario::{AffinityIntent, CgroupDef, Ctx, Op, ScenarioError, Scope};
use crate::topology::CpuSet;
use crate::workload::{now_ns, AffinityMode, WorkloadConfig, WorkloadError, WorkloadHandle};

/// The running scenario: the backdrop scope, the current step's scope, and the verdict so far.
pub(crate) struct RunningScenario<'x, 'c> {
    pub ctx: &'x Ctx<'c>,
    pub assert: Assert,
    pub backdrop: LiveScope<'c>,
    pub step: Option<LiveScope<'c>>,
    pub verdict: AssertResult,
    pub workers_judged: usize,
    /// Whether `ctx.settle` was already waited (once, before the scenario's first workers).
    settled: bool,
}

impl<'x, 'c> RunningScenario<'x, 'c> {
    pub fn new(ctx: &'x Ctx<'c>, assert: Assert) -> Self {
        RunningScenario {
            ctx,
            assert,
            backdrop: LiveScope::new(ctx.cgroups),
            step: None,
            verdict: AssertResult::pass(),
            workers_judged: 0,
            settled: false,
        }
    }

    fn scope_mut(&mut self, scope: Scope) -> &mut LiveScope<'c> {
        match (scope, self.step.as_mut()) {
            (Scope::Step(_), Some(step)) => step,
            _ => &mut self.backdrop,
        }
    }

    /// The scope holding `name`: the step's first, then the backdrop.
    fn owner(&mut self, name: &str) -> &mut LiveScope<'c> {
        match self.step.as_mut() {
            Some(step) if step.contains(name) => step,
            _ => &mut self.backdrop,
        }
    }

    fn live(
        &mut self,
        scope: Scope,
        op: &Op,
        name: &str,
    ) -> Result<&mut LiveCgroup, ScenarioError> {
        self.owner(name)
            .cgroups
            .get_mut(name)
            .ok_or_else(|| ScenarioError::UnknownCgroup {
                scope,
                op: op.label(),
                name: name.to_string(),
            })
    }

    fn record(&mut self, judged: Judged) {
        self.workers_judged += judged.workers;
        let so_far = std::mem::replace(&mut self.verdict, AssertResult::pass());
        self.verdict = so_far.merge(judged.verdict);
    }

    /// Ends a scope: stops and judges its workers; its cgroups are removed as it drops.
    pub fn end_scope(&mut self, mut scope: LiveScope<'c>) {
        let judged = scope.teardown(&self.assert);
        self.record(judged);
    }

    /// Creates the defs' cgroups, waits `ctx.settle` the first time, forks every worker, then starts them all.
    pub fn setup_defs(&mut self, scope: Scope, defs: &[CgroupDef]) -> Result<(), ScenarioError> {
        let ctx = self.ctx;
        let cpusets: Vec<Option<CpuSet>> = defs
            .iter()
            .map(|def| def.cpuset.as_ref().map(|spec| spec.resolve(ctx.topo)))
            .collect();
        for (def, cpuset) in defs.iter().zip(&cpusets) {
            self.scope_mut(scope)
                .create(&def.name, cpuset.clone())
                .map_err(|source| ScenarioError::Cgroup { scope, source })?;
        }
        if !defs.is_empty() && !self.settled {
            self.settled = true;
            std::thread::sleep(ctx.settle);
        }
        let mut spawned = Vec::new();
        for (def, cpuset) in defs.iter().zip(&cpusets) {
            for work in def.effective_works() {
                let config =
                    resolve_work(ctx, scope, &def.name, &work, cpuset.as_ref(), def.swappable)?;
                spawned.push((
                    def.name.to_string(),
                    self.spawn_into(scope, &def.name, &config)?,
                ));
            }
        }
        for (name, mut handle) in spawned {
            handle.start();
            self.scope_mut(scope)
                .cgroups
                .entry(name)
                .or_default()
                .push(handle);
        }
        Ok(())
    }

    /// Forks workers and moves them into `name` (not started).
    fn spawn_into(
        &self,
        scope: Scope,
        name: &str,
        config: &WorkloadConfig,
    ) -> Result<WorkloadHandle, ScenarioError> {
        let handle = WorkloadHandle::spawn(config).map_err(|source| ScenarioError::Workload {
            scope,
            name: name.to_string(),
            source,
        })?;
        if name != HOST {
            self.ctx
                .cgroups
                .move_tasks(name, &handle.worker_pids())
                .map_err(|source| ScenarioError::Cgroup { scope, source })?;
        }
        Ok(handle)
    }

    pub fn apply_ops(&mut self, scope: Scope, ops: &[Op]) -> Result<(), ScenarioError> {
        ops.iter().try_for_each(|op| self.apply(scope, op))
    }

    fn apply(&mut self, scope: Scope, op: &Op) -> Result<(), ScenarioError> {
        let cgroup_err = |source| ScenarioError::Cgroup { scope, source };
        match op {
            Op::AddCgroup { name } => self.scope_mut(scope).create(name, None).map_err(cgroup_err),
            Op::RemoveCgroup { cgroup } => {
                let assert = self.assert;
                let (judged, removed) = self.owner(cgroup).remove(cgroup, &assert);
                self.record(judged);
                removed.map_err(cgroup_err)
            }
            Op::StopCgroup { cgroup } => {
                self.live(scope, op, cgroup)?;
                let assert = self.assert;
                let judged = self.owner(cgroup).stop(cgroup, &assert);
                self.record(judged);
                Ok(())
            }
            Op::SetCpuset { cgroup, cpus } => {
                self.write_cpuset(scope, op, cgroup, Some(cpus.resolve(self.ctx.topo)))
            }
            Op::ClearCpuset { cgroup } => self.write_cpuset(scope, op, cgroup, None),
            Op::SwapCpusets { a, b } => {
                let ca = self.live(scope, op, a)?.cpuset.clone();
                let cb = self.live(scope, op, b)?.cpuset.clone();
                self.write_cpuset(scope, op, a, cb)?;
                self.write_cpuset(scope, op, b, ca)
            }
            Op::Spawn { cgroup, work } => {
                let cpuset = self.live(scope, op, cgroup)?.cpuset.clone();
                let config = resolve_work(self.ctx, scope, cgroup, work, cpuset.as_ref(), false)?;
                let mut handle = self.spawn_into(scope, cgroup, &config)?;
                handle.start();
                self.live(scope, op, cgroup)?.push(handle);
                Ok(())
            }
            Op::SpawnHost { work } => {
                let config = resolve_work(self.ctx, scope, HOST, work, None, false)?;
                let mut handle = self.spawn_into(scope, HOST, &config)?;
                handle.start();
                self.scope_mut(scope)
                    .cgroups
                    .entry(HOST.to_string())
                    .or_default()
                    .push(handle);
                Ok(())
            }
            Op::SetAffinity { cgroup, affinity } => self.set_affinity(scope, op, cgroup, affinity),
            Op::MoveAllTasks { from, to } => self.move_all(scope, op, from, to),
        }
    }

    fn write_cpuset(
        &mut self,
        scope: Scope,
        op: &Op,
        name: &str,
        cpus: Option<CpuSet>,
    ) -> Result<(), ScenarioError> {
        let since_ns = now_ns();
        let result = match &cpus {
            Some(cpus) => self.ctx.cgroups.set_cpuset(name, cpus),
            None => self.ctx.cgroups.clear_cpuset(name),
        };
        result.map_err(|source| ScenarioError::Cgroup { scope, source })?;
        self.live(scope, op, name)?
            .set_cpuset(cpus, since_ns, now_ns());
        Ok(())
    }

    fn set_affinity(
        &mut self,
        scope: Scope,
        op: &Op,
        name: &str,
        intent: &AffinityIntent,
    ) -> Result<(), ScenarioError> {
        let topo = self.ctx.topo;
        let live = self.live(scope, op, name)?;
        let mode = intent
            .resolve(live.cpuset.as_ref(), topo)
            .map_err(|source| ScenarioError::Affinity {
                scope,
                name: name.to_string(),
                source,
            })?;
        for handle in &mut live.handles {
            for idx in 0..handle.len() {
                let cpus = match &mode {
                    AffinityMode::None => topo.all_cpus().clone(),
                    AffinityMode::Fixed(cpus) => cpus.clone(),
                    AffinityMode::SingleCpu(cpu) => std::iter::once(*cpu).collect(),
                    AffinityMode::Random { from, count } => {
                        let mut pool = from.to_vec();
                        fastrand::shuffle(&mut pool);
                        pool.into_iter().take(*count).collect()
                    }
                };
                match handle.set_affinity(idx, &cpus) {
                    // A worker that already exited cannot take an affinity; its report says how it ended.
                    Err(WorkloadError::SetAffinity { source, .. })
                        if source.raw_os_error() == Some(libc::ESRCH) => {}
                    result => result.map_err(|source| ScenarioError::Workload {
                        scope,
                        name: name.to_string(),
                        source,
                    })?,
                }
            }
        }
        Ok(())
    }

    fn move_all(
        &mut self,
        scope: Scope,
        op: &Op,
        from: &str,
        to: &str,
    ) -> Result<(), ScenarioError> {
        self.live(scope, op, to)?;
        let moved = std::mem::take(self.live(scope, op, from)?);
        let cgroup_err = |source| ScenarioError::Cgroup { scope, source };
        self.ctx
            .cgroups
            .clear_subtree_control(to)
            .map_err(cgroup_err)?;
        let pids: Vec<i32> = moved.handles.iter().flat_map(|h| h.worker_pids()).collect();
        let since_ns = now_ns();
        let result = self.ctx.cgroups.move_tasks(to, &pids).map_err(cgroup_err);
        let settled_ns = now_ns();
        let source = self.live(scope, op, from)?;
        source.set_cpuset(moved.cpuset.clone(), since_ns, settled_ns);
        self.live(scope, op, to)?
            .absorb(moved, since_ns, settled_ns);
        result
    }
}
