//! `AffinityIntent`: a worker group's CPU affinity as intent, resolved per cgroup against its cpuset and the topology.

use crate::topology::{CpuSet, TestTopology};
use crate::workload::AffinityMode;

/// What CPUs a group of workers should run on, relative to its cgroup.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum AffinityIntent {
    /// No affinity call: the cgroup's cpuset decides.
    #[default]
    Inherit,
    /// Each worker gets its own random half (at least one) of the pool.
    RandomSubset,
    /// The LLC overlapping the pool most, intersected with the pool.
    LlcAligned,
    /// Every CPU, deliberately wider than the cgroup's cpuset.
    CrossCgroup,
    /// The lowest CPU of the pool.
    SingleCpu,
    /// A literal set, intersected with the cgroup's cpuset.
    Exact(CpuSet),
    /// Two SMT siblings of one core inside the pool.
    SmtSiblingPair,
}

/// Why an affinity intent cannot be met for a cgroup.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AffinityError {
    #[error("affinity Exact is empty; name at least one CPU or use AffinityIntent::Inherit")]
    EmptyExact,
    #[error("affinity Exact names CPUs {missing} that do not exist (the topology has {all})")]
    UnknownCpus { missing: CpuSet, all: CpuSet },
    #[error("affinity Exact {wanted} shares no CPU with the cgroup's cpuset {cpuset}; pick CPUs inside the cpuset or widen it")]
    DisjointFromCpuset { wanted: CpuSet, cpuset: CpuSet },
    #[error("affinity CrossCgroup needs a cpuset narrower than the whole machine to cross; give the cgroup a cpuset or use Inherit")]
    NothingToCross,
    #[error("affinity SmtSiblingPair found no core with two SMT siblings inside {pool}; use a topology with threads >= 2 and a cpuset holding whole cores")]
    NoSmtPair { pool: CpuSet },
    #[error("the affinity pool is empty (cgroup cpuset {pool}); give the cgroup CPUs that exist")]
    EmptyPool { pool: CpuSet },
}

impl AffinityIntent {
    pub fn exact(cpus: impl IntoIterator<Item = usize>) -> Self {
        AffinityIntent::Exact(cpus.into_iter().collect())
    }

    /// Resolves against the cgroup's cpuset (`None` = all CPUs) and the topology.
    pub fn resolve(
        &self,
        cpuset: Option<&CpuSet>,
        topo: &TestTopology,
    ) -> Result<AffinityMode, AffinityError> {
        let all = topo.all_cpus();
        let pool = cpuset.map_or_else(|| all.clone(), |c| c.intersection(all));
        if pool.is_empty() && !matches!(self, AffinityIntent::Inherit | AffinityIntent::Exact(_)) {
            return Err(AffinityError::EmptyPool {
                pool: cpuset.cloned().unwrap_or_default(),
            });
        }
        match self {
            AffinityIntent::Inherit => Ok(AffinityMode::None),
            AffinityIntent::RandomSubset => Ok(AffinityMode::Random {
                count: (pool.len() / 2).max(1),
                from: pool,
            }),
            AffinityIntent::LlcAligned => Ok(AffinityMode::Fixed(best_llc(&pool, topo))),
            AffinityIntent::CrossCgroup if pool == *all => Err(AffinityError::NothingToCross),
            AffinityIntent::CrossCgroup => Ok(AffinityMode::Fixed(all.clone())),
            AffinityIntent::SingleCpu => {
                Ok(AffinityMode::SingleCpu(pool.first().unwrap_or_default()))
            }
            AffinityIntent::Exact(wanted) => resolve_exact(wanted, cpuset, all),
            AffinityIntent::SmtSiblingPair => smt_pair(&pool, topo),
        }
    }
}

fn best_llc(pool: &CpuSet, topo: &TestTopology) -> CpuSet {
    // Reversed so that ties go to the lowest LLC (max_by_key keeps the last maximum).
    topo.llcs()
        .iter()
        .rev()
        .map(|llc| llc.cpus.intersection(pool))
        .max_by_key(|overlap| overlap.len())
        .filter(|overlap| !overlap.is_empty())
        .unwrap_or_else(|| pool.clone())
}

fn resolve_exact(
    wanted: &CpuSet,
    cpuset: Option<&CpuSet>,
    all: &CpuSet,
) -> Result<AffinityMode, AffinityError> {
    if wanted.is_empty() {
        return Err(AffinityError::EmptyExact);
    }
    let missing = wanted.difference(all);
    if !missing.is_empty() {
        return Err(AffinityError::UnknownCpus {
            missing,
            all: all.clone(),
        });
    }
    match cpuset {
        Some(cpuset) if wanted.is_disjoint(cpuset) => Err(AffinityError::DisjointFromCpuset {
            wanted: wanted.clone(),
            cpuset: cpuset.clone(),
        }),
        Some(cpuset) => Ok(AffinityMode::Fixed(wanted.intersection(cpuset))),
        None => Ok(AffinityMode::Fixed(wanted.clone())),
    }
}

fn smt_pair(pool: &CpuSet, topo: &TestTopology) -> Result<AffinityMode, AffinityError> {
    topo.cores()
        .into_iter()
        .map(|core| core.intersection(pool))
        .find(|inside| inside.len() >= 2)
        .map(|inside| AffinityMode::Fixed(inside.iter().take(2).collect()))
        .ok_or_else(|| AffinityError::NoSmtPair { pool: pool.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::test_support::{cpus, topo};

    #[test]
    fn resolves_each_intent() {
        // 1n2l2c2t: LLC0 = 0-3 (cores 0-1, 2-3), LLC1 = 4-7.
        let t = topo("1n2l2c2t");
        let cpuset = cpus("2-5");
        let cases = [
            (AffinityIntent::Inherit, AffinityMode::None),
            (
                AffinityIntent::RandomSubset,
                AffinityMode::Random {
                    from: cpuset.clone(),
                    count: 2,
                },
            ),
            (AffinityIntent::LlcAligned, AffinityMode::Fixed(cpus("2-3"))),
            (
                AffinityIntent::CrossCgroup,
                AffinityMode::Fixed(cpus("0-7")),
            ),
            (AffinityIntent::SingleCpu, AffinityMode::SingleCpu(2)),
            (
                AffinityIntent::exact([1, 2, 3]),
                AffinityMode::Fixed(cpus("2-3")),
            ),
            (
                AffinityIntent::SmtSiblingPair,
                AffinityMode::Fixed(cpus("2-3")),
            ),
        ];
        for (intent, want) in cases {
            assert_eq!(intent.resolve(Some(&cpuset), &t), Ok(want), "{intent:?}");
        }
    }

    #[test]
    fn without_cpuset_the_pool_is_every_cpu() {
        let t = topo("1n1l4c1t");
        assert_eq!(
            AffinityIntent::RandomSubset.resolve(None, &t),
            Ok(AffinityMode::Random {
                from: cpus("0-3"),
                count: 2
            })
        );
        assert_eq!(
            AffinityIntent::exact([3]).resolve(None, &t),
            Ok(AffinityMode::Fixed(cpus("3")))
        );
    }

    /// Why `intent` cannot be resolved within `cpuset` on a `shape` machine.
    fn refusal(intent: AffinityIntent, cpuset: Option<&str>, shape: &str) -> AffinityError {
        let cpuset = cpuset.map(cpus);
        match intent.resolve(cpuset.as_ref(), &topo(shape)) {
            Ok(mode) => panic!("{intent:?} within {cpuset:?} on {shape} resolved to {mode:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn rejects_an_exact_list_it_cannot_honour() {
        let flat = "1n2l2c1t";
        let empty = refusal(AffinityIntent::exact([]), Some("0-1"), flat);
        assert_eq!(empty, AffinityError::EmptyExact);
        let unknown = refusal(AffinityIntent::exact([0, 9]), None, flat);
        let (missing, all) = (cpus("9"), cpus("0-3"));
        assert_eq!(unknown, AffinityError::UnknownCpus { missing, all });
        let apart = refusal(AffinityIntent::exact([2, 3]), Some("0-1"), flat);
        let (wanted, cpuset) = (cpus("2-3"), cpus("0-1"));
        assert_eq!(apart, AffinityError::DisjointFromCpuset { wanted, cpuset });
    }

    #[test]
    fn rejects_an_intent_the_pool_cannot_satisfy() {
        let flat = "1n2l2c1t";
        let cross = refusal(AffinityIntent::CrossCgroup, None, flat);
        assert_eq!(cross, AffinityError::NothingToCross);
        let no_smt = refusal(AffinityIntent::SmtSiblingPair, None, flat);
        assert_eq!(no_smt, AffinityError::NoSmtPair { pool: cpus("0-3") });
        let split_pair = refusal(AffinityIntent::SmtSiblingPair, Some("1-2"), "1n2l2c2t");
        assert_eq!(split_pair, AffinityError::NoSmtPair { pool: cpus("1-2") });
        let outside = refusal(AffinityIntent::SingleCpu, Some("12-13"), flat);
        let pool = cpus("12-13");
        assert_eq!(outside, AffinityError::EmptyPool { pool });
    }
}
