//! Static validation of a whole scenario before anything runs: holds, names, cpusets, workers, affinities.

use std::collections::BTreeMap;

use super::{Backdrop, CgroupDef, CpusetSpec, Ctx, Op, ScenarioError, Scope, Step};
use crate::topology::CpuSet;

/// Cgroup names alive at one point of the scenario, with the cpuset each would have.
#[derive(Default)]
struct Names {
    backdrop: BTreeMap<String, Option<CpuSet>>,
    step: BTreeMap<String, Option<CpuSet>>,
}

impl Names {
    fn cpuset(&self, name: &str) -> Option<Option<&CpuSet>> {
        self.step
            .get(name)
            .or_else(|| self.backdrop.get(name))
            .map(Option::as_ref)
    }
}

/// Validates a scenario; each step's setup is passed already expanded (a `Setup::Factory` runs once).
pub(crate) fn validate(
    ctx: &Ctx,
    backdrop: &Backdrop,
    steps: &[(&Step, Vec<CgroupDef>)],
) -> Result<(), ScenarioError> {
    let mut names = Names::default();
    let mut checker = Checker {
        ctx,
        names: &mut names,
    };
    checker.defs(Scope::Backdrop, &backdrop.cgroups)?;
    checker.ops(Scope::Backdrop, &backdrop.ops)?;
    names.backdrop = std::mem::take(&mut names.step);
    for (i, (step, defs)) in steps.iter().enumerate() {
        let scope = Scope::Step(i);
        step.hold
            .validate()
            .map_err(|source| ScenarioError::BadHold { scope, source })?;
        let mut checker = Checker {
            ctx,
            names: &mut names,
        };
        checker.ops(scope, &step.ops)?;
        checker.defs(scope, defs)?;
        if matches!(step.hold, super::HoldSpec::Loop { .. }) {
            checker.ops(scope, &step.ops)?;
        }
        names.step.clear();
    }
    Ok(())
}

struct Checker<'a, 'c> {
    ctx: &'a Ctx<'c>,
    names: &'a mut Names,
}

impl Checker<'_, '_> {
    fn add(
        &mut self,
        scope: Scope,
        name: &str,
        cpuset: Option<CpuSet>,
    ) -> Result<(), ScenarioError> {
        let name_owned = name.to_string();
        crate::cgroup::validate_cgroup_name(name)
            .map_err(|source| ScenarioError::Cgroup { scope, source })?;
        if scope != Scope::Backdrop && self.names.backdrop.contains_key(name) {
            return Err(ScenarioError::ShadowsBackdrop {
                scope,
                name: name_owned,
            });
        }
        if self.names.step.insert(name_owned.clone(), cpuset).is_some() {
            return Err(ScenarioError::DuplicateCgroup {
                scope,
                name: name_owned,
            });
        }
        Ok(())
    }

    fn spec(&self, scope: Scope, name: &str, spec: &CpusetSpec) -> Result<CpuSet, ScenarioError> {
        spec.validate(self.ctx.topo)
            .map_err(|source| ScenarioError::Cpuset {
                scope,
                name: name.to_string(),
                source,
            })?;
        Ok(spec.resolve(self.ctx.topo))
    }

    fn defs(&mut self, scope: Scope, defs: &[CgroupDef]) -> Result<(), ScenarioError> {
        for def in defs {
            let cpuset = match &def.cpuset {
                Some(spec) => Some(self.spec(scope, &def.name, spec)?),
                None => None,
            };
            for work in def.effective_works() {
                super::plan::resolve_work(
                    self.ctx,
                    scope,
                    &def.name,
                    &work,
                    cpuset.as_ref(),
                    def.swappable,
                )?;
            }
            self.add(scope, &def.name, cpuset)?;
        }
        Ok(())
    }

    fn known(&self, scope: Scope, op: &Op, name: &str) -> Result<Option<CpuSet>, ScenarioError> {
        match self.names.cpuset(name) {
            Some(cpuset) => Ok(cpuset.cloned()),
            None => Err(ScenarioError::UnknownCgroup {
                scope,
                op: op.label(),
                name: name.to_string(),
            }),
        }
    }

    fn step_local(&self, scope: Scope, op: &Op, name: &str) -> Result<(), ScenarioError> {
        let in_backdrop = scope != Scope::Backdrop && !self.names.step.contains_key(name);
        if in_backdrop && self.names.backdrop.contains_key(name) {
            return Err(ScenarioError::BackdropProtected {
                scope,
                op: op.label(),
                name: name.to_string(),
            });
        }
        Ok(())
    }

    fn ops(&mut self, scope: Scope, ops: &[Op]) -> Result<(), ScenarioError> {
        ops.iter().try_for_each(|op| self.op(scope, op))
    }

    fn op(&mut self, scope: Scope, op: &Op) -> Result<(), ScenarioError> {
        match op {
            Op::AddCgroup { name } => self.add(scope, name, None),
            Op::RemoveCgroup { cgroup } | Op::StopCgroup { cgroup } => {
                self.known(scope, op, cgroup)?;
                self.step_local(scope, op, cgroup)?;
                if matches!(op, Op::RemoveCgroup { .. }) {
                    self.names.step.remove(cgroup.as_ref());
                }
                Ok(())
            }
            Op::SetCpuset { cgroup, cpus } => {
                self.known(scope, op, cgroup)?;
                let resolved = self.spec(scope, cgroup, cpus)?;
                self.set_cpuset(cgroup, Some(resolved));
                Ok(())
            }
            Op::ClearCpuset { cgroup } => {
                self.known(scope, op, cgroup)?;
                self.set_cpuset(cgroup, None);
                Ok(())
            }
            Op::SwapCpusets { a, b } => {
                let (ca, cb) = (self.known(scope, op, a)?, self.known(scope, op, b)?);
                self.set_cpuset(a, cb);
                self.set_cpuset(b, ca);
                Ok(())
            }
            Op::Spawn { cgroup, work } => {
                let cpuset = self.known(scope, op, cgroup)?;
                super::plan::resolve_work(self.ctx, scope, cgroup, work, cpuset.as_ref(), false)
                    .map(drop)
            }
            Op::SetAffinity { cgroup, affinity } => {
                let cpuset = self.known(scope, op, cgroup)?;
                affinity
                    .resolve(cpuset.as_ref(), self.ctx.topo)
                    .map(drop)
                    .map_err(|source| ScenarioError::Affinity {
                        scope,
                        name: cgroup.to_string(),
                        source,
                    })
            }
            Op::SpawnHost { work } => {
                super::plan::resolve_work(self.ctx, scope, "<parent>", work, None, false).map(drop)
            }
            Op::MoveAllTasks { from, to } => {
                self.known(scope, op, from)?;
                self.known(scope, op, to)?;
                if self.names.step.contains_key(to.as_ref()) {
                    self.step_local(scope, op, from)?;
                }
                Ok(())
            }
        }
    }

    fn set_cpuset(&mut self, name: &str, cpuset: Option<CpuSet>) {
        let slot = match self.names.step.get_mut(name) {
            Some(slot) => slot,
            None => match self.names.backdrop.get_mut(name) {
                Some(slot) => slot,
                None => return,
            },
        };
        *slot = cpuset;
    }
}
