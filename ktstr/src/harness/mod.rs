//! Test declarations and the host side of a trial: `VmTest`, prepare → boot and listen → classify,
//! verdicts, and the test binary's `main`.

mod host_only;
mod main;
mod outcome;
mod runner;
mod verdict;
mod vm_test;

pub use host_only::{run_host_test, HostOutcome};
pub use main::{main, registered_tests, run_guest};
pub use runner::{run_vm_test, HarnessError, TrialOutcome};
pub use verdict::{render, runs_dir, write_record};
pub use vm_test::{OutcomeKind, TestFn, VmTest};
