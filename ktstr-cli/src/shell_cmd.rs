//! `ktstr shell`: a busybox shell in a guest on this terminal, or one command's output.

use ktstr::harness::{run_shell, ShellRequest};
use ktstr::sched::Scheduler;

use crate::cli::ShellArgs;
use crate::error::CliError;

/// Boots the shell and returns its exit status, which becomes ktstr's.
pub fn run(args: ShellArgs) -> Result<i32, CliError> {
    let scheduler = match &args.scheduler {
        None => Scheduler::EEVDF,
        Some(name) => Scheduler::by_name(name)?,
    };
    let scheduler = match args.sched_args.args.is_empty() {
        true => scheduler,
        false => scheduler.args(args.sched_args.args.iter().cloned())?,
    };
    let request = ShellRequest {
        topology: args.topology,
        scheduler,
        exec: args.exec,
        include: args.include,
        memory_mb: args.memory_mb,
        kernel_flavor: args.kernel_flavor,
    };
    Ok(run_shell(&request)?)
}
