//! CPU topology: the requested VM shape (`Topology`), what a scenario sees (`TestTopology`), and cpu lists.

mod cpuset;
mod error;

pub use cpuset::CpuSet;
pub use error::TopologyError;
