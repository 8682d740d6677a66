//! Test declarations and the host side of a trial: `VmTest`, prepare → boot and listen → classify,
//! verdicts, and the test binary's `main`.

pub mod budget;
pub mod gauntlet;
mod host_only;
mod main;
mod outcome;
mod parallel;
mod progress;
mod runner;
mod verdict;
mod vm_test;

pub use host_only::{run_host_test, HostOutcome};
pub use main::{main, registered_tests, run_guest};
pub use parallel::{default_jobs, run_parallel};
pub use progress::{Progress, Row};
pub use runner::{run_vm_test, HarnessError, TrialOutcome};
pub use verdict::{render, runs_dir, write_record};
pub use vm_test::{OutcomeKind, Standing, TestFn, VmTest};
