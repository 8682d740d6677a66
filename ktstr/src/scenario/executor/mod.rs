//! Running a scenario: validation, scopes of live cgroups and workers, ops, holds, liveness, verdicts.

mod driver;
mod live;
mod running_scenario;

pub use driver::{
    execute_defs, execute_scenario, execute_scenario_with, execute_steps, execute_steps_with,
};
