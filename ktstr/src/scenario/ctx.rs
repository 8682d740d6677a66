//! `Ctx`: the runtime context every scenario and test function receives, its builder, and `ScenarioFn`,
//! the type of those functions.

use std::time::Duration;

use crate::assert::{Assert, AssertResult};
use crate::cgroup::CgroupOps;
use crate::topology::TestTopology;
use crate::workload::WorkType;

/// A scenario or test function: what `#[ktstr_test]`, `VmTest`, the catalog and the guest all run.
pub type ScenarioFn = fn(&Ctx) -> anyhow::Result<AssertResult>;

/// Runtime context handed to a test or scenario function.
pub struct Ctx<'a> {
    /// Cgroup operations under the managed parent (the real manager or an in-memory double).
    pub cgroups: &'a dyn CgroupOps,
    /// Topology of the machine the scenario runs on.
    pub topo: &'a TestTopology,
    /// Total workload budget of the scenario.
    pub duration: Duration,
    /// Worker count of a `Work` that names none.
    pub workers_per_cgroup: usize,
    /// Scheduler process watched for liveness between steps; `None` under the kernel's own scheduler.
    pub sched_pid: Option<i32>,
    /// Pause after the scenario's first cgroups are created and before its first workers spawn.
    pub settle: Duration,
    /// Replaces the work type of `swappable` cgroup definitions.
    pub work_type_override: Option<WorkType>,
    /// Merged checks (defaults → scheduler → test).
    pub assert: Assert,
}

impl<'a> Ctx<'a> {
    /// Starts a builder with unit-test defaults: 1 s, 1 worker per cgroup, no scheduler, no settle.
    pub fn builder(cgroups: &'a dyn CgroupOps, topo: &'a TestTopology) -> CtxBuilder<'a> {
        CtxBuilder {
            ctx: Ctx {
                cgroups,
                topo,
                duration: Duration::from_secs(1),
                workers_per_cgroup: 1,
                sched_pid: None,
                settle: Duration::ZERO,
                work_type_override: None,
                assert: Assert::default_checks(),
            },
        }
    }
}

/// Builder for `Ctx`; each setter replaces one field.
#[must_use]
pub struct CtxBuilder<'a> {
    ctx: Ctx<'a>,
}

impl<'a> CtxBuilder<'a> {
    pub fn duration(mut self, duration: Duration) -> Self {
        self.ctx.duration = duration;
        self
    }

    pub fn workers_per_cgroup(mut self, workers: usize) -> Self {
        self.ctx.workers_per_cgroup = workers;
        self
    }

    /// Sets the scheduler pid; a non-positive pid means "no scheduler process".
    pub fn sched_pid(mut self, pid: Option<i32>) -> Self {
        self.ctx.sched_pid = pid.filter(|&p| p > 0);
        self
    }

    pub fn settle(mut self, settle: Duration) -> Self {
        self.ctx.settle = settle;
        self
    }

    pub fn work_type_override(mut self, work_type: Option<WorkType>) -> Self {
        self.ctx.work_type_override = work_type;
        self
    }

    pub fn assert(mut self, assert: Assert) -> Self {
        self.ctx.assert = assert;
        self
    }

    pub fn build(self) -> Ctx<'a> {
        self.ctx
    }
}
