//! The host side of one trial: kernel, initramfs, QEMU, the channel, the deadline, the outcome.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::outcome::{classify, load_diagnosis, scheduler_failure, Observed};
use super::{GuestReport, OutcomeKind, TrialSpec, VmTest};
use crate::assert::Assert;
use crate::kernel::{resolve_kernel_flavor, KernelError};
use crate::sched::{LoadDiagnosis, LocatedBinary, SchedulerError};
use crate::vm::{
    Accel, ChannelEvent, ChannelReader, GuestMessage, InitramfsCache, InitramfsSpec, KernelCmdline,
    QemuExit, QemuProcess, TrialDir, VmError, VmRequest, VmSpec, HOST_BUSYBOX,
};

/// Why a trial could not be started at all.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error(transparent)]
    Kernel(#[from] KernelError),
    #[error(transparent)]
    Vm(#[from] VmError),
    #[error(transparent)]
    Scheduler(#[from] SchedulerError),
    #[error("finding this test binary: {0}")]
    CurrentExe(std::io::Error),
    #[error("test {test:?}: {reason}")]
    BadTest { test: String, reason: String },
}

/// Everything the host learned from one trial.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrialOutcome {
    pub test: String,
    pub kind: OutcomeKind,
    pub reason: String,
    pub topology: String,
    pub scheduler: String,
    /// Where the scheduler's binary came from on the host; `None` for EEVDF.
    pub scheduler_binary: Option<LocatedBinary>,
    pub ops_name: Option<String>,
    pub accel: Accel,
    pub kernel: PathBuf,
    pub report: Option<GuestReport>,
    pub scheduler_failed_output: Option<String>,
    /// What the failed scheduler printed when started again with its diagnostic arguments.
    pub scheduler_diagnostic_output: Option<String>,
    /// Why the scheduler could not load, when its output shows it.
    pub load_diagnosis: Option<LoadDiagnosis>,
    pub console_tail: Vec<String>,
    /// QEMU's own stderr (its last lines): the evidence when the VM itself failed.
    pub qemu_stderr_tail: Vec<String>,
    pub guest_log: Vec<String>,
    /// From the trial's start to QEMU's (kernel resolution, initramfs, VM spec).
    pub prep_ms: u64,
    /// From QEMU start to the guest's first message.
    pub boot_ms: Option<u64>,
    pub wall_ms: u64,
}

/// Time a guest gets from QEMU start to its first message.
fn boot_allowance(accel: Accel, cpus: u32) -> Duration {
    match accel {
        Accel::Kvm => Duration::from_secs(10),
        Accel::Tcg => Duration::from_secs(30 + u64::from(cpus)),
    }
}

/// Time after boot for the test itself: 3 × duration + 20 s unless the test sets its own, plus twice the
/// scheduler's attach allowance (a failed start is retried once for its diagnosis).
fn run_allowance(test: &VmTest, attach: Duration) -> Duration {
    let attaching = if test.scheduler.is_eevdf() {
        Duration::ZERO
    } else {
        attach * 2
    };
    test.timeout
        .unwrap_or(test.duration * 3 + Duration::from_secs(20))
        + attaching
}

/// How long a scheduler may take to attach: what it declares, else enough for the verifier to check a
/// production scheduler's BPF programs under the accelerator (tens of seconds under TCG).
fn attach_allowance(scheduler: &crate::sched::Scheduler, accel: Accel) -> Duration {
    scheduler.attach_timeout_override().unwrap_or(match accel {
        Accel::Kvm => Duration::from_secs(15),
        Accel::Tcg => Duration::from_secs(90),
    })
}

fn trial_spec(test: &VmTest, attach: Duration) -> Result<TrialSpec, HarnessError> {
    let bad = |reason: &str| HarnessError::BadTest {
        test: test.name.clone(),
        reason: reason.to_string(),
    };
    if test.workers_per_cgroup == 0 {
        return Err(bad("workers_per_cgroup is 0; give it at least 1"));
    }
    if test.duration.is_zero() {
        return Err(bad(
            "duration is 0; give it a positive duration such as 2 s",
        ));
    }
    let assert = Assert::default_checks()
        .merge(&test.scheduler.assert_overrides())
        .merge(&test.assert);
    assert.validate().map_err(|e| bad(&e.to_string()))?;
    Ok(TrialSpec {
        test: test.name.clone(),
        topology: test.topology,
        scheduler: test.scheduler.spec(),
        duration_ms: test.duration.as_millis() as u64,
        workers_per_cgroup: test.workers_per_cgroup,
        settle_ms: test.settle.as_millis() as u64,
        assert,
        sysctls: test.sysctls.clone(),
        attach_timeout_ms: attach.as_millis() as u64,
    })
}

/// Boots one VM for `test` and classifies what happened. Nothing it starts outlives it.
pub fn run_vm_test(test: &VmTest) -> Result<TrialOutcome, HarnessError> {
    let started = Instant::now();
    let accel = Accel::detect()?;
    crate::vm::check_capacity(&test.topology, accel)?;
    let attach = attach_allowance(&test.scheduler, accel);
    let spec = trial_spec(test, attach)?;
    let kernel = resolve_kernel_flavor(test.kernel_flavor)?;
    let exe = std::env::current_exe().map_err(HarnessError::CurrentExe)?;
    let mut initramfs = InitramfsSpec::new(exe).busybox(HOST_BUSYBOX);
    let scheduler_binary = test.scheduler.locate(|name| kernel.scheduler(name))?;
    if let (Some(located), Some(guest)) = (&scheduler_binary, test.scheduler.guest_path()) {
        initramfs = initramfs.binary(located.path.clone(), &guest);
    }
    let base = InitramfsCache::from_env()?.base(&initramfs)?;
    let dir = TrialDir::new()?;
    let cmdline = KernelCmdline::base().with_trial(&spec)?;
    let vm = VmSpec::new(VmRequest {
        topology: test.topology,
        memory_mb: None,
        kernel: kernel.image().to_path_buf(),
        initramfs: base.path.clone(),
        cmdline,
        console_log: dir.console_log(),
        channel_socket: dir.channel_socket(),
        accel,
    })?;
    let boot = boot_allowance(accel, test.topology.total_cpus());
    let console_path = dir.console_log();
    let mut qemu = QemuProcess::spawn(&vm, dir)?;
    let qemu_started = Instant::now();
    let reader = ChannelReader::spawn(vm.channel_socket(), qemu_started + boot)?;
    let heard = listen(
        &reader,
        qemu_started + boot,
        run_allowance(test, attach) + TEARDOWN,
    );
    let exit = if heard.timed_out {
        QemuExit::TimedOut
    } else {
        qemu.wait_until(Instant::now() + TEARDOWN)?
    };
    let timed_out = heard.timed_out || matches!(exit, QemuExit::TimedOut);
    if matches!(exit, QemuExit::TimedOut) {
        qemu.kill()?;
    }
    let console = std::fs::read_to_string(&console_path).unwrap_or_default();
    let qemu_stderr = std::fs::read_to_string(qemu.dir().qemu_stderr()).unwrap_or_default();
    let qemu_status = match exit {
        QemuExit::Exited(status) => Some(status),
        QemuExit::TimedOut => None,
    };
    drop(qemu);
    let report = heard.report();
    let requested = test.topology.to_string();
    let (kind, reason) = classify(&Observed {
        requested_topology: &requested,
        eevdf: test.scheduler.is_eevdf(),
        messages: &heard.messages,
        report: report.as_ref(),
        timed_out,
        console: &console,
        qemu_status,
        qemu_stderr: &qemu_stderr,
    });
    let console_lines: Vec<String> = console.lines().map(str::to_string).collect();
    Ok(TrialOutcome {
        test: test.name.clone(),
        kind,
        reason,
        topology: requested,
        scheduler: test.scheduler.name().to_string(),
        scheduler_binary,
        ops_name: heard.ops_name(),
        accel,
        kernel: kernel.image().to_path_buf(),
        scheduler_failed_output: heard.failed_output(),
        scheduler_diagnostic_output: heard.diagnostic_output(),
        load_diagnosis: load_diagnosis(&heard.messages),
        guest_log: heard.log_lines(),
        report,
        console_tail: console_lines[console_lines.len().saturating_sub(30)..].to_vec(),
        qemu_stderr_tail: qemu_stderr
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .map(str::to_string)
            .collect(),
        prep_ms: qemu_started.duration_since(started).as_millis() as u64,
        boot_ms: heard
            .first_at
            .map(|t| t.duration_since(qemu_started).as_millis() as u64),
        wall_ms: started.elapsed().as_millis() as u64,
    })
}

/// Time for the guest to report, stop its workers and power off, and for QEMU to exit.
const TEARDOWN: Duration = Duration::from_secs(10);

/// The guest's messages up to `Finished`, the channel closing, or the deadline.
struct Heard {
    messages: Vec<GuestMessage>,
    first_at: Option<Instant>,
    timed_out: bool,
}

/// Listens until `boot_deadline` for the first message, then for `run` more after it.
fn listen(reader: &ChannelReader, boot_deadline: Instant, run: Duration) -> Heard {
    let mut heard = Heard {
        messages: Vec::new(),
        first_at: None,
        timed_out: false,
    };
    loop {
        let deadline = heard.first_at.map_or(boot_deadline, |first| first + run);
        match reader.recv_until(deadline) {
            None => {
                heard.timed_out = Instant::now() >= deadline;
                return heard;
            }
            Some(ChannelEvent::Message { message, at }) => {
                heard.first_at.get_or_insert(at);
                let done = matches!(message, GuestMessage::Finished { .. });
                heard.messages.push(message);
                if done {
                    return heard;
                }
            }
            Some(ChannelEvent::Unparsed { line, reason }) => {
                heard.messages.push(GuestMessage::Log {
                    line: format!("unparsed guest line ({reason}): {line}"),
                })
            }
            Some(ChannelEvent::Closed) | Some(ChannelEvent::Failed(_)) => return heard,
            Some(ChannelEvent::Connected { .. }) => {}
        }
    }
}

impl Heard {
    /// The guest's report; one that does not parse becomes a report carrying that error.
    fn report(&self) -> Option<GuestReport> {
        self.messages.iter().find_map(|m| match m {
            GuestMessage::Report { payload } => Some(
                serde_json::from_value(payload.clone()).unwrap_or_else(|e| GuestReport {
                    error: Some(format!("the guest's report did not parse: {e}")),
                    ..GuestReport::default()
                }),
            ),
            _ => None,
        })
    }

    fn ops_name(&self) -> Option<String> {
        self.messages.iter().find_map(|m| match m {
            GuestMessage::SchedulerReady { ops_name, .. } => Some(ops_name.clone()),
            _ => None,
        })
    }

    fn failed_output(&self) -> Option<String> {
        scheduler_failure(&self.messages).map(|f| f.output.to_string())
    }

    fn diagnostic_output(&self) -> Option<String> {
        scheduler_failure(&self.messages)?
            .diagnostic_output
            .map(str::to_string)
    }

    fn log_lines(&self) -> Vec<String> {
        self.messages
            .iter()
            .filter_map(|m| match m {
                GuestMessage::Log { line } => Some(line.clone()),
                _ => None,
            })
            .collect()
    }
}
