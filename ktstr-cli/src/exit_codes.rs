//! The `ktstr` command's exit codes, one per error class.

use ktstr::harness::HarnessError;
use ktstr::host::HostError;
use ktstr::kernel::{ErrorKind, KernelError};
use ktstr::sched::{InstallError, SchedulerError};
use ktstr::vm::VmError;

use crate::error::CliError;

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
/// `ktstr stats compare` found a regression past both gates.
pub const REGRESSION: i32 = 7;

/// The exit code of an error that reached `main`: one exhaustive match per error type, no guessing.
pub fn for_error(error: &CliError) -> i32 {
    match error {
        CliError::Kernel(e) => kernel(e),
        CliError::Harness(e) => harness(e),
        CliError::Vm(e) => vm(e),
        CliError::Scheduler(e) => scheduler(e),
        CliError::Install(e) => install(e),
        CliError::Host(HostError::NoCpuset { .. }) => MISSING_PREREQUISITE,
        CliError::Host(HostError::Topology(_) | HostError::Cgroup(_)) => ENVIRONMENT,
        CliError::UnknownScenario(_) => BAD_INPUT,
        CliError::HostTopology(_) => ENVIRONMENT,
        CliError::ScenariosFailed(_) => SCENARIO_FAILED,
        CliError::UnknownDeclared { .. }
        | CliError::BadEnvironment(_)
        | CliError::Stats(_)
        | CliError::Incomparable(_) => BAD_INPUT,
        CliError::Regression => REGRESSION,
    }
}

fn kernel(error: &KernelError) -> i32 {
    match error.kind() {
        ErrorKind::BuildFailed => BUILD_FAILED,
        ErrorKind::BadInput => BAD_INPUT,
        ErrorKind::MissingPrerequisite => MISSING_PREREQUISITE,
        ErrorKind::NoKernel => NO_KERNEL,
        ErrorKind::Environment => ENVIRONMENT,
    }
}

fn harness(error: &HarnessError) -> i32 {
    match error {
        HarnessError::Kernel(e) => kernel(e),
        HarnessError::Vm(e) => vm(e),
        HarnessError::Scheduler(e) => scheduler(e),
        HarnessError::BadTest { .. } | HarnessError::ShellInclude { .. } => BAD_INPUT,
        HarnessError::ShellEnded(_) => ENVIRONMENT,
        HarnessError::CurrentExe(_) => ENVIRONMENT,
    }
}

fn scheduler(error: &SchedulerError) -> i32 {
    match error {
        SchedulerError::Store { .. } => ENVIRONMENT,
        SchedulerError::InTreeNotBuilt { .. } => NO_KERNEL,
        SchedulerError::EmptyName
        | SchedulerError::BadName { .. }
        | SchedulerError::UnknownInTree { .. }
        | SchedulerError::EmptyPath { .. }
        | SchedulerError::ArgWithNul { .. }
        | SchedulerError::EmptyVersion { .. }
        | SchedulerError::NoSuchFile { .. }
        | SchedulerError::NotExecutable { .. }
        | SchedulerError::NotInstalled { .. }
        | SchedulerError::NotFound { .. }
        | SchedulerError::ArgsForEevdf
        | SchedulerError::BadProfile { .. }
        | SchedulerError::TopologyOutsideConstraints { .. } => BAD_INPUT,
    }
}

fn install(error: &InstallError) -> i32 {
    match error {
        InstallError::BadSpec { .. } => BAD_INPUT,
        InstallError::Prerequisite { .. } => MISSING_PREREQUISITE,
        InstallError::BuildFailed { .. } | InstallError::NoBinary { .. } => BUILD_FAILED,
        InstallError::Io { .. } => ENVIRONMENT,
        InstallError::Cache(e) => kernel(e),
    }
}

/// A VM request this host cannot serve, or a bad file given to it, is bad input; the rest is the machine.
fn vm(error: &VmError) -> i32 {
    use VmError::*;
    match error {
        TooManyVcpus { .. }
        | BadAccelOverride { .. }
        | MemoryTooSmall { .. }
        | MemoryNotSplittable { .. }
        | NotElf { .. }
        | WrongElfMachine { .. }
        | CmdlineKey { .. }
        | CmdlineValue { .. }
        | CmdlineTooLong { .. }
        | FileTooLarge { .. }
        | NonUtf8Path { .. }
        | BadLeanSetting { .. }
        | BadCacheCap { .. }
        | MissingFile { .. } => BAD_INPUT,
        KvmUnavailable | BusyboxMissing { .. } | ScriptInterpreterMissing { .. } => {
            MISSING_PREREQUISITE
        }
        Io { .. }
        | CmdlineParse { .. }
        | CmdlineMissingKey { .. }
        | TrialEncode(_)
        | TrialDecode { .. }
        | MissingDir { .. }
        | SocketPathTooLong { .. }
        | LibraryNotFound { .. }
        | LibraryConflict { .. }
        | ArchivePath { .. }
        | DuplicateArchivePath { .. }
        | NoCacheDir
        | PortNotFound { .. }
        | ChannelConnectTimeout { .. }
        | StripFailed { .. }
        | Spawn { .. } => ENVIRONMENT,
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
            assert_eq!(for_error(&CliError::Kernel(error)), code);
        }
        assert_eq!(for_error(&CliError::ScenariosFailed(1)), SCENARIO_FAILED);
        let unknown = ktstr::scenario::catalog::find("nosuch")
            .err()
            .map(CliError::UnknownScenario);
        assert_eq!(unknown.as_ref().map(for_error), Some(BAD_INPUT));
        let not_elf = CliError::Scheduler(SchedulerError::NotExecutable {
            path: "/etc/hostname".into(),
            why: "not an ELF executable".into(),
        });
        assert_eq!(for_error(&not_elf), BAD_INPUT);
        let wrapped = CliError::Harness(HarnessError::Vm(VmError::KvmUnavailable));
        assert_eq!(for_error(&wrapped), MISSING_PREREQUISITE);
    }
}
