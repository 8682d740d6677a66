//! The guest role: run the trial named on the kernel command line and report over the channel.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Duration;

use super::system;
use crate::assert::AssertResult;
use crate::cgroup::{CgroupManager, Controllers};
use crate::harness::{GuestReport, TrialSpec, VmTest};
use crate::scenario::Ctx;
use crate::sched::{
    self, KmsgRecord, LaunchOptions, RunningScheduler, ScxState, ScxSysfs, KMSG_PATH,
};
use crate::topology::TestTopology;
use crate::vm::{GuestChannel, GuestMessage, KernelCmdline};

/// The cgroup every trial's cgroups live under.
const CGROUP_PARENT: &str = "/sys/fs/cgroup/ktstr";

/// PID 1's whole life: mount, run the trial, report, power off.
pub fn run_guest(tests: &[VmTest]) -> ! {
    let mount_failures = system::mount_all();
    let mut channel = match GuestChannel::open() {
        Ok(channel) => channel,
        Err(e) => {
            eprintln!("ktstr guest: no channel to the host: {e}");
            system::power_off();
        }
    };
    let mut send = |message: GuestMessage| {
        if let Err(e) = channel.send(&message) {
            eprintln!("ktstr guest: sending to the host: {e}");
        }
    };
    send(GuestMessage::Started);
    for line in mount_failures {
        send(GuestMessage::Log { line });
    }
    let report = match read_trial().and_then(|spec| find(tests, &spec).map(|test| (spec, test))) {
        Ok((spec, test)) => run_trial(&spec, test, &mut send),
        Err(error) => GuestReport {
            error: Some(error),
            ..GuestReport::default()
        },
    };
    let payload = serde_json::to_value(&report)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }));
    send(GuestMessage::Report { payload });
    send(GuestMessage::Finished { exit_code: 0 });
    system::power_off();
}

fn read_trial() -> Result<TrialSpec, String> {
    let cmdline = KernelCmdline::from_proc().map_err(|e| format!("reading /proc/cmdline: {e}"))?;
    cmdline
        .trial::<TrialSpec>()
        .map_err(|e| format!("the kernel command line holds no valid trial: {e}"))
}

fn find<'t>(tests: &'t [VmTest], spec: &TrialSpec) -> Result<&'t VmTest, String> {
    tests
        .iter()
        .find(|t| t.name == spec.test)
        .ok_or_else(|| format!("this binary has no test named {:?}", spec.test))
}

fn run_trial(spec: &TrialSpec, test: &VmTest, send: &mut impl FnMut(GuestMessage)) -> GuestReport {
    let mut report = GuestReport::default();
    let topo = match TestTopology::from_sysfs() {
        Ok(topo) => topo,
        Err(e) => {
            report.topology_seen = format!("unreadable: {e}");
            return report;
        }
    };
    report.topology_seen = match topo.shape() {
        Ok(shape) => shape.to_string(),
        Err(e) => format!("non-uniform: {e}"),
    };
    if report.topology_seen != spec.topology.to_string() {
        return report;
    }
    let setup = std::iter::once(("kernel/sched_schedstats".to_string(), "1".to_string()))
        .chain(spec.sysctls.iter().cloned())
        .try_for_each(|(key, value)| system::sysctl(&key, &value));
    if let Err(e) = setup {
        report.error = Some(e);
        return report;
    }
    let cgroups = CgroupManager::new(CGROUP_PARENT);
    if let Err(e) = cgroups.setup(Controllers::CPUSET_AND_CPU) {
        report.error = Some(format!("setting up {CGROUP_PARENT}: {e}"));
        return report;
    }
    let scheduler = match start_scheduler(spec, send, &mut report) {
        Ok(scheduler) => scheduler,
        Err(()) => return report,
    };
    let ctx = Ctx::builder(&cgroups, &topo)
        .duration(Duration::from_millis(spec.duration_ms))
        .workers_per_cgroup(spec.workers_per_cgroup)
        .sched_pid(scheduler.as_ref().map(|s| s.pid() as i32))
        .settle(Duration::from_millis(spec.settle_ms))
        .assert(spec.assert)
        .build();
    let outcome = catch_unwind(AssertUnwindSafe(|| (test.func)(&ctx)));
    record_outcome(&mut report, outcome);
    finish_scheduler(scheduler, &mut report);
    if let Err(e) = cgroups.cleanup_all() {
        send(GuestMessage::Log {
            line: format!("removing {CGROUP_PARENT}: {e}"),
        });
    }
    report
}

fn start_scheduler(
    spec: &TrialSpec,
    send: &mut impl FnMut(GuestMessage),
    report: &mut GuestReport,
) -> Result<Option<RunningScheduler>, ()> {
    if spec.scheduler.guest_binary.is_none() {
        report.scheduler_alive = true;
        return Ok(None);
    }
    let options = LaunchOptions {
        attach_timeout: Duration::from_millis(spec.attach_timeout_ms),
        ..LaunchOptions::default()
    };
    match sched::launch(&spec.scheduler, &options) {
        Ok(running) => {
            send(GuestMessage::SchedulerReady {
                pid: running.pid(),
                ops_name: running.ops_name().to_string(),
            });
            Ok(Some(running))
        }
        Err(failure) => {
            send(GuestMessage::SchedulerFailed {
                output: failure.output.clone(),
                reason: failure.reason.to_string(),
                diagnostic_output: diagnostic_run(&spec.scheduler, &options),
            });
            report.error = Some(format!("the scheduler failed to start: {failure}"));
            report.scheduler_output_tail = failure.output;
            report.kmsg_tail = kmsg_text(failure.kmsg_tail.unwrap_or_default());
            Err(())
        }
    }
}

/// Starts a scheduler that failed to load once more with its diagnostic arguments (libbpf's log on)
/// and returns what it printed; `None` when it has none or already ran with them.
fn diagnostic_run(spec: &sched::SchedulerSpec, options: &LaunchOptions) -> Option<String> {
    let extra = &spec.diagnostic_args;
    if extra.is_empty()
        || spec
            .args
            .windows(extra.len())
            .any(|w| w == extra.as_slice())
    {
        return None;
    }
    let mut verbose = spec.clone();
    verbose.args.extend(extra.iter().cloned());
    match sched::launch(&verbose, options) {
        Ok(running) => {
            let output = running.output_tail(400);
            if let Err(e) = running.stop() {
                eprintln!("ktstr guest: stopping the diagnostic run: {e}");
            }
            Some(format!("[it attached with {extra:?}]\n{output}"))
        }
        Err(failure) => Some(failure.output),
    }
}

fn record_outcome(
    report: &mut GuestReport,
    outcome: std::thread::Result<anyhow::Result<AssertResult>>,
) {
    match outcome {
        Ok(Ok(result)) => report.result = Some(result),
        Ok(Err(error)) => report.error = Some(format!("{error:#}")),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic with a non-string payload".to_string());
            report.panic = Some(message);
        }
    }
}

/// Lines of the kernel log kept in a report.
const KMSG_TAIL: usize = 40;

fn kmsg_text(records: Vec<KmsgRecord>) -> Vec<String> {
    records.into_iter().map(|r| r.text).collect()
}

/// How long a failed trial waits for sched_ext to eject a still-running scheduler. A stall shows first as
/// symptoms (a stuck worker, a cgroup write that times out); the watchdog's verdict names the cause.
/// Schedulers can only shorten the 30 s default watchdog; scx_qmap's is 5 s.
const EJECTION_GRACE: Duration = Duration::from_secs(8);

/// True when the test function did not pass.
fn failed(report: &GuestReport) -> bool {
    report.panic.is_some()
        || report.error.is_some()
        || report.result.as_ref().is_some_and(|r| !r.passed)
}

/// Waits up to `EJECTION_GRACE` for the scheduler to exit or sched_ext to stop running it.
fn await_ejection(running: &mut RunningScheduler) {
    let until = std::time::Instant::now() + EJECTION_GRACE;
    while std::time::Instant::now() < until && running.alive() {
        if !matches!(ScxSysfs::default().state(), Ok(ScxState::Enabled)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn finish_scheduler(mut scheduler: Option<RunningScheduler>, report: &mut GuestReport) {
    if let Some(running) = scheduler.as_mut().filter(|_| failed(report)) {
        await_ejection(running);
    }
    let kmsg = kmsg_text(sched::read_kmsg(Path::new(KMSG_PATH), 1000).unwrap_or_default());
    report.sched_ext_state = match ScxSysfs::default().state() {
        Ok(state) => format!("{state:?}"),
        Err(e) => format!("unreadable: {e}"),
    };
    if let Some(mut running) = scheduler {
        report.scheduler_alive = running.alive();
        report.scx_exit = running.sched_ext_exit(&kmsg);
        report.scheduler_output_tail = running.output_tail(40);
        if let Err(e) = running.stop() {
            report
                .kmsg_tail
                .push(format!("ktstr: stopping the scheduler: {e}"));
        }
    }
    let start = kmsg.len().saturating_sub(KMSG_TAIL);
    report.kmsg_tail.extend_from_slice(&kmsg[start..]);
}
