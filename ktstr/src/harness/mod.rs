//! Test declarations and the harness: `VmTest`, the host runner, outcome classification, verdicts, `main`.

mod main;
mod outcome;
mod runner;
mod trial;
mod verdict;
mod vm_test;

pub use main::main;
pub use runner::{run_vm_test, HarnessError, TrialOutcome};
pub use trial::{GuestReport, TrialSpec};
pub use verdict::{render, runs_dir, write_record};
pub use vm_test::{OutcomeKind, TestFn, VmTest};
