//! `TestTopology`: the CPUs, LLCs, cores and NUMA nodes a scenario runs on, and the queries scenarios ask.

use std::collections::BTreeMap;

use super::{CpuSet, Topology};

/// The kernel's distance from a NUMA node to itself.
pub(crate) const LOCAL_DISTANCE: u32 = 10;
/// The distance synthetic topologies give between two different nodes.
pub(crate) const REMOTE_DISTANCE: u32 = 20;

/// One last-level cache domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlcInfo {
    /// Position in [`TestTopology::llcs`]; LLCs are ordered by their lowest CPU.
    pub index: usize,
    pub cpus: CpuSet,
    /// The NUMA node of the LLC's lowest CPU.
    pub numa_node: usize,
    /// Cache size from sysfs; `None` for synthetic topologies and LLCs inferred from the package.
    pub cache_size_kb: Option<u64>,
    /// Core id → the CPUs of that core (its SMT siblings, itself included).
    pub cores: BTreeMap<usize, CpuSet>,
}

/// The topology a scenario sees: read from sysfs, or built from a requested [`Topology`].
///
/// ```
/// use ktstr::topology::{TestTopology, Topology};
/// let topo = TestTopology::from_topology(&"1n2l2c2t".parse::<Topology>()?);
/// assert_eq!(topo.llc(1).map(|llc| llc.cpus.to_string()), Some("4-7".into()));
/// assert_eq!(topo.smt_siblings(5).to_string(), "4-5");
/// # Ok::<(), ktstr::topology::TopologyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestTopology {
    all_cpus: CpuSet,
    llcs: Vec<LlcInfo>,
    nodes: BTreeMap<usize, CpuSet>,
    distances: BTreeMap<(usize, usize), u32>,
}

impl TestTopology {
    /// Assembles a topology from LLCs already ordered and indexed, node CPU sets, and node distances.
    pub(super) fn from_parts(
        llcs: Vec<LlcInfo>,
        nodes: BTreeMap<usize, CpuSet>,
        distances: BTreeMap<(usize, usize), u32>,
    ) -> TestTopology {
        let all_cpus = llcs.iter().flat_map(|llc| &llc.cpus).collect();
        TestTopology {
            all_cpus,
            llcs,
            nodes,
            distances,
        }
    }

    /// The topology QEMU gives a guest of this shape: CPUs numbered LLC by LLC, core by core, thread by thread,
    /// LLC `i` on node `i / llcs_per_node`, distances 10 local and 20 remote.
    pub fn from_topology(topo: &Topology) -> TestTopology {
        let llcs_per_node = topo.llcs_per_node() as usize;
        let llcs: Vec<LlcInfo> = (0..topo.llcs() as usize)
            .map(|llc| synthetic_llc(topo, llc, llc / llcs_per_node))
            .collect();
        let node_ids = 0..topo.numa_nodes() as usize;
        let mut nodes: BTreeMap<usize, CpuSet> =
            node_ids.clone().map(|n| (n, CpuSet::new())).collect();
        for llc in &llcs {
            nodes.entry(llc.numa_node).or_default().extend(&llc.cpus);
        }
        let distances = node_ids
            .clone()
            .flat_map(|a| {
                node_ids
                    .clone()
                    .map(move |b| ((a, b), synthetic_distance(a, b)))
            })
            .collect();
        TestTopology::from_parts(llcs, nodes, distances)
    }

    pub fn total_cpus(&self) -> usize {
        self.all_cpus.len()
    }

    pub fn all_cpus(&self) -> &CpuSet {
        &self.all_cpus
    }

    /// All CPUs minus the highest-numbered one when there are more than two; that CPU is left to the framework.
    pub fn usable_cpus(&self) -> CpuSet {
        let mut usable = self.all_cpus.clone();
        if let Some(last) = usable.last().filter(|_| usable.len() > 2) {
            usable.remove(last);
        }
        usable
    }

    pub fn num_llcs(&self) -> usize {
        self.llcs.len()
    }

    pub fn llcs(&self) -> &[LlcInfo] {
        &self.llcs
    }

    pub fn llc(&self, index: usize) -> Option<&LlcInfo> {
        self.llcs.get(index)
    }

    /// Index of the LLC holding `cpu`.
    pub fn llc_of_cpu(&self, cpu: usize) -> Option<usize> {
        self.llcs.iter().position(|llc| llc.cpus.contains(cpu))
    }

    /// NUMA nodes, memory-only ones included.
    pub fn num_numa_nodes(&self) -> usize {
        self.nodes.len()
    }

    pub fn numa_node_ids(&self) -> Vec<usize> {
        self.nodes.keys().copied().collect()
    }

    /// CPUs of `node`; empty for a memory-only or unknown node.
    pub fn numa_node_cpus(&self, node: usize) -> CpuSet {
        self.nodes.get(&node).cloned().unwrap_or_default()
    }

    /// Nodes holding at least one CPU of `cpus`, ascending.
    pub fn numa_nodes_for_cpuset(&self, cpus: &CpuSet) -> Vec<usize> {
        self.nodes
            .iter()
            .filter(|(_, node_cpus)| !node_cpus.is_disjoint(cpus))
            .map(|(node, _)| *node)
            .collect()
    }

    /// Distance from node `a` to node `b` as the kernel reports it (10 = local).
    pub fn numa_distance(&self, a: usize, b: usize) -> Option<u32> {
        self.distances.get(&(a, b)).copied()
    }

    /// The CPUs of `cpu`'s core, `cpu` included; empty for an unknown CPU.
    pub fn smt_siblings(&self, cpu: usize) -> CpuSet {
        self.llc_of_cpu(cpu)
            .and_then(|llc| {
                self.llcs[llc]
                    .cores
                    .values()
                    .find(|core| core.contains(cpu))
            })
            .cloned()
            .unwrap_or_default()
    }

    /// Every physical core's CPUs, ordered by the core's lowest CPU.
    pub fn cores(&self) -> Vec<CpuSet> {
        let mut cores: Vec<CpuSet> = self
            .llcs
            .iter()
            .flat_map(|llc| llc.cores.values().cloned())
            .collect();
        cores.sort_by_key(CpuSet::first);
        cores
    }
}

fn synthetic_distance(a: usize, b: usize) -> u32 {
    if a == b {
        LOCAL_DISTANCE
    } else {
        REMOTE_DISTANCE
    }
}

/// LLC `llc` of `topo` with QEMU's numbering: cpu = ((llc * cores_per_llc) + core) * threads + thread.
fn synthetic_llc(topo: &Topology, llc: usize, numa_node: usize) -> LlcInfo {
    let cores_per_llc = topo.cores_per_llc() as usize;
    let threads = topo.threads_per_core() as usize;
    let cores: BTreeMap<usize, CpuSet> = (0..cores_per_llc)
        .map(|core| {
            let first = (llc * cores_per_llc + core) * threads;
            (core, CpuSet::from_range(first..first + threads))
        })
        .collect();
    LlcInfo {
        index: llc,
        cpus: cores.values().flatten().collect(),
        numa_node,
        cache_size_kb: None,
        cores,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synthetic(text: &str) -> TestTopology {
        TestTopology::from_topology(&text.parse().expect("valid topology"))
    }

    fn set(text: &str) -> CpuSet {
        CpuSet::parse(text).expect("valid cpu list")
    }

    #[test]
    fn llc_and_node_layouts() {
        let cases = [
            ("1n2l4c1t", &["0-3", "4-7"][..], &["0-7"][..], "0-6"),
            ("2n4l1c1t", &["0", "1", "2", "3"], &["0-1", "2-3"], "0-2"),
            ("1n2l2c2t", &["0-3", "4-7"], &["0-7"], "0-6"),
            ("1n1l2c1t", &["0-1"], &["0-1"], "0-1"),
            ("1n1l1c1t", &["0"], &["0"], "0"),
            ("1n1l3c1t", &["0-2"], &["0-2"], "0-1"),
        ];
        for (text, llcs, nodes, usable) in cases {
            let topo = synthetic(text);
            let got_llcs: Vec<String> =
                topo.llcs().iter().map(|llc| llc.cpus.to_string()).collect();
            assert_eq!(got_llcs, llcs, "{text} LLCs");
            let got_nodes: Vec<String> = topo
                .numa_node_ids()
                .into_iter()
                .map(|n| topo.numa_node_cpus(n).to_string())
                .collect();
            assert_eq!(got_nodes, nodes, "{text} nodes");
            assert_eq!(topo.usable_cpus(), set(usable), "{text} usable");
            assert_eq!(topo.total_cpus(), topo.all_cpus().len());
        }
    }

    #[test]
    fn smt_siblings_follow_qemu_numbering() {
        let topo = synthetic("1n2l2c2t");
        let cases = [
            (0, "0-1"),
            (1, "0-1"),
            (2, "2-3"),
            (5, "4-5"),
            (7, "6-7"),
            (8, ""),
        ];
        for (cpu, want) in cases {
            assert_eq!(topo.smt_siblings(cpu), set(want), "cpu {cpu}");
        }
        let cores: Vec<String> = topo.cores().iter().map(ToString::to_string).collect();
        assert_eq!(cores, ["0-1", "2-3", "4-5", "6-7"]);
        let no_smt = synthetic("1n2l4c1t");
        assert_eq!(no_smt.smt_siblings(6), set("6"));
        assert_eq!(no_smt.cores().len(), 8);
    }

    #[test]
    fn llc_of_cpu_and_llc_lookup() {
        let topo = synthetic("1n2l4c1t");
        let cases = [
            (0, Some(0)),
            (3, Some(0)),
            (4, Some(1)),
            (7, Some(1)),
            (8, None),
        ];
        for (cpu, want) in cases {
            assert_eq!(topo.llc_of_cpu(cpu), want, "cpu {cpu}");
        }
        assert_eq!(topo.num_llcs(), 2);
        assert_eq!(topo.llc(1).map(|llc| llc.index), Some(1));
        assert!(topo.llc(2).is_none());
        let core_ids: Vec<usize> = topo.llcs()[1].cores.keys().copied().collect();
        assert_eq!(core_ids, [0, 1, 2, 3]);
    }

    #[test]
    fn numa_queries_on_two_nodes() {
        let topo = synthetic("2n4l1c1t");
        assert_eq!(topo.num_numa_nodes(), 2);
        let llc_nodes: Vec<usize> = topo.llcs().iter().map(|llc| llc.numa_node).collect();
        assert_eq!(llc_nodes, [0, 0, 1, 1]);
        let cases = [
            ("0", vec![0]),
            ("1-2", vec![0, 1]),
            ("3", vec![1]),
            ("", vec![]),
            ("9", vec![]),
        ];
        for (cpus, want) in cases {
            assert_eq!(topo.numa_nodes_for_cpuset(&set(cpus)), want, "cpus {cpus}");
        }
        assert_eq!(topo.numa_distance(0, 0), Some(10));
        assert_eq!(topo.numa_distance(0, 1), Some(20));
        assert_eq!(topo.numa_distance(1, 0), Some(20));
        assert_eq!(topo.numa_distance(0, 2), None);
        assert!(topo.numa_node_cpus(2).is_empty());
    }
}
