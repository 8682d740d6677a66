//! ktstr: a test harness for Linux process schedulers.
//!
//! A test declares a scenario as data (cgroups, cpusets, workloads, steps); the engine creates the cgroups,
//! forks workers, runs the steps and judges what the workers measured.

pub mod assert;
pub mod cgroup;
pub mod guest;
pub mod harness;
pub mod host;
pub mod kernel;
pub mod scenario;
pub mod sched;
pub mod topology;
pub mod vm;
pub mod workload;

pub mod prelude;
pub mod protocol;
