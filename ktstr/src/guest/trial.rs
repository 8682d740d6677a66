//! PID 1's trial: read the `TrialSpec`, check the topology, start the scheduler, run the test in a child
//! process, watch for sched_ext's verdict, and report over the channel.

use std::path::Path;
use std::time::{Duration, Instant};

use super::link::Link;
use super::{kmsg_stream, system, test_process};
use crate::cgroup::{CgroupManager, Controllers};
use crate::protocol::{GuestMessage, GuestReport, SchedExtSeen, TopologySeen, TrialSpec};
use crate::scenario::{Ctx, ScenarioFn};
use crate::scx::{self, LaunchOptions, RunningScheduler, ScxState, ScxSysfs};
use crate::sys::{read_kmsg, KmsgRecord, KMSG_PATH};
use crate::topology::TestTopology;
use crate::vm::{GuestChannel, KernelCmdline};

/// The cgroup every trial's cgroups live under.
const CGROUP_PARENT: &str = "/sys/fs/cgroup/ktstr";

/// PID 1's whole life: mount, stream the kernel log, run the trial, report, power off. `find` maps the
/// test name on the kernel command line to its function.
pub fn run_guest(find: &dyn Fn(&str) -> Option<ScenarioFn>) -> ! {
    let mount_failures = system::mount_all();
    let link = match GuestChannel::open() {
        Ok(channel) => Link::new(channel),
        Err(e) => {
            eprintln!("ktstr guest: no channel to the host: {e}");
            system::power_off();
        }
    };
    link.send(GuestMessage::Started);
    if let Some(shell) = KernelCmdline::from_proc().ok().and_then(|c| c.shell()) {
        match shell {
            Ok(spec) => super::shell::run_shell(&spec, &link),
            Err(e) => {
                eprintln!("ktstr guest: the shell request on the kernel command line: {e}");
                system::power_off();
            }
        }
    }
    kmsg_stream::start(link.clone());
    for line in mount_failures {
        link.send(GuestMessage::Log { line });
    }
    let report = match read_trial().and_then(|spec| {
        let func = find(&spec.test)
            .ok_or_else(|| format!("this binary has no test named {:?}", spec.test))?;
        Ok((spec, func))
    }) {
        Ok((spec, func)) => run_trial(&spec, func, &link),
        Err(error) => GuestReport::setup_failed(error),
    };
    link.send(GuestMessage::Report {
        report: Box::new(report),
    });
    link.send(GuestMessage::Finished { exit_code: 0 });
    system::power_off();
}

fn read_trial() -> Result<TrialSpec, String> {
    let cmdline = KernelCmdline::from_proc().map_err(|e| format!("reading /proc/cmdline: {e}"))?;
    cmdline
        .trial::<TrialSpec>()
        .map_err(|e| format!("the kernel command line holds no valid trial: {e}"))
}

/// What the guest's sysfs shows against what the trial asked for.
fn see_topology(spec: &TrialSpec) -> (TopologySeen, Option<TestTopology>) {
    let topo = match TestTopology::from_sysfs() {
        Ok(topo) => topo,
        Err(e) => {
            let reason = e.to_string();
            return (TopologySeen::Unreadable { reason }, None);
        }
    };
    match topo.shape() {
        Ok(shape) if shape == spec.topology => (TopologySeen::Matched, Some(topo)),
        Ok(shape) => {
            let shape = shape.to_string();
            (TopologySeen::Mismatched { shape }, None)
        }
        Err(e) => {
            let reason = format!("non-uniform: {e}");
            (TopologySeen::Unreadable { reason }, None)
        }
    }
}

fn run_trial(spec: &TrialSpec, func: ScenarioFn, link: &Link) -> GuestReport {
    let (topology, topo) = see_topology(spec);
    let mut report = GuestReport {
        topology,
        ..GuestReport::default()
    };
    let Some(topo) = topo else {
        return report;
    };
    // Wait for host CPUs before anything runs: a guest that waits is idle, with no scheduler attached
    // whose timers and userspace would run on CPUs another guest is testing on.
    link.await_start();
    let setup = std::iter::once(("kernel/sched_schedstats".to_string(), "1".to_string()))
        .chain(spec.sysctls.iter().cloned())
        .try_for_each(|(key, value)| system::sysctl(&key, &value));
    if let Err(e) = setup {
        report.setup_error = Some(e);
        return report;
    }
    let cgroups = CgroupManager::new(CGROUP_PARENT);
    if let Err(e) = cgroups.setup(Controllers::CPUSET_AND_CPU) {
        report.setup_error = Some(format!("setting up {CGROUP_PARENT}: {e}"));
        return report;
    }
    let scheduler = match start_scheduler(spec, link, &mut report) {
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
    link.send(GuestMessage::TestStarted);
    report.test = test_process::run_test(func, &ctx);
    link.send(GuestMessage::TestEnded);
    reap_orphans(scheduler.as_ref().map(|s| s.pid()));
    finish_scheduler(scheduler, &mut report);
    if let Err(e) = cgroups.cleanup_all() {
        link.send(GuestMessage::Log {
            line: format!("removing {CGROUP_PARENT}: {e}"),
        });
    }
    report
}

fn start_scheduler(
    spec: &TrialSpec,
    link: &Link,
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
    match scx::launch(&spec.scheduler, &options) {
        Ok(running) => {
            link.send(GuestMessage::SchedulerReady {
                pid: running.pid(),
                ops_name: running.ops_name().to_string(),
            });
            Ok(Some(running))
        }
        Err(failure) => {
            link.send(GuestMessage::SchedulerFailed {
                output: failure.output.clone(),
                reason: failure.reason.to_string(),
                diagnostic_output: diagnostic_run(&spec.scheduler, &options),
            });
            report.setup_error = Some(format!("the scheduler failed to start: {failure}"));
            report.scheduler_output_tail = failure.output;
            report.kmsg_tail = kmsg_text(failure.kmsg_tail.unwrap_or_default());
            Err(())
        }
    }
}

/// Starts a scheduler that failed to load once more with its diagnostic arguments (libbpf's log on)
/// and returns what it printed; `None` when it has none or already ran with them.
fn diagnostic_run(spec: &scx::SchedulerSpec, options: &LaunchOptions) -> Option<String> {
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
    match scx::launch(&verbose, options) {
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

/// How long PID 1 waits for the test's orphaned workers to die before reaping what it can.
const ORPHAN_GRACE: Duration = Duration::from_secs(2);

/// Kills whatever the test process left in the trial's cgroups (a killed test leaves its workers behind)
/// and reaps PID 1's children other than the scheduler.
fn reap_orphans(scheduler: Option<u32>) {
    let _ = std::fs::write(Path::new(CGROUP_PARENT).join("cgroup.kill"), "1");
    let until = Instant::now() + ORPHAN_GRACE;
    loop {
        let children = system::children_of(1)
            .into_iter()
            .map(|(pid, _)| pid)
            .filter(|pid| Some(*pid) != scheduler);
        let mut left = 0;
        for pid in children {
            // SAFETY: a non-blocking wait for one of our own children.
            let reaped = unsafe { libc::waitpid(pid as i32, std::ptr::null_mut(), libc::WNOHANG) };
            if reaped == 0 {
                left += 1;
            }
        }
        if left == 0 || Instant::now() >= until {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
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

/// Waits up to `EJECTION_GRACE` for the scheduler to exit or sched_ext to stop running it.
fn await_ejection(running: &mut RunningScheduler) {
    let until = Instant::now() + EJECTION_GRACE;
    while Instant::now() < until && running.alive() {
        if !matches!(ScxSysfs::default().state(), Ok(ScxState::Enabled)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn finish_scheduler(mut scheduler: Option<RunningScheduler>, report: &mut GuestReport) {
    if let Some(running) = scheduler.as_mut().filter(|_| report.test.failed()) {
        await_ejection(running);
    }
    let kmsg = kmsg_text(read_kmsg(Path::new(KMSG_PATH), 1000).unwrap_or_default());
    report.sched_ext = match ScxSysfs::default().state() {
        Ok(state) => SchedExtSeen::State { state },
        Err(e) => SchedExtSeen::Unreadable {
            reason: e.to_string(),
        },
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
