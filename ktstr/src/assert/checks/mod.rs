//! Pure checks over one cgroup's worker reports; each returns the details of what failed.

pub(crate) mod benchmark;
pub(crate) mod fairness;
pub(crate) mod isolation;
pub(crate) mod liveness;
pub(crate) mod throughput;
