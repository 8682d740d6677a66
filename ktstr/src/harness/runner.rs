//! The host side of one trial: kernel, initramfs, QEMU, the channel, the deadline, the outcome.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::outcome::{classify, load_diagnosis, scheduler_failure, Observed};
use super::{OutcomeKind, VmTest};
use crate::assert::Assert;
use crate::kernel::{resolve_kernel_flavor, KernelError};
use crate::protocol::{GuestMessage, GuestReport, TrialSpec};
use crate::sched::{LoadDiagnosis, LocatedBinary, SchedulerError};
use crate::vm::{
    Accel, ChannelEvent, ChannelReader, InitramfsCache, InitramfsSpec, KernelCmdline, QemuExit,
    QemuProcess, TrialDir, VmError, VmRequest, VmSpec, HOST_BUSYBOX,
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
    /// The trial's name (`fn/scheduler/topology/profile`, `gauntlet/fn/preset/profile`).
    pub test: String,
    /// The test function's name.
    pub fn_name: String,
    pub kind: OutcomeKind,
    /// The outcome the test expects, and whether this one is it (class, reason and detail).
    pub expected: OutcomeKind,
    pub as_expected: bool,
    pub reason: String,
    pub topology: String,
    /// The gauntlet preset, for a gauntlet variant.
    pub preset: Option<String>,
    pub scheduler: String,
    /// SHA-256 of the scheduler binary the guest ran; `None` for EEVDF.
    pub scheduler_sha256: Option<String>,
    /// The scheduler's flag profile (`default` when no flag is on).
    pub profile: String,
    /// Every argument the scheduler was started with (declared, the profile's, the test's).
    pub scheduler_args: Vec<String>,
    /// Where the scheduler's binary came from on the host; `None` for EEVDF.
    pub scheduler_binary: Option<LocatedBinary>,
    pub ops_name: Option<String>,
    pub accel: Accel,
    pub kernel: PathBuf,
    pub kernel_stamp: crate::runs::KernelStamp,
    pub memory_mb: u32,
    pub duration_ms: u64,
    pub report: Option<GuestReport>,
    pub scheduler_failed_output: Option<String>,
    /// What the failed scheduler printed when started again with its diagnostic arguments.
    pub scheduler_diagnostic_output: Option<String>,
    /// Why the scheduler could not load, when its output shows it.
    pub load_diagnosis: Option<LoadDiagnosis>,
    pub console_tail: Vec<String>,
    /// The last kernel log records the guest streamed while it ran.
    pub kmsg_tail: Vec<String>,
    /// QEMU's own stderr (its last lines): the evidence when the VM itself failed.
    pub qemu_stderr_tail: Vec<String>,
    pub guest_log: Vec<String>,
    /// From the trial's start to QEMU's (kernel resolution, initramfs, VM spec).
    pub prep_ms: u64,
    /// From QEMU start to the guest's first message.
    pub boot_ms: Option<u64>,
    pub wall_ms: u64,
}

impl TrialOutcome {
    /// The kinds of the failure details in the test's verdict, in order.
    pub fn detail_kinds(&self) -> Vec<crate::assert::DetailKind> {
        self.report
            .as_ref()
            .and_then(|r| r.test.result())
            .map(|r| r.details.iter().map(|d| d.kind).collect())
            .unwrap_or_default()
    }
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
    if test.workers_per_cgroup > crate::workload::MAX_WORKERS {
        return Err(bad(&format!(
            "workers_per_cgroup is {}, over the limit of {} workers per group; split the load over \
             several cgroups",
            test.workers_per_cgroup,
            crate::workload::MAX_WORKERS
        )));
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
        topology: test.vm_topology(),
        scheduler: test.scheduler.spec(),
        duration_ms: test.duration.as_millis() as u64,
        workers_per_cgroup: test.workers_per_cgroup,
        settle_ms: test.settle.as_millis() as u64,
        assert,
        sysctls: test.sysctls.clone(),
        attach_timeout_ms: attach.as_millis() as u64,
    })
}

/// What kernel a trial boots: the cache entry's key, version and config hash when it is one, and the
/// image's digest always.
fn kernel_stamp(kernel: &crate::kernel::ResolvedKernel) -> crate::runs::KernelStamp {
    let metadata = kernel
        .image()
        .parent()
        .and_then(|dir| std::fs::read(dir.join("metadata.json")).ok())
        .and_then(|b| serde_json::from_slice::<crate::kernel::Metadata>(&b).ok());
    crate::runs::KernelStamp {
        key: match kernel.origin() {
            crate::kernel::KernelOrigin::Cache(key) => Some(key.clone()),
            _ => metadata.as_ref().map(|m| m.key.clone()),
        },
        version: metadata.as_ref().map(|m| m.version.clone()),
        config_hash: metadata.map(|m| m.config_hash),
        image_sha256: sha256_file(kernel.image()).unwrap_or_default(),
    }
}

/// The SHA-256 of a file, hex; `None` when it cannot be read. Remembered per (path, size, mtime) for the
/// life of the process, so a binary's many trials hash its kernel and scheduler once.
fn sha256_file(path: &std::path::Path) -> Option<String> {
    use sha2::Digest;
    use std::collections::HashMap;
    use std::sync::Mutex;
    type Key = (PathBuf, u64, std::time::SystemTime);
    static KNOWN: Mutex<Option<HashMap<Key, String>>> = Mutex::new(None);
    let meta = std::fs::metadata(path).ok()?;
    let key = (path.to_path_buf(), meta.len(), meta.modified().ok()?);
    if let Some(digest) = KNOWN
        .lock()
        .ok()?
        .get_or_insert_with(HashMap::new)
        .get(&key)
    {
        return Some(digest.clone());
    }
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut file, &mut hasher).ok()?;
    let digest = crate::vm::hex(&hasher.finalize());
    KNOWN
        .lock()
        .ok()?
        .get_or_insert_with(HashMap::new)
        .insert(key, digest.clone());
    Some(digest)
}

/// The guest kernel's command line: ktstr's base, the trial spec, then the scheduler's declared kernel
/// arguments (`key=value` or a bare flag).
fn kernel_cmdline(test: &VmTest, spec: &TrialSpec) -> Result<KernelCmdline, VmError> {
    let mut cmdline = KernelCmdline::base().with_trial(spec)?;
    for karg in test.scheduler.declared_kargs() {
        cmdline = match karg.split_once('=') {
            Some((key, value)) => cmdline.arg(key, value)?,
            None => cmdline.flag(karg)?,
        };
    }
    Ok(cmdline)
}

/// A trial ready to boot: everything resolved and checked before QEMU starts.
struct Prepared {
    started: Instant,
    accel: Accel,
    attach: Duration,
    kernel: crate::kernel::ResolvedKernel,
    kernel_stamp: crate::runs::KernelStamp,
    scheduler_binary: Option<LocatedBinary>,
    scheduler_sha256: Option<String>,
    vm: VmSpec,
    /// Held until the trial ends: a trim of the cache leaves this archive alone.
    _initramfs: crate::vm::BaseInitramfs,
}

/// What booting and listening to one VM produced.
struct Observation {
    heard: Heard,
    timed_out: bool,
    console: String,
    qemu_stderr: String,
    qemu_status: Option<std::process::ExitStatus>,
    qemu_started: Instant,
}

/// Boots one VM for `test` and classifies what happened. Nothing it starts outlives it.
pub fn run_vm_test(test: &VmTest) -> Result<TrialOutcome, HarnessError> {
    let test = &test.resolved()?;
    if test.host_only {
        return Err(HarnessError::BadTest {
            test: test.name.clone(),
            reason: "it is host_only, so it runs on the host without a VM; run it through                      ktstr::harness::main or run_host_test"
                .into(),
        });
    }
    let (prepared, dir) = prepare(test)?;
    let observation = boot_and_listen(test, &prepared, dir)?;
    Ok(conclude(test, prepared, observation))
}

/// Resolves and checks everything a trial needs: accelerator, capacity, spec, kernel, scheduler binary,
/// initramfs and the VM; bad input fails here, before anything boots.
fn prepare(test: &VmTest) -> Result<(Prepared, TrialDir), HarnessError> {
    let started = Instant::now();
    let accel = Accel::detect()?;
    crate::vm::check_capacity(&test.vm_topology(), accel)?;
    let attach = attach_allowance(&test.scheduler, accel);
    let spec = trial_spec(test, attach)?;
    let kernel = resolve_kernel_flavor(test.kernel_flavor)?;
    let exe = std::env::current_exe().map_err(HarnessError::CurrentExe)?;
    let init = match crate::vm::lean_init_enabled()? {
        true => crate::vm::lean_copy(&exe, &crate::vm::ktstr_cache_dir()?.join("lean"))?,
        false => exe,
    };
    let mut initramfs = InitramfsSpec::new(init).busybox(HOST_BUSYBOX);
    let scheduler_binary = test.scheduler.locate(|name| kernel.scheduler(name))?;
    if let (Some(located), Some(guest)) = (&scheduler_binary, test.scheduler.guest_path()) {
        initramfs = initramfs.binary(located.path.clone(), &guest);
    }
    let base = InitramfsCache::from_env()?.base(&initramfs)?;
    let dir = TrialDir::new()?;
    let cmdline = kernel_cmdline(test, &spec)?;
    let vm = VmSpec::new(VmRequest {
        topology: test.vm_topology(),
        memory_mb: test.memory_mb,
        kernel: kernel.image().to_path_buf(),
        initramfs: base.path.clone(),
        cmdline,
        console_log: dir.console_log(),
        channel_socket: dir.channel_socket(),
        accel,
    })?;
    let prepared = Prepared {
        started,
        accel,
        attach,
        kernel_stamp: kernel_stamp(&kernel),
        kernel,
        scheduler_sha256: scheduler_binary.as_ref().and_then(|b| sha256_file(&b.path)),
        scheduler_binary,
        vm,
        _initramfs: base,
    };
    Ok((prepared, dir))
}

/// Starts QEMU, listens to the guest until it finishes or the deadline passes, and collects QEMU's
/// evidence (console, stderr, exit status). QEMU is gone when this returns.
fn boot_and_listen(
    test: &VmTest,
    prepared: &Prepared,
    dir: TrialDir,
) -> Result<Observation, HarnessError> {
    let boot = boot_allowance(prepared.accel, test.vm_topology().total_cpus());
    let console_path = dir.console_log();
    let mut qemu = QemuProcess::spawn(&prepared.vm, dir)?;
    let qemu_started = Instant::now();
    let reader = ChannelReader::spawn(prepared.vm.channel_socket(), qemu_started + boot)?;
    let heard = listen(
        &reader,
        qemu_started + boot,
        run_allowance(test, prepared.attach) + TEARDOWN,
    );
    let exit = if heard.timed_out {
        QemuExit::TimedOut
    } else {
        qemu.wait_until(Instant::now() + TEARDOWN)?
    };
    if matches!(exit, QemuExit::TimedOut) {
        qemu.kill()?;
    }
    let observation = Observation {
        timed_out: heard.timed_out || matches!(exit, QemuExit::TimedOut),
        heard,
        console: std::fs::read_to_string(&console_path).unwrap_or_default(),
        qemu_stderr: std::fs::read_to_string(qemu.dir().qemu_stderr()).unwrap_or_default(),
        qemu_status: match exit {
            QemuExit::Exited(status) => Some(status),
            QemuExit::TimedOut => None,
        },
        qemu_started,
    };
    drop(qemu);
    Ok(observation)
}

/// Classifies the trial from what was observed and assembles the outcome.
fn conclude(test: &VmTest, prepared: Prepared, seen: Observation) -> TrialOutcome {
    let report = seen.heard.report();
    let requested = test.vm_topology().to_string();
    let (kind, reason) = classify(&Observed {
        requested_topology: &requested,
        eevdf: test.scheduler.is_eevdf(),
        messages: &seen.heard.messages,
        report: report.as_ref(),
        timed_out: seen.timed_out,
        console: &seen.console,
        kmsg: &seen.heard.kmsg,
        qemu_status: seen.qemu_status,
        qemu_stderr: &seen.qemu_stderr,
    });
    let details: Vec<_> = report
        .as_ref()
        .and_then(|r| r.test.result())
        .map(|r| r.details.iter().map(|d| d.kind).collect())
        .unwrap_or_default();
    TrialOutcome {
        test: test.trial_name(),
        fn_name: test.name.clone(),
        expected: test.expect,
        as_expected: test.accepts(kind, &reason, &details),
        kind,
        reason,
        topology: requested,
        preset: test.preset.map(String::from),
        scheduler: test.scheduler.name().to_string(),
        scheduler_sha256: prepared.scheduler_sha256,
        profile: test.scheduler.profile().name(),
        scheduler_args: test.scheduler.all_args(),
        scheduler_binary: prepared.scheduler_binary,
        ops_name: seen.heard.ops_name(),
        accel: prepared.accel,
        kernel: prepared.kernel.image().to_path_buf(),
        kernel_stamp: prepared.kernel_stamp,
        memory_mb: prepared.vm.memory_mb(),
        duration_ms: test.duration.as_millis() as u64,
        scheduler_failed_output: seen.heard.failed_output(),
        scheduler_diagnostic_output: seen.heard.diagnostic_output(),
        load_diagnosis: load_diagnosis(&seen.heard.messages),
        guest_log: seen.heard.log_lines(),
        kmsg_tail: last_lines(seen.heard.kmsg.iter().map(String::as_str), KMSG_KEPT),
        report,
        console_tail: last_lines(seen.console.lines(), 30),
        qemu_stderr_tail: last_lines(seen.qemu_stderr.lines(), 20),
        prep_ms: seen
            .qemu_started
            .duration_since(prepared.started)
            .as_millis() as u64,
        boot_ms: seen
            .heard
            .first_at
            .map(|t| t.duration_since(seen.qemu_started).as_millis() as u64),
        wall_ms: prepared.started.elapsed().as_millis() as u64,
    }
}

/// Streamed kernel log lines kept in an outcome.
const KMSG_KEPT: usize = 60;

/// The last `n` of `lines`, owned.
fn last_lines<'a>(lines: impl Iterator<Item = &'a str>, n: usize) -> Vec<String> {
    let all: Vec<&str> = lines.collect();
    all[all.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

/// Time for the guest to report, stop its workers and power off, and for QEMU to exit.
const TEARDOWN: Duration = Duration::from_secs(10);

/// The guest's messages up to `Finished`, the channel closing, or the deadline.
struct Heard {
    messages: Vec<GuestMessage>,
    /// Kernel log records the guest streamed, in order.
    kmsg: Vec<String>,
    first_at: Option<Instant>,
    timed_out: bool,
}

/// Listens until `boot_deadline` for the first message, then for `run` more after it.
fn listen(reader: &ChannelReader<GuestMessage>, boot_deadline: Instant, run: Duration) -> Heard {
    let mut heard = Heard {
        messages: Vec::new(),
        kmsg: Vec::new(),
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
            Some(ChannelEvent::Message {
                message: GuestMessage::Kmsg { line },
                ..
            }) => heard.kmsg.push(line),
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
    /// The guest's report.
    fn report(&self) -> Option<GuestReport> {
        self.messages.iter().find_map(|m| match m {
            GuestMessage::Report { report } => Some(report.as_ref().clone()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::Scheduler;

    fn nothing(_: &crate::scenario::Ctx) -> anyhow::Result<crate::assert::AssertResult> {
        Ok(crate::assert::AssertResult::pass())
    }

    #[test]
    fn declared_kernel_arguments_follow_the_trial_spec_and_bad_ones_are_errors() {
        const WITH_KARGS: Scheduler =
            Scheduler::new("scx_simple").kargs(&["nosoftlockup", "loglevel=4"]);
        let test = VmTest::new("t", nothing).scheduler(WITH_KARGS);
        let spec = trial_spec(&test, Duration::from_secs(1)).unwrap();
        let cmdline = kernel_cmdline(&test, &spec).unwrap().to_string();
        assert!(cmdline.ends_with(" nosoftlockup loglevel=4"), "{cmdline}");
        assert!(cmdline.contains("ktstr.trial="));
        const BAD: Scheduler = Scheduler::new("scx_simple").kargs(&["two words"]);
        let test = VmTest::new("t", nothing).scheduler(BAD);
        assert!(kernel_cmdline(&test, &spec).is_err());
    }

    #[test]
    fn declared_sysctls_come_before_the_tests_own() {
        use crate::sched::Sysctl;
        const RT: Scheduler = Scheduler::new("scx_simple")
            .sysctls(&[Sysctl::new("kernel.sched_rt_runtime_us", "900000")]);
        let test = VmTest::new("t", nothing)
            .scheduler(RT)
            .push_sysctl("kernel/sched_rt_runtime_us", "-1")
            .resolved()
            .unwrap();
        let spec = trial_spec(&test, Duration::from_secs(1)).unwrap();
        assert_eq!(
            spec.sysctls,
            [
                (
                    "kernel/sched_rt_runtime_us".to_string(),
                    "900000".to_string()
                ),
                ("kernel/sched_rt_runtime_us".to_string(), "-1".to_string())
            ]
        );
    }
}
