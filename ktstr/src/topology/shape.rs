//! `TestTopology::shape`: the uniform `Topology` a discovered topology matches, so a guest can check its VM.

use std::collections::BTreeMap;

use super::{TestTopology, Topology, TopologyError};

impl TestTopology {
    /// The uniform `Topology` this describes; an error names the first thing that is not uniform.
    pub fn shape(&self) -> Result<Topology, TopologyError> {
        let mut llcs_per_node: BTreeMap<usize, usize> =
            self.numa_node_ids().into_iter().map(|n| (n, 0)).collect();
        for llc in self.llcs() {
            let node_cpus = self.numa_node_cpus(llc.numa_node);
            if !llc.cpus.is_subset(&node_cpus) {
                return Err(non_uniform(format!(
                    "LLC {} (CPUs {}) spans NUMA nodes {:?}",
                    llc.index,
                    llc.cpus,
                    self.numa_nodes_for_cpuset(&llc.cpus)
                )));
            }
            *llcs_per_node.entry(llc.numa_node).or_default() += 1;
        }
        same_everywhere(
            llcs_per_node
                .iter()
                .map(|(n, count)| (format!("NUMA node {n}"), *count)),
            "LLCs",
        )?;
        let cores = self
            .llcs()
            .iter()
            .map(|llc| (format!("LLC {}", llc.index), llc.cores.len()));
        let cores_per_llc = same_everywhere(cores, "cores")?;
        let threads = self
            .cores()
            .into_iter()
            .map(|core| (format!("the core of CPUs {core}"), core.len()));
        let threads_per_core = same_everywhere(threads, "threads")?;
        Topology::new(
            to_u32(self.num_numa_nodes(), "NUMA nodes")?,
            to_u32(self.num_llcs(), "LLCs")?,
            to_u32(cores_per_llc, "cores per LLC")?,
            to_u32(threads_per_core, "threads per core")?,
        )
    }
}

/// The one count every `(owner, count)` pair shares (0 when there are none), or which owners differ.
fn same_everywhere(
    mut counts: impl Iterator<Item = (String, usize)>,
    what: &str,
) -> Result<usize, TopologyError> {
    let Some((first_owner, first)) = counts.next() else {
        return Ok(0);
    };
    match counts.find(|(_, count)| *count != first) {
        None => Ok(first),
        Some((owner, count)) => Err(non_uniform(format!(
            "{first_owner} has {first} {what} but {owner} has {count}"
        ))),
    }
}

fn to_u32(count: usize, dimension: &'static str) -> Result<u32, TopologyError> {
    u32::try_from(count)
        .map_err(|_| non_uniform(format!("{count} {dimension} do not fit a Topology")))
}

fn non_uniform(detail: String) -> TopologyError {
    TopologyError::NonUniform { detail }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{CpuSet, LlcInfo};

    #[test]
    fn synthetic_topologies_round_trip() {
        for text in [
            "1n1l2c1t", "1n2l4c1t", "2n4l1c1t", "1n2l2c2t", "4n8l4c1t", "2n8l8c2t", "1n3l3c1t",
        ] {
            let topo: Topology = text.parse().expect("valid");
            let shape = TestTopology::from_topology(&topo).shape();
            assert_eq!(shape.expect("uniform").to_string(), text);
        }
    }

    /// A topology from `(node, cores)` per LLC, each core given as a cpu list; `extra_nodes` have no CPUs.
    fn build(llcs: &[(usize, &[&str])], extra_nodes: &[usize]) -> TestTopology {
        let llcs: Vec<LlcInfo> = llcs
            .iter()
            .enumerate()
            .map(|(index, (numa_node, cores))| {
                let cores: BTreeMap<usize, CpuSet> = cores
                    .iter()
                    .map(|c| CpuSet::parse(c).expect("cpu list"))
                    .enumerate()
                    .collect();
                let cpus = cores.values().flatten().collect();
                LlcInfo {
                    index,
                    cpus,
                    numa_node: *numa_node,
                    cache_size_kb: None,
                    cores,
                }
            })
            .collect();
        let mut nodes: BTreeMap<usize, CpuSet> =
            extra_nodes.iter().map(|&n| (n, CpuSet::new())).collect();
        for llc in &llcs {
            nodes.entry(llc.numa_node).or_default().extend(&llc.cpus);
        }
        TestTopology::from_parts(llcs, nodes, BTreeMap::new())
    }

    #[test]
    fn hand_built_uniform_topology_has_a_shape() {
        let topo = build(&[(0, &["0-1", "2-3"]), (1, &["4-5", "6-7"])], &[]);
        assert_eq!(topo.shape().expect("uniform").to_string(), "2n2l2c2t");
    }

    #[test]
    fn non_uniform_topologies_name_the_difference() {
        let cases: &[(&str, TestTopology)] = &[
            ("uneven cores", build(&[(0, &["0", "1"]), (0, &["2"])], &[])),
            ("uneven threads", build(&[(0, &["0-1", "2"])], &[])),
            (
                "uneven LLCs per node",
                build(&[(0, &["0"]), (0, &["1"]), (1, &["2"])], &[]),
            ),
            ("memory-only node", build(&[(0, &["0"])], &[1])),
        ];
        for (name, topo) in cases {
            let err = topo.shape().expect_err(name);
            assert!(
                matches!(err, TopologyError::NonUniform { .. }),
                "{name}: {err:?}"
            );
        }
    }

    #[test]
    fn llc_spanning_nodes_is_not_uniform() {
        let mut topo = build(&[(0, &["0", "1"]), (1, &["2", "3"])], &[]);
        let mut nodes = BTreeMap::new();
        nodes.insert(0, CpuSet::parse("0-2").expect("cpu list"));
        nodes.insert(1, CpuSet::parse("3").expect("cpu list"));
        topo = TestTopology::from_parts(topo.llcs().to_vec(), nodes, BTreeMap::new());
        let err = topo.shape().expect_err("LLC 1 spans nodes");
        let TopologyError::NonUniform { detail } = err else {
            panic!("{err:?}")
        };
        assert!(detail.contains("spans NUMA nodes [0, 1]"), "{detail}");
    }

    #[test]
    fn empty_topology_has_no_shape() {
        let empty = TestTopology::from_parts(Vec::new(), BTreeMap::new(), BTreeMap::new());
        assert!(matches!(
            empty.shape(),
            Err(TopologyError::ZeroDimension { .. })
        ));
    }
}
