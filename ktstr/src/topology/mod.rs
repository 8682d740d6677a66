//! CPU topology: the requested VM shape (`Topology`), what a scenario sees (`TestTopology`), and cpu lists.
//!
//! The model follows the kernel's, written `1n2l2c2t` (nodes, LLCs over all nodes, cores per LLC, threads per core):
//!
//! ```text
//! node 0                      NUMA node: memory plus the LLCs attached to it
//! ├── LLC 0                   last-level cache domain (one socket per LLC in the VM)
//! │   ├── core 0: cpu 0, 1    physical core; its CPUs are SMT siblings
//! │   └── core 1: cpu 2, 3
//! └── LLC 1
//!     ├── core 0: cpu 4, 5
//!     └── core 1: cpu 6, 7
//! ```
//!
//! Synthetic topologies number CPUs as QEMU does: cpu = ((llc * cores_per_llc) + core) * threads + thread.

mod cpuset;
mod error;
#[cfg(test)]
mod fake_sysfs;
mod llc_groups;
pub mod presets;
mod shape;
mod spec;
mod sysfs;
mod test_topology;

pub use cpuset::{format_cpu_list, parse_cpu_list, CpuSet};
pub use error::TopologyError;
pub use spec::Topology;
pub use test_topology::{LlcInfo, TestTopology};

/// Shorthands for unit tests: a synthetic topology from its shape, a CPU set from its list.
#[cfg(test)]
pub(crate) mod test_support {
    use super::{CpuSet, TestTopology, Topology};

    pub(crate) fn topo(spec: &str) -> TestTopology {
        TestTopology::from_topology(&spec.parse::<Topology>().unwrap())
    }

    pub(crate) fn cpus(text: &str) -> CpuSet {
        CpuSet::parse(text).unwrap()
    }
}
