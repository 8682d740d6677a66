//! Starting a scheduler in the guest: spawn it with its output captured, then poll sched_ext until it reports
//! the scheduler enabled, or fail with what the scheduler printed and the kernel log's tail.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use super::output::OutputFile;
use super::process::{ProcState, SchedProcess};
use super::running::RunningScheduler;
use super::{SchedulerSpec, ScxState, ScxSysfs, SysfsError};
use crate::sys::{read_kmsg, KmsgError, KmsgRecord, KMSG_PATH};

/// How long a scheduler may take to attach; generous because TCG guests are slow.
pub const DEFAULT_ATTACH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `stop` waits after SIGINT before SIGKILL.
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(2);

/// Where and how long to wait for a scheduler.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchOptions {
    /// The sched_ext sysfs directory to poll.
    pub sysfs: ScxSysfs,
    pub attach_timeout: Duration,
    pub poll_interval: Duration,
    pub stop_grace: Duration,
    /// Directory of the output file.
    pub output_dir: PathBuf,
    /// Kernel log read for a failure's tail.
    pub kmsg_path: PathBuf,
    /// How many kernel log records a failure keeps.
    pub kmsg_tail_records: usize,
}

impl Default for LaunchOptions {
    fn default() -> Self {
        LaunchOptions {
            sysfs: ScxSysfs::default(),
            attach_timeout: DEFAULT_ATTACH_TIMEOUT,
            poll_interval: Duration::from_millis(50),
            stop_grace: DEFAULT_STOP_GRACE,
            output_dir: PathBuf::from("/tmp"),
            kmsg_path: PathBuf::from(KMSG_PATH),
            kmsg_tail_records: 100,
        }
    }
}

/// Why a scheduler did not become ready.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchFailureReason {
    #[error("the spec names no binary (it is EEVDF); check SchedulerSpec::is_eevdf() and launch nothing")]
    NoBinary,

    #[error("sched_ext already runs {ops:?}; stop that scheduler before launching another")]
    Busy { ops: String },

    #[error("cannot create its output file in {dir}: {source}; mount a writable tmpfs there")]
    OutputFile { dir: PathBuf, source: io::Error },

    #[error(
        "cannot start {binary}: {source}; check that the binary and its shared libraries are in \
         the initramfs and executable"
    )]
    SpawnFailed { binary: String, source: io::Error },

    #[error("it exited ({0}) before sched_ext reported it enabled; its output says why")]
    Exited(ExitStatus),

    #[error(
        "sched_ext did not report it enabled within {after:?} ({}); read its output, or raise \
         LaunchOptions::attach_timeout if the guest is just slow",
        describe_state(.state)
    )]
    Timeout {
        after: Duration,
        state: Option<ScxState>,
    },

    #[error("cannot read sched_ext's state: {0}")]
    Sysfs(SysfsError),

    #[error(
        "cannot wait for it: {0}; the guest init must neither ignore SIGCHLD nor reap its children"
    )]
    Wait(io::Error),
}

fn describe_state(state: &Option<ScxState>) -> String {
    match state {
        Some(state) => format!("state stayed {state}"),
        None => "no sched_ext state file: the kernel lacks CONFIG_SCHED_CLASS_EXT".into(),
    }
}

/// A scheduler that never became ready, with the evidence.
#[derive(Debug, thiserror::Error)]
#[error("scheduler {scheduler:?} did not attach: {reason}")]
pub struct LaunchFailure {
    pub scheduler: String,
    pub reason: LaunchFailureReason,
    /// Its stdout and stderr, the last `OUTPUT_LIMIT` bytes.
    pub output: String,
    pub kmsg_tail: Result<Vec<KmsgRecord>, KmsgError>,
}

/// Starts the scheduler and waits until sched_ext reports it enabled with a non-empty ops name.
///
/// Call it from the thread that will own the result: the scheduler gets `PR_SET_PDEATHSIG`, which fires when
/// the spawning thread exits.
///
/// ```no_run
/// use ktstr::sched::Scheduler;
/// use ktstr::scx::{launch, LaunchOptions};
/// let spec = Scheduler::in_tree("scx_simple")?.spec();
/// match launch(&spec, &LaunchOptions::default()) {
///     Ok(running) => println!("{} attached as {}", running.pid(), running.ops_name()),
///     Err(failure) => eprintln!("{failure}\n{}", failure.output),
/// }
/// # Ok::<(), ktstr::sched::SchedulerError>(())
/// ```
#[expect(
    clippy::result_large_err,
    reason = "called once per trial; the failure carries its evidence by value"
)]
pub fn launch(
    spec: &SchedulerSpec,
    opts: &LaunchOptions,
) -> Result<RunningScheduler, LaunchFailure> {
    let fail = |reason, output: String| LaunchFailure {
        scheduler: spec.name.clone(),
        reason,
        output,
        kmsg_tail: read_kmsg(&opts.kmsg_path, opts.kmsg_tail_records),
    };
    let binary = spec
        .guest_binary
        .as_deref()
        .ok_or_else(|| fail(LaunchFailureReason::NoBinary, String::new()))?;
    match opts.sysfs.ops() {
        Ok(None) => {}
        Ok(Some(ops)) => return Err(fail(LaunchFailureReason::Busy { ops }, String::new())),
        Err(err) => return Err(fail(LaunchFailureReason::Sysfs(err), String::new())),
    }
    let (output, stdout, stderr) =
        OutputFile::create(&opts.output_dir, &spec.name).map_err(|source| {
            let dir = opts.output_dir.clone();
            fail(
                LaunchFailureReason::OutputFile { dir, source },
                String::new(),
            )
        })?;
    let mut process =
        SchedProcess::spawn(binary, &spec.args, stdout, stderr).map_err(|source| {
            let binary = binary.to_string();
            fail(
                LaunchFailureReason::SpawnFailed { binary, source },
                output.tail(),
            )
        })?;
    let started = Instant::now();
    match wait_attached(&mut process, opts, started) {
        Ok(ops_name) => Ok(RunningScheduler::new(
            spec.name.clone(),
            process,
            ops_name,
            started.elapsed(),
            output,
            opts.stop_grace,
        )),
        Err(reason) => {
            process.kill();
            Err(fail(reason, output.tail()))
        }
    }
}

/// Polls until the scheduler is attached (its ops name), exits, or the deadline passes.
fn wait_attached(
    process: &mut SchedProcess,
    opts: &LaunchOptions,
    started: Instant,
) -> Result<String, LaunchFailureReason> {
    let deadline = started + opts.attach_timeout;
    loop {
        match process.poll() {
            ProcState::Running => {}
            ProcState::Exited(status) => return Err(LaunchFailureReason::Exited(status)),
            ProcState::Lost(errno) => return Err(LaunchFailureReason::Wait(errno.into())),
        }
        let state = match opts.sysfs.state() {
            Ok(state) => Some(state),
            Err(SysfsError::Missing { .. }) => None,
            Err(err) => return Err(LaunchFailureReason::Sysfs(err)),
        };
        if state == Some(ScxState::Enabled) {
            if let Some(ops) = opts.sysfs.ops().map_err(LaunchFailureReason::Sysfs)? {
                return Ok(ops);
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(LaunchFailureReason::Timeout {
                after: now - started,
                state,
            });
        }
        std::thread::sleep(opts.poll_interval.min(deadline - now));
    }
}
