//! A scheduler declaration that cannot be run.

/// A scheduler declaration that cannot be run, named with its fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchedulerError {
    #[error("scheduler name is empty; name it after its binary, like scx_simple")]
    EmptyName,

    #[error(
        "scheduler name {name:?} contains {bad:?}; it becomes a file name in the guest, \
         so use only letters, digits, '_', '-' and '.', and do not start with '.' or '-'"
    )]
    BadName { name: String, bad: char },

    #[error(
        "{name:?} is not a scheduler of the kernel tree; use one of {known}, \
         or Scheduler::binary(name, path) for any other binary"
    )]
    UnknownInTree { name: String, known: String },

    #[error("scheduler {name:?} has an empty binary path; pass the path of the scheduler binary on the host")]
    EmptyPath { name: String },

    #[error(
        "argument {index} of scheduler {name:?} ({arg:?}) contains a NUL byte, which no argv can carry; \
         remove it"
    )]
    ArgWithNul {
        name: String,
        index: usize,
        arg: String,
    },

    #[error("{spec:?} names no version after '@'; write NAME@VERSION (like scx_rusty@1.1.4) or just NAME for the newest installed")]
    EmptyVersion { spec: String },

    #[error("{path} is not a file; give the path of a scheduler binary")]
    NoSuchFile { path: String },

    #[error("{path} cannot be a scheduler: {why}; give the path of a built scheduler binary")]
    NotExecutable { path: String, why: String },

    #[error("the booted kernel has no build of the in-tree scheduler {name}; boot a kernel from `ktstr kernel build`, which builds them, or give the binary's path")]
    InTreeNotBuilt { name: String },

    #[error("scheduler {spec} is not installed; run `ktstr scheduler install {spec}` (`ktstr scheduler list` shows what is)")]
    NotInstalled { spec: String },

    #[error("scheduler {name:?} is not in-tree, not installed, not built in a cargo target directory ({target_dirs}) and not on PATH; run `ktstr scheduler install {name}` for a published one, `cargo build` yours, or give its path")]
    NotFound { name: String, target_dirs: String },

    #[error("reading the scheduler store: {detail}")]
    Store { detail: String },

    #[error(
        "EEVDF is the kernel's own scheduler and runs no binary, so it takes no arguments; \
         drop .args(...) or name a sched_ext scheduler"
    )]
    ArgsForEevdf,

    #[error("scheduler {scheduler}: profile {profile:?}: {why}")]
    BadProfile {
        scheduler: String,
        profile: String,
        why: String,
    },

    #[error(
        "scheduler {scheduler} cannot run on this topology: {why}; pick a topology its constraints allow"
    )]
    TopologyOutsideConstraints { scheduler: String, why: String },
}
