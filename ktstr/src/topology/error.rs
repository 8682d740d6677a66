//! Errors from topology parsing, validation and discovery.

use std::path::PathBuf;

/// A topology or cpu-list problem, named with its fix.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    #[error("bad cpu list {text:?}: {part:?} is not a CPU number or a low-high range; write it like 0-3,5,7-9")]
    BadCpuList { text: String, part: String },

    #[error(
        "bad cpu list {text:?}: range {part:?} runs backwards; write the lower CPU first, like 1-3"
    )]
    ReversedCpuRange { text: String, part: String },

    #[error("bad cpu list {text:?}: CPU {cpu} is above the highest supported CPU {max}; use CPU ids up to {max}")]
    CpuOutOfRange {
        text: String,
        cpu: String,
        max: usize,
    },

    #[error("bad topology {text:?}: {reason}; write it as <nodes>n<llcs>l<cores>c<threads>t, like 1n2l4c1t")]
    BadTopologyText { text: String, reason: String },

    #[error("topology has 0 {dimension}; every dimension needs at least 1, like 1n1l2c1t")]
    ZeroDimension { dimension: &'static str },

    #[error(
        "{llcs} LLCs cannot be split evenly over {numa_nodes} NUMA nodes; \
         use a multiple of {numa_nodes} LLCs (such as {suggested_llcs}) or fewer nodes"
    )]
    LlcsNotMultipleOfNodes {
        numa_nodes: u32,
        llcs: u32,
        suggested_llcs: u32,
    },

    #[error("topology has {numa_nodes} NUMA nodes but QEMU supports at most {max}; use {max} nodes or fewer")]
    TooManyNumaNodes { numa_nodes: u32, max: u32 },

    #[error("topology {text} has more than {max} CPUs; use fewer LLCs, cores per LLC or threads per core")]
    TooManyCpus { text: String, max: usize },

    #[error("cannot read {path}: {source}; check that sysfs is mounted there (mount -t sysfs sysfs /sys)")]
    SysfsRead {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path} holds {text:?} but ktstr expects {expected}; this kernel's sysfs layout is not supported")]
    SysfsParse {
        path: PathBuf,
        text: String,
        expected: String,
    },

    #[error("sysfs disagrees with itself: {detail}; check for CPU hotplug while the topology was read and retry")]
    SysfsInconsistent { detail: String },

    #[error("the topology is not uniform: {detail}; a <n>n<l>l<c>c<t>t shape cannot describe it, inspect llcs() instead")]
    NonUniform { detail: String },
}
