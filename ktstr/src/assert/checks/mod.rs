//! Pure checks over one cgroup's worker reports; each returns a `Judgement`: what failed, and whether
//! there was anything meaningful to judge.

pub(crate) mod benchmark;
pub(crate) mod fairness;
pub(crate) mod isolation;
pub(crate) mod judgement;
pub(crate) mod liveness;
pub(crate) mod throughput;

pub(crate) use judgement::Judgement;
