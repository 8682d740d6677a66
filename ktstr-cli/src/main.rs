//! `ktstr`: builds and manages the sched_ext guest kernels, and runs canned scenarios on the host or in VMs.

mod cache_cmd;
mod cli;
mod error;
mod exit_codes;
mod format;
mod kernel_cmd;
mod progress;
mod run_cmd;
mod scheduler_cmd;
mod shell_cmd;
mod stats_cmd;
mod topo_cmd;

use clap::{CommandFactory, Parser};
use ktstr::harness::HarnessError;
use ktstr::kernel::KernelError;

use error::CliError;

use cli::{Cli, Command};

fn main() {
    // Inside a VM this binary is PID 1 and runs the canned scenario named on the kernel command line.
    if std::process::id() == 1 {
        ktstr::pipeline::run_guest(&run_cmd::catalog_tests());
    }
    // Output piped into `head` ends the process quietly, as other command-line tools do, not with a
    // broken-pipe panic from `println!`.
    // SAFETY: restores a signal's default disposition; no other thread exists yet.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Kernel(command) => kernel_cmd::run(command),
        Command::Scheduler(command) => scheduler_cmd::run(command),
        Command::Run(args) => run_cmd::run(args),
        Command::List { filter, json } => run_cmd::list(filter.as_deref(), json),
        Command::Topo { json } => topo_cmd::run(json),
        Command::Cache { command } => cache_cmd::run(command),
        Command::Cleanup => cache_cmd::cleanup(),
        Command::Stats(command) => stats_cmd::run(command),
        Command::Shell(args) => match shell_cmd::run(args) {
            Ok(code) => std::process::exit(code),
            Err(error) => Err(error),
        },
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "ktstr", &mut std::io::stdout());
            Ok(())
        }
    };
    let code = match result {
        Ok(()) => exit_codes::OK,
        Err(error) => {
            report(&error);
            exit_codes::for_error(&error)
        }
    };
    std::process::exit(code);
}

/// Prints an error on one line; a failed build step first shows the log's last lines.
fn report(error: &CliError) {
    let kernel = match error {
        CliError::Kernel(e) | CliError::Harness(HarnessError::Kernel(e)) => Some(e),
        _ => None,
    };
    match kernel {
        Some(KernelError::StepFailed {
            step,
            status,
            log,
            tail,
        }) => {
            eprintln!("{tail}");
            eprintln!(
                "error: {step} failed ({status}); the last {} lines are above, the full log is {}",
                tail.lines().count(),
                log.display()
            );
        }
        _ => eprintln!("error: {}", chain(error)),
    }
}

/// The error and its sources, joined as `a: b: c`, each said once.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text += &format!(": {said}");
        }
        source = cause.source();
    }
    text
}
