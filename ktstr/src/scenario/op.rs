//! `Op`: an imperative change applied at the start of a step (or repeatedly by a loop step).

use std::borrow::Cow;

use super::{AffinityIntent, CpusetSpec, Work};

type Name = Cow<'static, str>;

/// One change to the running scenario. Build with the constructor functions.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Op {
    /// Create an empty cgroup (no cpuset, no workers).
    AddCgroup {
        name: Name,
    },
    /// Stop and judge its workers, then remove the cgroup.
    RemoveCgroup {
        cgroup: Name,
    },
    SetCpuset {
        cgroup: Name,
        cpus: CpusetSpec,
    },
    /// Write an empty cpuset so the cgroup inherits its parent's CPUs.
    ClearCpuset {
        cgroup: Name,
    },
    SwapCpusets {
        a: Name,
        b: Name,
    },
    /// Fork workers into an existing cgroup (the work type is used as is, never overridden).
    Spawn {
        cgroup: Name,
        work: Work,
    },
    /// Stop and judge the cgroup's workers, keeping the cgroup.
    StopCgroup {
        cgroup: Name,
    },
    /// Re-resolve and apply an affinity to every worker of the cgroup.
    SetAffinity {
        cgroup: Name,
        affinity: AffinityIntent,
    },
    /// Fork workers left in the managed parent cgroup (contention from outside the test cgroups).
    SpawnHost {
        work: Work,
    },
    /// Move every worker of `from` into `to`.
    MoveAllTasks {
        from: Name,
        to: Name,
    },
}

impl Op {
    pub fn add_cgroup(name: impl Into<Name>) -> Self {
        Op::AddCgroup { name: name.into() }
    }

    pub fn remove_cgroup(cgroup: impl Into<Name>) -> Self {
        Op::RemoveCgroup {
            cgroup: cgroup.into(),
        }
    }

    pub fn set_cpuset(cgroup: impl Into<Name>, cpus: CpusetSpec) -> Self {
        Op::SetCpuset {
            cgroup: cgroup.into(),
            cpus,
        }
    }

    pub fn clear_cpuset(cgroup: impl Into<Name>) -> Self {
        Op::ClearCpuset {
            cgroup: cgroup.into(),
        }
    }

    pub fn swap_cpusets(a: impl Into<Name>, b: impl Into<Name>) -> Self {
        Op::SwapCpusets {
            a: a.into(),
            b: b.into(),
        }
    }

    pub fn spawn(cgroup: impl Into<Name>, work: Work) -> Self {
        Op::Spawn {
            cgroup: cgroup.into(),
            work,
        }
    }

    pub fn stop_cgroup(cgroup: impl Into<Name>) -> Self {
        Op::StopCgroup {
            cgroup: cgroup.into(),
        }
    }

    pub fn set_affinity(cgroup: impl Into<Name>, affinity: AffinityIntent) -> Self {
        Op::SetAffinity {
            cgroup: cgroup.into(),
            affinity,
        }
    }

    pub fn spawn_host(work: Work) -> Self {
        Op::SpawnHost { work }
    }

    pub fn move_all_tasks(from: impl Into<Name>, to: impl Into<Name>) -> Self {
        Op::MoveAllTasks {
            from: from.into(),
            to: to.into(),
        }
    }

    /// A short label for logs and failure messages.
    pub fn label(&self) -> String {
        match self {
            Op::AddCgroup { name } => format!("add_cgroup({name})"),
            Op::RemoveCgroup { cgroup } => format!("remove_cgroup({cgroup})"),
            Op::SetCpuset { cgroup, cpus } => format!("set_cpuset({cgroup}, {cpus:?})"),
            Op::ClearCpuset { cgroup } => format!("clear_cpuset({cgroup})"),
            Op::SwapCpusets { a, b } => format!("swap_cpusets({a}, {b})"),
            Op::Spawn { cgroup, work } => format!("spawn({cgroup}, {})", work.work_type.name()),
            Op::StopCgroup { cgroup } => format!("stop_cgroup({cgroup})"),
            Op::SetAffinity { cgroup, affinity } => format!("set_affinity({cgroup}, {affinity:?})"),
            Op::SpawnHost { work } => format!("spawn_host({})", work.work_type.name()),
            Op::MoveAllTasks { from, to } => format!("move_all_tasks({from} -> {to})"),
        }
    }
}

/// Builders that carry a list of ops (`Step`, `Backdrop`): append one or several.
pub trait WithOps: Sized {
    fn ops_mut(&mut self) -> &mut Vec<Op>;

    /// Appends one op.
    fn push_op(mut self, op: Op) -> Self {
        self.ops_mut().push(op);
        self
    }

    /// Appends ops.
    fn extend_ops(mut self, ops: impl IntoIterator<Item = Op>) -> Self {
        self.ops_mut().extend(ops);
        self
    }
}
