//! The `ktstr` command's exit codes, one per error class.

use ktstr::harness::HarnessError;
use ktstr::host::HostError;
use ktstr::kernel::{ErrorKind, KernelError};
use ktstr::scenario::catalog::UnknownScenario;

use ktstr::sched::{InstallError, SchedulerError};
use ktstr::vm::VmError;

use crate::run_cmd::ScenariosFailed;

/// Success.
pub const OK: i32 = 0;
/// A build step ran and failed (the log's tail and path are printed).
pub const BUILD_FAILED: i32 = 1;
/// Bad usage or input: a wrong path, a corrupt tarball, a bad `KTSTR_KERNEL` (clap's usage errors also exit 2).
pub const BAD_INPUT: i32 = 2;
/// A tool or package the build needs is missing.
pub const MISSING_PREREQUISITE: i32 = 3;
/// No usable kernel is cached.
pub const NO_KERNEL: i32 = 4;
/// The file system or the cache got in the way.
pub const ENVIRONMENT: i32 = 5;
/// `ktstr run`: at least one scenario's verdict was a failure.
pub const SCENARIO_FAILED: i32 = 6;

/// The exit code for an error that reached `main`.
pub fn for_error(error: &anyhow::Error) -> i32 {
    if error.is::<ScenariosFailed>() {
        return SCENARIO_FAILED;
    }
    if error.is::<UnknownScenario>() {
        return BAD_INPUT;
    }
    let scheduler = match error.downcast_ref::<HarnessError>() {
        Some(HarnessError::Scheduler(e)) => Some(e),
        _ => error.downcast_ref::<SchedulerError>(),
    };
    match scheduler {
        Some(SchedulerError::Store { .. }) => return ENVIRONMENT,
        Some(_) => return BAD_INPUT,
        None => {}
    }
    if let Some(install) = error.downcast_ref::<InstallError>() {
        return match install {
            InstallError::BadSpec { .. } => BAD_INPUT,
            InstallError::Prerequisite { .. } => MISSING_PREREQUISITE,
            InstallError::BuildFailed { .. } | InstallError::NoBinary { .. } => BUILD_FAILED,
            _ => ENVIRONMENT,
        };
    }
    if let Some(HostError::NoCpuset { .. }) = error.downcast_ref::<HostError>() {
        return MISSING_PREREQUISITE;
    }
    if let Some(HarnessError::Vm(VmError::TooManyVcpus { .. })) =
        error.downcast_ref::<HarnessError>()
    {
        return BAD_INPUT;
    }
    let kernel = match error.downcast_ref::<HarnessError>() {
        Some(HarnessError::Kernel(kernel)) => Some(kernel),
        _ => error.downcast_ref::<KernelError>(),
    };
    match kernel.map(KernelError::kind) {
        Some(ErrorKind::BuildFailed) => BUILD_FAILED,
        Some(ErrorKind::BadInput) => BAD_INPUT,
        Some(ErrorKind::MissingPrerequisite) => MISSING_PREREQUISITE,
        Some(ErrorKind::NoKernel) => NO_KERNEL,
        Some(ErrorKind::Environment) | None => ENVIRONMENT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_class_has_its_own_code() {
        let cases = [
            (
                KernelError::ToolMissing {
                    tool: "clang-19",
                    package: "clang-19",
                },
                MISSING_PREREQUISITE,
            ),
            (KernelError::TarballMissing { path: "/x".into() }, BAD_INPUT),
            (
                KernelError::MissingOptions {
                    missing: vec!["CONFIG_X".into()],
                },
                BUILD_FAILED,
            ),
            (
                KernelError::NoKernel {
                    cache: "/c".into(),
                    flavor: Default::default(),
                },
                NO_KERNEL,
            ),
            (KernelError::NoCacheDir, ENVIRONMENT),
        ];
        for (error, code) in cases {
            assert_eq!(for_error(&anyhow::Error::new(error)), code);
        }
        assert_eq!(for_error(&anyhow::anyhow!("other")), ENVIRONMENT);
        assert_eq!(
            for_error(&anyhow::Error::new(ScenariosFailed(1))),
            SCENARIO_FAILED
        );
        let unknown = ktstr::scenario::catalog::find("nosuch")
            .err()
            .map(anyhow::Error::new);
        assert_eq!(unknown.as_ref().map(for_error), Some(BAD_INPUT));
    }
}
