//! `ScenarioError`: a scenario declaration that cannot run, named with its fix.

use super::{AffinityError, CpusetError, HoldError};
use crate::cgroup::CgroupError;
use crate::workload::WorkloadError;

/// Where in a scenario a problem sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Backdrop,
    Step(usize),
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Backdrop => f.write_str("backdrop"),
            Scope::Step(i) => write!(f, "step {i}"),
        }
    }
}

/// Why a scenario was rejected before (or while) running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    #[error("{scope}: {source}")]
    BadHold {
        scope: Scope,
        #[source]
        source: HoldError,
    },
    #[error("{scope}: cgroup {name:?} has a worker group of 0 workers, which would make every check pass vacuously; give it at least 1 worker (use Op::add_cgroup for an empty cgroup)")]
    ZeroWorkers { scope: Scope, name: String },
    #[error(
        "{scope}: cgroup {name:?} is declared twice; give each cgroup of a step a unique name"
    )]
    DuplicateCgroup { scope: Scope, name: String },
    #[error("{scope}: cgroup {name:?} shadows a backdrop cgroup of the same name; rename it")]
    ShadowsBackdrop { scope: Scope, name: String },
    #[error("{scope}: {op} names cgroup {name:?}, which does not exist at that point; add it first (Op::add_cgroup or a CgroupDef)")]
    UnknownCgroup {
        scope: Scope,
        op: String,
        name: String,
    },
    #[error("{scope}: {op} would remove, stop or move out of backdrop cgroup {name:?}; backdrop cgroups live for the whole scenario, so declare it in a step instead")]
    BackdropProtected {
        scope: Scope,
        op: String,
        name: String,
    },
    #[error("{scope}: cgroup {name:?}: CpusetSpec validation failed: {source}")]
    Cpuset {
        scope: Scope,
        name: String,
        #[source]
        source: CpusetError,
    },
    #[error("{scope}: cgroup {name:?}: {source}")]
    Affinity {
        scope: Scope,
        name: String,
        #[source]
        source: AffinityError,
    },
    #[error("{scope}: cgroup {name:?}: {source}")]
    Workload {
        scope: Scope,
        name: String,
        #[source]
        source: WorkloadError,
    },
    #[error("{scope}: {source}")]
    Cgroup {
        scope: Scope,
        #[source]
        source: CgroupError,
    },
    #[error("the scenario's checks: {0}")]
    Checks(#[source] crate::assert::AssertError),
}
