//! `CliError`: every way a `ktstr` command can fail; `exit_codes::for_error` maps each to its exit code.

use ktstr::harness::HarnessError;
use ktstr::host::HostError;
use ktstr::kernel::KernelError;
use ktstr::scenario::catalog::UnknownScenario;
use ktstr::sched::{InstallError, SchedulerError};
use ktstr::topology::TopologyError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Kernel(#[from] KernelError),
    #[error(transparent)]
    Harness(#[from] HarnessError),
    #[error(transparent)]
    Vm(#[from] ktstr::vm::VmError),
    #[error(transparent)]
    Scheduler(#[from] SchedulerError),
    #[error(transparent)]
    Install(#[from] InstallError),
    #[error(transparent)]
    Host(#[from] HostError),
    #[error(transparent)]
    UnknownScenario(#[from] UnknownScenario),
    #[error("reading this host's CPU topology: {0}")]
    HostTopology(#[source] TopologyError),
    #[error("{0}")]
    BadEnvironment(String),
    #[error("{0}")]
    Stats(String),
    #[error("the runs cannot be compared: {0}")]
    Incomparable(String),
    /// `stats compare` found a regression (the table above says which).
    #[error("a regression passed both gates")]
    Regression,
    #[error("ktstr declares no scheduler {name:?}; it declares {known}")]
    UnknownDeclared { name: String, known: String },
    /// Some scenarios' verdicts were failures (their reports are printed above).
    #[error("{0} scenario(s) failed")]
    ScenariosFailed(usize),
}
