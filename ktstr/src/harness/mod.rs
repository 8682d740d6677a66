//! Test declarations and one trial on the host: `VmTest`, a VM trial (prepare → boot and listen →
//! classify → the outcome), and a `host_only` test run on this host.

mod classify;
mod host_only;
mod shell;
mod trial;
mod vm_test;

pub use host_only::{run_host_test, HostOutcome};
pub use shell::{run_shell, ShellRequest};
pub use trial::{preflight, run_vm_test, HarnessError};
pub use vm_test::{Standing, VmTest};
