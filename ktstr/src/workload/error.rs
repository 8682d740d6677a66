//! `WorkloadError`: invalid workload configurations and failures to set workers up.

use std::io;

/// A workload problem, named with its fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkloadError {
    #[error(
        "num_workers is 0: a group with zero workers would make every check pass vacuously; \
         set num_workers to at least 1, or use Op::add_cgroup to create a cgroup without workers"
    )]
    ZeroWorkers,

    #[error(
        "num_workers is {num_workers}, over the limit of {max} per worker group: each worker is a \
         process holding its own report pipe, and more than this exhausts the open-file limit and \
         the guest's memory; split the load over several groups or cgroups"
    )]
    TooManyWorkers { num_workers: usize, max: usize },

    #[error(
        "{work_type} runs in groups of {group} workers but num_workers is {num_workers}; \
         use a multiple of {group}"
    )]
    GroupSize {
        work_type: &'static str,
        group: usize,
        num_workers: usize,
    },

    #[error(
        "{policy} priority {priority} is outside 1..=99; use a real-time priority from 1 to 99"
    )]
    RtPriority { policy: &'static str, priority: u8 },

    #[error("nice {nice} is outside -20..=19; use a nice value from -20 to 19")]
    Nice { nice: i32 },

    #[error("{work_type} has {param} = 0, which does no work; set {param} to at least 1")]
    ZeroParameter {
        work_type: &'static str,
        param: &'static str,
    },

    #[error(
        "MutexContention has {contenders} contender(s); a lock needs at least 2 workers to contend, \
         so set contenders to 2 or more"
    )]
    TooFewContenders { contenders: usize },

    #[error(
        "{work_type} stride {stride} is larger than its {size_kb} KiB buffer; \
         use a stride of at most {size_kb} * 1024 bytes"
    )]
    StrideTooLarge {
        work_type: &'static str,
        stride: usize,
        size_kb: usize,
    },

    #[error("Sequence phase {index} lasts 0 s; give every phase a nonzero Duration")]
    ZeroPhase { index: usize },

    #[error("AffinityMode::{mode} has an empty CPU set; list at least one CPU or use AffinityMode::None")]
    EmptyAffinity { mode: &'static str },

    #[error(
        "AffinityMode::Random picks {count} CPUs from a pool of {pool}; \
         set count between 1 and {pool}, or widen `from`"
    )]
    RandomCount { count: usize, pool: usize },

    #[error("creating {what} for workers failed: {source}; check the open-file and memory limits (ulimit -n, -l)")]
    Resource {
        what: &'static str,
        #[source]
        source: io::Error,
    },

    #[error("forking worker {index} failed: {source}; check the process limits (ulimit -u, the pids cgroup)")]
    Fork {
        index: usize,
        #[source]
        source: io::Error,
    },

    #[error("no worker {index}: this handle has {len} workers; use an index below {len}")]
    NoSuchWorker { index: usize, len: usize },

    #[error(
        "setting the affinity of worker {index} (pid {pid}) to CPUs {cpus} failed: {source}; \
         use online CPUs inside the worker's cgroup cpuset"
    )]
    SetAffinity {
        index: usize,
        pid: i32,
        cpus: String,
        #[source]
        source: io::Error,
    },
}

impl WorkloadError {
    /// Maps a failure to create `what` into `Resource`.
    pub(crate) fn resource(what: &'static str) -> impl FnOnce(io::Error) -> WorkloadError {
        move |source| WorkloadError::Resource { what, source }
    }
}
