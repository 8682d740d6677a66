//! `CpusetSpec`: a cgroup's cpuset declared relative to the topology, validated and resolved against it.

use crate::topology::{CpuSet, TestTopology};

/// How a cgroup's cpuset is derived from the topology. `U` below is `topo.usable_cpus()`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CpusetSpec {
    /// Every CPU of LLC `i`.
    Llc(usize),
    /// Every CPU of NUMA node `n`.
    Numa(usize),
    /// `U[floor(len*start) .. floor(len*end)]`.
    Range { start_frac: f64, end_frac: f64 },
    /// Partition `index` of `U` split into `of` equal chunks; the last takes the remainder.
    Disjoint { index: usize, of: usize },
    /// Like `Disjoint`, each chunk widened by `floor(chunk*frac)` into its neighbours.
    Overlap { index: usize, of: usize, frac: f64 },
    /// A literal set of CPUs.
    Exact(CpuSet),
}

/// Why a `CpusetSpec` cannot be satisfied on a topology.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CpusetError {
    #[error("LLC index {index} is out of range: the topology has {llcs} LLC(s) (0..{llcs}); use a smaller index or a topology with more LLCs")]
    LlcOutOfRange { index: usize, llcs: usize },
    #[error("NUMA node {node} is out of range: the topology has {nodes} node(s); use a smaller node or a topology with more nodes")]
    NumaOutOfRange { node: usize, nodes: usize },
    #[error("partition count `of` is 0; split into at least one partition (e.g. CpusetSpec::disjoint(0, 2))")]
    ZeroPartitions,
    #[error("partition index {index} is not below `of` = {of}; valid indices are 0..{of}")]
    PartitionIndexOutOfRange { index: usize, of: usize },
    #[error(
        "{what} = {value} is not a fraction in [0, 1]; pass a finite value between 0.0 and 1.0"
    )]
    BadFraction { what: &'static str, value: f64 },
    #[error(
        "range start {start} is not below end {end}; the range would be empty, so swap or widen it"
    )]
    EmptyRange { start: f64, end: f64 },
    #[error("{of} partitions need at least {of} usable CPUs but the topology has {usable}; use fewer partitions or a bigger topology")]
    TooFewCpus { of: usize, usable: usize },
    #[error("Exact cpuset is empty; name at least one CPU (a cgroup without a cpuset needs no CpusetSpec)")]
    EmptyExact,
    #[error("Exact cpuset names CPUs {missing} that do not exist; the topology has CPUs {all}")]
    UnknownCpus { missing: CpuSet, all: CpuSet },
    #[error("the spec resolves to no CPUs on this topology; widen it")]
    ResolvesEmpty,
}

impl CpusetSpec {
    pub fn llc(index: usize) -> Self {
        CpusetSpec::Llc(index)
    }

    pub fn numa(node: usize) -> Self {
        CpusetSpec::Numa(node)
    }

    pub fn range(start_frac: f64, end_frac: f64) -> Self {
        CpusetSpec::Range {
            start_frac,
            end_frac,
        }
    }

    pub fn disjoint(index: usize, of: usize) -> Self {
        CpusetSpec::Disjoint { index, of }
    }

    pub fn overlap(index: usize, of: usize, frac: f64) -> Self {
        CpusetSpec::Overlap { index, of, frac }
    }

    pub fn exact(cpus: impl IntoIterator<Item = usize>) -> Self {
        CpusetSpec::Exact(cpus.into_iter().collect())
    }

    /// Checks the spec against the topology; `resolve` of a validated spec is never empty.
    pub fn validate(&self, topo: &TestTopology) -> Result<(), CpusetError> {
        match self {
            CpusetSpec::Llc(index) if *index >= topo.num_llcs() => {
                Err(CpusetError::LlcOutOfRange {
                    index: *index,
                    llcs: topo.num_llcs(),
                })
            }
            CpusetSpec::Numa(node) if topo.numa_node_cpus(*node).is_empty() => {
                Err(CpusetError::NumaOutOfRange {
                    node: *node,
                    nodes: topo.num_numa_nodes(),
                })
            }
            CpusetSpec::Range {
                start_frac,
                end_frac,
            } => {
                check_frac("start_frac", *start_frac)?;
                check_frac("end_frac", *end_frac)?;
                if start_frac >= end_frac {
                    return Err(CpusetError::EmptyRange {
                        start: *start_frac,
                        end: *end_frac,
                    });
                }
                non_empty(self.resolve(topo))
            }
            CpusetSpec::Disjoint { index, of } => check_partition(*index, *of, topo),
            CpusetSpec::Overlap { index, of, frac } => {
                check_frac("frac", *frac)?;
                check_partition(*index, *of, topo)
            }
            CpusetSpec::Exact(cpus) if cpus.is_empty() => Err(CpusetError::EmptyExact),
            CpusetSpec::Exact(cpus) => {
                let missing = cpus.difference(topo.all_cpus());
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(CpusetError::UnknownCpus {
                        missing,
                        all: topo.all_cpus().clone(),
                    })
                }
            }
            _ => Ok(()),
        }
    }

    /// The CPUs this spec names on `topo`. Never panics; an invalid spec clamps (call `validate` first).
    pub fn resolve(&self, topo: &TestTopology) -> CpuSet {
        let usable = topo.usable_cpus().to_vec();
        match self {
            CpusetSpec::Llc(index) => topo.llc(*index).map(|l| l.cpus.clone()).unwrap_or_default(),
            CpusetSpec::Numa(node) => topo.numa_node_cpus(*node),
            CpusetSpec::Range {
                start_frac,
                end_frac,
            } => {
                let len = usable.len() as f64;
                let lo = frac_index(len, *start_frac, usable.len());
                let hi = frac_index(len, *end_frac, usable.len());
                usable[lo..hi.max(lo)].iter().copied().collect()
            }
            CpusetSpec::Disjoint { index, of } => partition(&usable, *index, *of, 0.0),
            CpusetSpec::Overlap { index, of, frac } => partition(&usable, *index, *of, *frac),
            CpusetSpec::Exact(cpus) => cpus.clone(),
        }
    }
}

fn check_frac(what: &'static str, value: f64) -> Result<(), CpusetError> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(CpusetError::BadFraction { what, value })
    }
}

fn check_partition(index: usize, of: usize, topo: &TestTopology) -> Result<(), CpusetError> {
    if of == 0 {
        return Err(CpusetError::ZeroPartitions);
    }
    if index >= of {
        return Err(CpusetError::PartitionIndexOutOfRange { index, of });
    }
    let usable = topo.usable_cpus().len();
    if usable < of {
        return Err(CpusetError::TooFewCpus { of, usable });
    }
    Ok(())
}

fn non_empty(cpus: CpuSet) -> Result<(), CpusetError> {
    if cpus.is_empty() {
        Err(CpusetError::ResolvesEmpty)
    } else {
        Ok(())
    }
}

fn frac_index(len: f64, frac: f64, max: usize) -> usize {
    let frac = if frac.is_finite() {
        frac.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((len * frac).floor() as usize).min(max)
}

fn partition(usable: &[usize], index: usize, of: usize, frac: f64) -> CpuSet {
    if of == 0 || index >= of || usable.len() < of {
        return CpuSet::new();
    }
    let chunk = usable.len() / of;
    let widen = if frac.is_finite() {
        (chunk as f64 * frac.clamp(0.0, 1.0)).floor() as usize
    } else {
        0
    };
    let start = (index * chunk).saturating_sub(widen);
    let end = if index + 1 == of {
        usable.len()
    } else {
        ((index + 1) * chunk + widen).min(usable.len())
    };
    usable[start..end].iter().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::test_support::{cpus, topo};

    #[test]
    fn resolves_against_topology() {
        // 1n2l4c1t: CPUs 0-7, LLC0 = 0-3, LLC1 = 4-7, usable = 0-6.
        let t = topo("1n2l4c1t");
        let cases = [
            (CpusetSpec::llc(1), "4-7"),
            (CpusetSpec::numa(0), "0-7"),
            (CpusetSpec::range(0.0, 0.5), "0-2"),
            (CpusetSpec::range(0.5, 1.0), "3-6"),
            (CpusetSpec::disjoint(0, 2), "0-2"),
            (CpusetSpec::disjoint(1, 2), "3-6"),
            (CpusetSpec::overlap(0, 2, 0.5), "0-3"),
            (CpusetSpec::overlap(1, 2, 0.5), "2-6"),
            (CpusetSpec::exact([1, 3]), "1,3"),
        ];
        for (spec, want) in cases {
            spec.validate(&t).unwrap();
            assert_eq!(spec.resolve(&t), cpus(want), "{spec:?}");
        }
    }

    #[test]
    fn numa_spec_takes_the_node_llcs() {
        let t = topo("2n4l1c1t");
        assert_eq!(CpusetSpec::numa(1).resolve(&t), cpus("2-3"));
    }

    #[test]
    fn rejects_unsatisfiable_specs() {
        let t = topo("1n2l2c1t");
        let cases = [
            (
                CpusetSpec::llc(2),
                CpusetError::LlcOutOfRange { index: 2, llcs: 2 },
            ),
            (
                CpusetSpec::numa(1),
                CpusetError::NumaOutOfRange { node: 1, nodes: 1 },
            ),
            (CpusetSpec::disjoint(0, 0), CpusetError::ZeroPartitions),
            (
                CpusetSpec::disjoint(2, 2),
                CpusetError::PartitionIndexOutOfRange { index: 2, of: 2 },
            ),
            (
                CpusetSpec::disjoint(0, 4),
                CpusetError::TooFewCpus { of: 4, usable: 3 },
            ),
            (
                CpusetSpec::range(0.5, 0.5),
                CpusetError::EmptyRange {
                    start: 0.5,
                    end: 0.5,
                },
            ),
            (CpusetSpec::range(0.0, 0.1), CpusetError::ResolvesEmpty),
            (
                CpusetSpec::overlap(0, 2, 1.5),
                CpusetError::BadFraction {
                    what: "frac",
                    value: 1.5,
                },
            ),
            (CpusetSpec::exact([]), CpusetError::EmptyExact),
            (
                CpusetSpec::exact([1, 9]),
                CpusetError::UnknownCpus {
                    missing: cpus("9"),
                    all: cpus("0-3"),
                },
            ),
        ];
        for (spec, want) in cases {
            assert_eq!(spec.validate(&t), Err(want), "{spec:?}");
        }
    }

    #[test]
    fn nan_fraction_is_rejected_and_resolve_clamps() {
        let t = topo("1n1l4c1t");
        let spec = CpusetSpec::range(f64::NAN, 1.0);
        assert!(matches!(
            spec.validate(&t),
            Err(CpusetError::BadFraction {
                what: "start_frac",
                ..
            })
        ));
        assert_eq!(spec.resolve(&t), cpus("0-2"));
        assert!(CpusetSpec::disjoint(5, 2).resolve(&t).is_empty());
    }

    #[test]
    fn error_messages_name_the_fix() {
        let msg = CpusetError::ZeroPartitions.to_string();
        assert!(msg.contains("at least one partition"), "{msg}");
        let msg = CpusetError::LlcOutOfRange { index: 3, llcs: 2 }.to_string();
        assert!(msg.contains("use a smaller index"), "{msg}");
    }
}
