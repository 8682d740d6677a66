//! What a test author needs in scope: `use ktstr::prelude::*;`.

pub use anyhow::Result;

pub use crate::assert::{Assert, AssertDetail, AssertResult, DetailKind};
pub use crate::harness::VmTest;
pub use crate::outcome::OutcomeKind;
pub use crate::scenario::{
    execute_defs, execute_scenario, execute_scenario_with, execute_steps, execute_steps_with,
    AffinityIntent, Backdrop, CgroupDef, CpusetSpec, Ctx, HoldSpec, Op, ScenarioError, Setup, Step,
    WithOps, Work,
};
pub use crate::sched::{FlagDecl, Scheduler, Sysctl, TopologyConstraints};
pub use crate::topology::{CpuSet, TestTopology, Topology};
pub use crate::workload::{SchedPolicy, WorkType};
pub use crate::{ktstr_test, Scheduler};
