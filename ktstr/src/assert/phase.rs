//! `CpusetPhase`: one cpuset a cgroup had while its workers ran, and when it came into force.

use crate::topology::CpuSet;

/// A cpuset requested at `since_ns` and in force once its write returned at `settled_ns`
/// (CLOCK_MONOTONIC, the clock a worker's `started_at_ns` is on). `None` is unrestricted.
#[derive(Debug, Clone, PartialEq)]
pub struct CpusetPhase {
    pub since_ns: u64,
    pub settled_ns: u64,
    pub cpus: Option<CpuSet>,
}

impl CpusetPhase {
    /// A cpuset the cgroup had from before its workers started.
    pub fn from_start(cpus: Option<CpuSet>) -> Self {
        CpusetPhase {
            since_ns: 0,
            settled_ns: 0,
            cpus,
        }
    }

    /// A cpuset written between `since_ns` and `settled_ns`.
    pub fn changed(since_ns: u64, settled_ns: u64, cpus: Option<CpuSet>) -> Self {
        CpusetPhase {
            since_ns,
            settled_ns,
            cpus,
        }
    }
}

/// Every CPU any phase allowed; `None` when a phase was unrestricted or there were none.
pub(crate) fn allowed_union(phases: &[CpusetPhase]) -> Option<CpuSet> {
    let mut sets = phases.iter().map(|p| p.cpus.as_ref());
    let first = sets.next()??.clone();
    sets.try_fold(first, |acc, set| set.map(|s| acc.union(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_union_is_unrestricted_when_any_phase_was() {
        let set = |cpus: &[usize]| Some(cpus.iter().copied().collect::<CpuSet>());
        let cases = [
            (vec![], None),
            (vec![CpusetPhase::from_start(set(&[0, 1]))], set(&[0, 1])),
            (
                vec![
                    CpusetPhase::from_start(set(&[0])),
                    CpusetPhase::changed(5, 6, set(&[2])),
                ],
                set(&[0, 2]),
            ),
            (
                vec![
                    CpusetPhase::from_start(set(&[0])),
                    CpusetPhase::changed(5, 6, None),
                ],
                None,
            ),
        ];
        for (phases, want) in cases {
            assert_eq!(allowed_union(&phases), want, "{phases:?}");
        }
    }
}
