//! One VM trial on the host: prepare (kernel, initramfs, VM spec) → boot and listen (QEMU, the channel,
//! the deadline) → conclude (classify, assemble the outcome).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::classify::{classify, load_diagnosis, scheduler_failure, Seen};
use super::VmTest;
use crate::assert::Assert;
use crate::kernel::{resolve_kernel_flavor, KernelError};
use crate::outcome::{
    Evidence, KernelStamp, SchedulerRun, Timings, TrialId, TrialOutcome, Verdict, VmRun,
};
use crate::protocol::{GuestMessage, GuestReport, TrialSpec};
use crate::sched::{LocatedBinary, SchedulerError};
use crate::vm::{
    Accel, ChannelEvent, ChannelReader, CpuGate, CpuTokens, InitramfsCache, InitramfsSpec,
    KernelCmdline, QemuExit, QemuProcess, TrialDir, VmError, VmRequest, VmSpec, HOST_BUSYBOX,
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
    #[error("--include {}: {reason}; name a readable file with a UTF-8 path", .path.display())]
    ShellInclude { path: PathBuf, reason: String },
    #[error("{0}")]
    ShellEnded(String),
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
fn kernel_stamp(kernel: &crate::kernel::ResolvedKernel) -> KernelStamp {
    let metadata = kernel
        .image()
        .parent()
        .and_then(|dir| std::fs::read(dir.join("metadata.json")).ok())
        .and_then(|b| serde_json::from_slice::<crate::kernel::Metadata>(&b).ok());
    KernelStamp {
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
    kernel_stamp: KernelStamp,
    scheduler_binary: Option<LocatedBinary>,
    scheduler_sha256: Option<String>,
    vm: VmSpec,
    /// Held until the trial ends: a trim of the cache leaves this archive alone.
    _initramfs: crate::vm::BaseInitramfs,
}

/// What the host collected from one VM: the guest's messages and streamed kernel log until it finished or
/// the deadline passed, and QEMU's console, stderr and exit status.
struct Observation {
    messages: Vec<GuestMessage>,
    /// Kernel log records the guest streamed, in order.
    kmsg: Vec<String>,
    first_at: Option<Instant>,
    timed_out: bool,
    console: String,
    qemu_stderr: String,
    /// `None` when QEMU was killed at the deadline.
    qemu_status: Option<std::process::ExitStatus>,
    qemu_started: Instant,
    /// The host CPUs this VM holds now (`CpuGate`): one while it boots, one per vCPU while its test runs.
    cpus: Option<CpuTokens>,
    /// How long the guest waited for host CPUs before its test started.
    start_wait: Duration,
}

/// Boots one VM for `test` and classifies what happened. Nothing it starts outlives it.
pub fn run_vm_test(test: &VmTest) -> Result<TrialOutcome, HarnessError> {
    let test = &test.resolved()?;
    if test.host_only {
        return Err(HarnessError::BadTest {
            test: test.name.clone(),
            reason: "it is host_only, so it runs on the host without a VM; run it through \
                     ktstr::pipeline or run_host_test"
                .into(),
        });
    }
    let (prepared, dir) = prepare(test)?;
    let observation = boot_and_listen(test, &prepared, dir)?;
    Ok(conclude(test, prepared, observation))
}

/// What a trial needs that can be checked before anything boots.
struct Checked {
    accel: Accel,
    attach: Duration,
    spec: TrialSpec,
    kernel: crate::kernel::ResolvedKernel,
    scheduler_binary: Option<LocatedBinary>,
}

/// Checks everything about `test` that needs no VM: the accelerator and this host's capacity for its
/// topology, its spec, its kernel, and its scheduler's binary.
fn check(test: &VmTest) -> Result<Checked, HarnessError> {
    let accel = Accel::detect()?;
    crate::vm::check_capacity(&test.vm_topology(), accel)?;
    let attach = attach_allowance(&test.scheduler, accel);
    let spec = trial_spec(test, attach)?;
    // The scheduler first: a path that is no program is the user's first mistake, whatever the cache holds.
    let scheduler_binary = test.scheduler.locate(|name| {
        resolve_kernel_flavor(test.kernel_flavor)
            .ok()?
            .scheduler(name)
    })?;
    let kernel = resolve_kernel_flavor(test.kernel_flavor)?;
    Ok(Checked {
        accel,
        attach,
        spec,
        kernel,
        scheduler_binary,
    })
}

/// Whether `test` can run here, checked without booting anything: bad input is an error now, not a
/// failed trial minutes later. A `host_only` test needs nothing checked.
pub fn preflight(test: &VmTest) -> Result<(), HarnessError> {
    if test.host_only {
        return Ok(());
    }
    check(&test.resolved()?).map(|_| ())
}

/// Resolves and checks everything a trial needs, then builds its initramfs and VM spec; bad input fails
/// here, before anything boots.
fn prepare(test: &VmTest) -> Result<(Prepared, TrialDir), HarnessError> {
    let started = Instant::now();
    let Checked {
        accel,
        attach,
        spec,
        kernel,
        scheduler_binary,
    } = check(test)?;
    let initramfs = guest_initramfs(&test.scheduler, scheduler_binary.as_ref())?;
    let base = InitramfsCache::from_env()?.base(&initramfs)?;
    let dir = TrialDir::new()?;
    let cmdline = kernel_cmdline(test, &spec)?;
    let vm = vm_spec(
        &dir,
        test.vm_topology(),
        test.memory_mb,
        (&kernel, &base.path),
        cmdline,
        accel,
    )?;
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

/// The VM of a guest booting `images` (kernel, initramfs), its console and channel in `dir`.
pub(crate) fn vm_spec(
    dir: &TrialDir,
    topology: crate::topology::Topology,
    memory_mb: Option<u32>,
    images: (&crate::kernel::ResolvedKernel, &std::path::Path),
    cmdline: KernelCmdline,
    accel: Accel,
) -> Result<VmSpec, VmError> {
    VmSpec::new(VmRequest {
        topology,
        memory_mb,
        kernel: images.0.image().to_path_buf(),
        initramfs: images.1.to_path_buf(),
        cmdline,
        console_log: dir.console_log(),
        channel_socket: dir.channel_socket(),
        accel,
    })
}

/// The guest's initramfs: this binary as `/init` (its lean copy when enabled), busybox, and the
/// scheduler's binary where the guest runs it.
pub(crate) fn guest_initramfs(
    scheduler: &crate::sched::Scheduler,
    binary: Option<&LocatedBinary>,
) -> Result<InitramfsSpec, HarnessError> {
    let exe = std::env::current_exe().map_err(HarnessError::CurrentExe)?;
    let init = match crate::vm::lean_init_enabled()? {
        true => crate::vm::lean_copy(&exe, &crate::vm::ktstr_cache_dir()?.join("lean"))?,
        false => exe,
    };
    let initramfs = InitramfsSpec::new(init).busybox(HOST_BUSYBOX);
    Ok(match (binary, scheduler.guest_path()) {
        (Some(located), Some(guest)) => initramfs.binary(located.path.clone(), &guest),
        _ => initramfs,
    })
}

/// Starts QEMU, listens to the guest until it finishes or the deadline passes, and collects QEMU's
/// evidence (console, stderr, exit status). QEMU is gone when this returns.
fn boot_and_listen(
    test: &VmTest,
    prepared: &Prepared,
    dir: TrialDir,
) -> Result<Observation, HarnessError> {
    let vcpus = test.vm_topology().total_cpus();
    let boot = boot_allowance(prepared.accel, vcpus);
    let console_path = dir.console_log();
    let gate = CpuGate::host();
    let booting = gate.any()?;
    let mut qemu = QemuProcess::spawn(&prepared.vm, dir)?;
    let mut seen = Observation {
        messages: Vec::new(),
        kmsg: Vec::new(),
        first_at: None,
        timed_out: false,
        console: String::new(),
        qemu_stderr: String::new(),
        qemu_status: None,
        qemu_started: Instant::now(),
        cpus: Some(booting),
        start_wait: Duration::ZERO,
    };
    let boot_deadline = seen.qemu_started + boot;
    let reader = ChannelReader::spawn(prepared.vm.channel_socket(), boot_deadline)?;
    seen.listen(&Listening {
        reader: &reader,
        boot_deadline,
        run: run_allowance(test, prepared.attach) + TEARDOWN,
        gate: &gate,
        vcpus: vcpus as usize,
    });
    seen.cpus = None;
    let exit = match seen.timed_out {
        true => QemuExit::TimedOut,
        false => qemu.wait_until(Instant::now() + TEARDOWN)?,
    };
    match exit {
        QemuExit::TimedOut => {
            qemu.kill()?;
            seen.timed_out = true;
        }
        QemuExit::Exited(status) => seen.qemu_status = Some(status),
    }
    seen.console = std::fs::read_to_string(&console_path).unwrap_or_default();
    seen.qemu_stderr = std::fs::read_to_string(qemu.dir().qemu_stderr()).unwrap_or_default();
    drop(qemu);
    Ok(seen)
}

/// Classifies the trial from what was observed and assembles the outcome from its parts.
fn conclude(test: &VmTest, prepared: Prepared, seen: Observation) -> TrialOutcome {
    let report = seen.report();
    let requested = test.vm_topology().to_string();
    let (kind, reason) = classify(&Seen {
        requested_topology: &requested,
        eevdf: test.scheduler.is_eevdf(),
        messages: &seen.messages,
        report: report.as_ref(),
        timed_out: seen.timed_out,
        console: &seen.console,
        kmsg: &seen.kmsg,
        qemu_status: seen.qemu_status,
        qemu_stderr: &seen.qemu_stderr,
    });
    let mut outcome = TrialOutcome {
        trial: TrialId {
            name: test.trial_name(),
            function: test.name.clone(),
            topology: requested,
            preset: test.preset.map(String::from),
            duration_ms: test.duration.as_millis() as u64,
        },
        verdict: Verdict {
            kind,
            reason,
            expected: test.expect,
            as_expected: false,
        },
        scheduler: seen.scheduler_run(test, &prepared),
        vm: VmRun {
            accel: prepared.accel,
            memory_mb: prepared.vm.memory_mb(),
            kernel: prepared.kernel.image().to_path_buf(),
            kernel_stamp: prepared.kernel_stamp,
        },
        report,
        evidence: seen.evidence(),
        timings: Timings {
            prep_ms: seen
                .qemu_started
                .duration_since(prepared.started)
                .as_millis() as u64,
            boot_ms: seen
                .first_at
                .map(|t| t.duration_since(seen.qemu_started).as_millis() as u64),
            start_wait_ms: seen.start_wait.as_millis() as u64,
            wall_ms: prepared.started.elapsed().as_millis() as u64,
        },
    };
    let verdict = &outcome.verdict;
    outcome.verdict.as_expected =
        test.accepts(verdict.kind, &verdict.reason, &outcome.detail_kinds());
    outcome
}

/// What `Observation::listen` listens with.
struct Listening<'a> {
    reader: &'a ChannelReader<GuestMessage>,
    boot_deadline: Instant,
    run: Duration,
    gate: &'a CpuGate,
    vcpus: usize,
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

impl Observation {
    /// Listens until the boot deadline for the first message, then for the run allowance (and however
    /// long the guest waited for host CPUs) after it: the guest's messages up to `Finished`, the channel
    /// closing, or the deadline.
    fn listen(&mut self, to: &Listening) {
        loop {
            let deadline = self
                .first_at
                .map_or(to.boot_deadline, |first| first + to.run + self.start_wait);
            match to.reader.recv_until(deadline) {
                None => {
                    self.timed_out = Instant::now() >= deadline;
                    return;
                }
                Some(ChannelEvent::Message {
                    message: GuestMessage::Kmsg { line },
                    ..
                }) => self.kmsg.push(line),
                Some(ChannelEvent::Message { message, at }) => {
                    self.first_at.get_or_insert(at);
                    match message {
                        GuestMessage::AwaitingStart => self.start_test(to),
                        GuestMessage::TestEnded => self.cpus = None,
                        _ => {}
                    }
                    let done = matches!(message, GuestMessage::Finished { .. });
                    self.messages.push(message);
                    if done {
                        return;
                    }
                }
                Some(ChannelEvent::Unparsed { line, reason }) => {
                    self.messages.push(GuestMessage::Log {
                        line: format!("unparsed guest line ({reason}): {line}"),
                    })
                }
                Some(ChannelEvent::Closed) | Some(ChannelEvent::Failed(_)) => return,
                Some(ChannelEvent::Connected { .. }) => {}
            }
        }
    }

    /// The guest has booted: trade the boot's CPU for one per vCPU (waiting while other guests test
    /// or boot), then let it start. A gate or channel failure is logged and the test starts anyway.
    fn start_test(&mut self, to: &Listening) {
        self.cpus = None;
        let waiting = Instant::now();
        match to.gate.take(to.vcpus) {
            Ok(cpus) => self.cpus = Some(cpus),
            Err(e) => self.log(format!("host CPUs not reserved for the test: {e}")),
        }
        self.start_wait = waiting.elapsed();
        if let Err(e) = to.reader.send_line(crate::protocol::START_LINE) {
            self.log(format!("the start could not be sent to the guest: {e}"));
        }
    }

    fn log(&mut self, line: String) {
        self.messages.push(GuestMessage::Log { line });
    }

    /// The guest's report.
    fn report(&self) -> Option<GuestReport> {
        self.messages.iter().find_map(|m| match m {
            GuestMessage::Report { report } => Some(report.as_ref().clone()),
            _ => None,
        })
    }

    /// The scheduler as `test` declared it and as the guest saw it run.
    fn scheduler_run(&self, test: &VmTest, prepared: &Prepared) -> SchedulerRun {
        let failure = scheduler_failure(&self.messages);
        SchedulerRun {
            name: test.scheduler.name().to_string(),
            profile: test.scheduler.profile().name(),
            args: test.scheduler.all_args(),
            binary: prepared.scheduler_binary.clone(),
            sha256: prepared.scheduler_sha256.clone(),
            ops_name: self.messages.iter().find_map(|m| match m {
                GuestMessage::SchedulerReady { ops_name, .. } => Some(ops_name.clone()),
                _ => None,
            }),
            failed_output: failure.as_ref().map(|f| f.output.to_string()),
            diagnostic_output: failure
                .and_then(|f| f.diagnostic_output)
                .map(str::to_string),
            load_diagnosis: load_diagnosis(&self.messages),
        }
    }

    /// The tails of what the host saw beside the report.
    fn evidence(&self) -> Evidence {
        Evidence {
            console_tail: last_lines(self.console.lines(), 30),
            kmsg_tail: last_lines(self.kmsg.iter().map(String::as_str), KMSG_KEPT),
            qemu_stderr_tail: last_lines(self.qemu_stderr.lines(), 20),
            guest_log: self
                .messages
                .iter()
                .filter_map(|m| match m {
                    GuestMessage::Log { line } => Some(line.clone()),
                    _ => None,
                })
                .collect(),
        }
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
