//! `CgroupDef` and `Work`: a cgroup declared as data (create + cpuset + workers).

use std::borrow::Cow;

use super::{AffinityIntent, CpusetSpec};
use crate::workload::{SchedPolicy, WorkType};

/// One group of identical workers inside a cgroup.
#[derive(Debug, Clone)]
pub struct Work {
    pub work_type: WorkType,
    pub sched_policy: SchedPolicy,
    /// Nice value of each worker (-20..=19).
    pub nice: i32,
    /// `None` takes `ctx.workers_per_cgroup`.
    pub num_workers: Option<usize>,
    pub affinity: AffinityIntent,
}

impl Default for Work {
    fn default() -> Self {
        Work {
            work_type: WorkType::SpinWait,
            sched_policy: SchedPolicy::Normal,
            nice: 0,
            num_workers: None,
            affinity: AffinityIntent::Inherit,
        }
    }
}

impl Work {
    pub fn new(work_type: WorkType) -> Self {
        Work {
            work_type,
            ..Work::default()
        }
    }

    pub fn workers(mut self, n: usize) -> Self {
        self.num_workers = Some(n);
        self
    }

    pub fn work_type(mut self, work_type: WorkType) -> Self {
        self.work_type = work_type;
        self
    }

    pub fn sched_policy(mut self, policy: SchedPolicy) -> Self {
        self.sched_policy = policy;
        self
    }

    pub fn affinity(mut self, affinity: AffinityIntent) -> Self {
        self.affinity = affinity;
        self
    }

    /// Each worker sets this nice value on itself; a negative one needs CAP_SYS_NICE.
    pub fn nice(mut self, nice: i32) -> Self {
        self.nice = nice;
        self
    }
}

/// A cgroup to create, with an optional cpuset and the workers to fork into it.
#[derive(Debug, Clone)]
pub struct CgroupDef {
    /// Path under the managed parent; nested paths such as `"a/b"` are allowed.
    pub name: Cow<'static, str>,
    pub cpuset: Option<CpusetSpec>,
    /// Concurrent worker groups; empty means one default `Work`.
    pub works: Vec<Work>,
    /// Whether `ctx.work_type_override` may replace this cgroup's work types.
    pub swappable: bool,
}

impl Default for CgroupDef {
    fn default() -> Self {
        CgroupDef::named("cg_0")
    }
}

impl CgroupDef {
    /// ```
    /// use ktstr::prelude::*;
    /// let def = CgroupDef::named("cg_1").workers(2).with_cpuset(CpusetSpec::llc(0));
    /// assert_eq!(def.name, "cg_1");
    /// ```
    pub fn named(name: impl Into<Cow<'static, str>>) -> Self {
        CgroupDef {
            name: name.into(),
            cpuset: None,
            works: Vec::new(),
            swappable: false,
        }
    }

    pub fn with_cpuset(mut self, cpuset: CpusetSpec) -> Self {
        self.cpuset = Some(cpuset);
        self
    }

    /// Appends a concurrent worker group.
    pub fn push_work(mut self, work: Work) -> Self {
        self.works.push(work);
        self
    }

    pub fn workers(self, n: usize) -> Self {
        self.edit_first(|w| w.workers(n))
    }

    pub fn work_type(self, work_type: WorkType) -> Self {
        self.edit_first(|w| w.work_type(work_type))
    }

    pub fn sched_policy(self, policy: SchedPolicy) -> Self {
        self.edit_first(|w| w.sched_policy(policy))
    }

    pub fn affinity(self, affinity: AffinityIntent) -> Self {
        self.edit_first(|w| w.affinity(affinity))
    }

    pub fn swappable(mut self, swappable: bool) -> Self {
        self.swappable = swappable;
        self
    }

    /// The worker groups to spawn: the declared ones, or one default group.
    pub fn effective_works(&self) -> Vec<Work> {
        if self.works.is_empty() {
            vec![Work::default()]
        } else {
            self.works.clone()
        }
    }

    fn edit_first(mut self, edit: impl FnOnce(Work) -> Work) -> Self {
        if self.works.is_empty() {
            self.works.push(Work::default());
        }
        let first = std::mem::take(&mut self.works[0]);
        self.works[0] = edit(first);
        self
    }
}
