//! ktstr: a test harness for Linux process schedulers.
//!
//! A test declares a scenario as data (cgroups, cpusets, workloads, steps); the engine creates the cgroups,
//! forks workers, runs the steps and judges what the workers measured.

pub mod assert;
pub mod cgroup;
pub mod kernel;
pub mod scenario;
pub mod topology;
pub mod workload;
