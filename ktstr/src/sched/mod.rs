//! The scheduler under test as the host declares it: `Scheduler` with its `const` builder, flags and
//! profiles, the catalogue of known schedulers (`schedulers`), the names a user types, finding the binary
//! on the host (the install store, cargo target directories, `PATH`), installing published schedulers, and
//! diagnosing why one failed to load. The process in the guest is `crate::scx`.

mod args;
mod builder;
mod by_name;
mod declare;
mod diagnose;
mod elf;
mod error;
mod install;
mod locate;
mod name;
mod scheduler;
pub mod schedulers;
mod store;
mod verifier_log;

pub use declare::{FlagDecl, Profile, Sysctl, TopologyConstraints, MAX_FLAGS};
pub use diagnose::{diagnose_load_failure, strip_ansi, LoadCause, LoadDiagnosis};
pub use error::SchedulerError;
pub use install::{install_scheduler, InstallError, InstallOutcome, InstallSpec, LLVM_DIR};
pub use locate::{
    cargo_target_dirs, find_in_path, find_in_target_dirs, BinarySource, LocatedBinary,
};
pub use scheduler::{Scheduler, IN_TREE_SCHEDULERS};
pub use store::{InstalledMetadata, InstalledScheduler, SchedulerStore};
