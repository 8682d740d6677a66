//! Scenarios as data: context, cgroup definitions, steps and ops, cpuset specs, executors, canned catalog.

mod affinity;
mod backdrop;
pub mod catalog;
mod cgroup_def;
mod cpuset_spec;
mod ctx;
mod error;
mod executor;
mod op;
mod plan;
mod step;
mod validate;

pub use affinity::{AffinityError, AffinityIntent};
pub use backdrop::Backdrop;
pub use cgroup_def::{CgroupDef, Work};
pub use cpuset_spec::{CpusetError, CpusetSpec};
pub use ctx::{Ctx, CtxBuilder, ScenarioFn};
pub use error::{ScenarioError, Scope};
pub use executor::{
    execute_defs, execute_scenario, execute_scenario_with, execute_steps, execute_steps_with,
};
pub use op::{Op, WithOps};
pub use step::{HoldError, HoldSpec, Setup, Step};
