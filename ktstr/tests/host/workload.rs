//! Real forked workers on the host: every work type, the two-phase start, gaps, sentinels, affinity,
//! validation, teardown without leaks, and forking while other threads hold std's locks.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use ktstr::sys::ProcStat;
use ktstr::topology::CpuSet;
use ktstr::workload::{
    exit_code, AffinityMode, ExitInfo, Phase, SchedPolicy, WorkType, WorkerReport, WorkloadConfig,
    WorkloadError, WorkloadHandle,
};

fn spawn(config: &WorkloadConfig) -> WorkloadHandle {
    WorkloadHandle::spawn(config).unwrap_or_else(|e| panic!("spawn {config:?}: {e}"))
}

/// Spawns, starts, lets the workers run for `run`, then collects.
fn run_for(config: &WorkloadConfig, run: Duration) -> Vec<WorkerReport> {
    let mut handle = spawn(config);
    handle.start();
    thread::sleep(run);
    handle.stop_and_collect()
}

/// Polls until every worker has counted an iteration.
fn wait_until_running(handle: &WorkloadHandle) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while handle.snapshot_iterations().contains(&0) {
        assert!(
            Instant::now() < deadline,
            "workers never started iterating: {:?}",
            handle.snapshot_iterations()
        );
        thread::sleep(Duration::from_millis(10));
    }
}

fn signal(pid: i32, sig: libc::c_int) {
    // SAFETY: signals a worker this test owns.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill({pid}, {sig})");
}

fn allowed_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    assert_eq!(
        unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) },
        0
    );
    // SAFETY: reads bits of the filled set.
    (0..libc::CPU_SETSIZE as usize)
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

fn custom_loop(stop: &AtomicBool) -> WorkerReport {
    let mut units = 0;
    while !stop.load(Ordering::Relaxed) {
        units += std::hint::black_box(1);
    }
    WorkerReport {
        work_units: units,
        iterations: units,
        completed: true,
        ..WorkerReport::default()
    }
}

fn custom_panic(_: &AtomicBool) -> WorkerReport {
    panic!("a custom worker panicked on purpose")
}

/// Which workers of a type must record wake samples.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Wakes {
    None,
    All,
    AllButMessengers,
    /// Contended waits: some worker of the group must have waited, but which ones depends on timing.
    SomeInGroup,
}

impl Wakes {
    /// Whether this worker must have wake samples; `None` when only its group can say.
    fn expected_of(self, r: &WorkerReport) -> Option<bool> {
        match self {
            Wakes::None => Some(false),
            Wakes::All => Some(true),
            Wakes::AllButMessengers => Some(!r.is_messenger),
            Wakes::SomeInGroup => None,
        }
    }
}

fn every_work_type() -> Vec<(WorkType, Wakes)> {
    let ms = Duration::from_millis(20);
    let mut types: Vec<(WorkType, Wakes)> = WorkType::ALL_NAMES
        .iter()
        .map(|name| {
            let wt = WorkType::from_name(name).unwrap_or_else(|| panic!("{name}"));
            let wakes = match *name {
                "SpinWait" | "YieldHeavy" | "Mixed" | "CachePressure" | "PageFaultChurn" => {
                    Wakes::None
                }
                "FutexFanOut" => Wakes::AllButMessengers,
                "MutexContention" => Wakes::SomeInGroup,
                _ => Wakes::All,
            };
            (wt, wakes)
        })
        .collect();
    for (wt, _) in types
        .iter_mut()
        .filter(|(wt, _)| wt.name() == "MutexContention")
    {
        // Long holds make contention certain within a short run.
        *wt = WorkType::mutex_contention(4, 1 << 16, 64);
    }
    let phases = vec![Phase::Sleep(ms), Phase::Yield(ms), Phase::Io(ms)];
    types.push((WorkType::sequence(Phase::Spin(ms), phases), Wakes::All));
    types
}

#[test]
fn every_work_type_runs_reports_work_and_samples_wakes_where_it_blocks() {
    let _serial = crate::serial();
    let mut handles: Vec<(WorkType, Wakes, WorkloadHandle)> = every_work_type()
        .into_iter()
        .map(|(wt, wakes)| {
            let config = WorkloadConfig::new(wt.clone()).workers(wt.worker_group_size());
            (wt, wakes, spawn(&config))
        })
        .collect();
    handles.iter_mut().for_each(|(_, _, h)| h.start());
    // Long enough for every type to finish an iteration on a loaded 2-CPU host (all run at once).
    thread::sleep(Duration::from_millis(1000));
    for (wt, wakes, handle) in handles {
        let reports = handle.stop_and_collect();
        assert_eq!(reports.len(), wt.worker_group_size(), "{wt:?}");
        reports.iter().for_each(|r| assert_did_work(&wt, r));
        assert_wake_samples(&wt, wakes, &reports);
    }
}

/// The worker completed, counted work and iterations, has both times and ran on some CPU.
fn assert_did_work(wt: &WorkType, r: &WorkerReport) {
    let (name, index) = (wt.name(), r.index);
    assert!(
        r.completed,
        "{name} worker {index} did not complete: {:?}",
        r.exit_info
    );
    assert!(
        r.work_units > 0 && r.iterations > 0,
        "{name} worker {index} did no work: {r:?}"
    );
    assert!(
        r.wall_time_ns > 0 && r.cpu_time_ns > 0,
        "{name} worker {index} has no times"
    );
    assert!(!r.cpus_used.is_empty(), "{name} worker {index} saw no CPU");
}

/// Wake samples where `wakes` says, and one resume latency per sample kept.
fn assert_wake_samples(wt: &WorkType, wakes: Wakes, reports: &[WorkerReport]) {
    for r in reports {
        if let Some(expected) = wakes.expected_of(r) {
            assert_eq!(
                r.wake_sample_total > 0,
                expected,
                "{} worker {} has {} wake samples",
                wt.name(),
                r.index,
                r.wake_sample_total
            );
        }
        assert_eq!(
            r.resume_latencies_ns.len() as u64,
            r.wake_sample_total.min(100_000)
        );
    }
    if wakes == Wakes::SomeInGroup {
        assert!(
            reports.iter().any(|r| r.wake_sample_total > 0),
            "no {} worker ever waited: {reports:?}",
            wt.name()
        );
    }
    if wakes == Wakes::AllButMessengers {
        assert_eq!(
            reports.iter().filter(|r| r.is_messenger).count(),
            1,
            "{wt:?}: one messenger per group"
        );
    }
}

#[test]
fn custom_work_gets_the_stop_flag_and_framework_fills_identity() {
    let _serial = crate::serial();
    let config = WorkloadConfig::new(WorkType::custom("count", custom_loop)).workers(2);
    let handle = spawn(&config);
    let pids = handle.worker_pids();
    let mut handle = handle;
    handle.start();
    thread::sleep(Duration::from_millis(200));
    let reports = handle.stop_and_collect();
    for (i, r) in reports.iter().enumerate() {
        assert!(r.completed && r.work_units > 0, "{r:?}");
        assert_eq!((r.tid, r.index), (pids[i], i));
    }
}

#[test]
fn a_panicking_worker_exits_quietly_with_the_panic_code() {
    let _serial = crate::serial();
    let reports = run_for(
        &WorkloadConfig::new(WorkType::custom("boom", custom_panic)),
        Duration::from_millis(100),
    );
    assert!(!reports[0].completed);
    assert_eq!(
        reports[0].exit_info,
        Some(ExitInfo::Exited(exit_code::PANICKED))
    );
}

#[test]
fn workers_do_nothing_before_start() {
    let _serial = crate::serial();
    let mut handle = spawn(&WorkloadConfig::new(WorkType::SpinWait).workers(2));
    assert_eq!(handle.len(), 2);
    thread::sleep(Duration::from_millis(400));
    assert_eq!(
        handle.snapshot_iterations(),
        vec![0, 0],
        "a worker ran before start()"
    );
    handle.start();
    handle.start();
    wait_until_running(&handle);
    let reports = handle.stop_and_collect();
    assert!(
        reports.iter().all(|r| r.completed && r.iterations > 0),
        "{reports:?}"
    );
}

#[test]
fn a_stopped_worker_shows_the_gap() {
    let _serial = crate::serial();
    let mut handle = spawn(&WorkloadConfig::new(WorkType::SpinWait));
    handle.start();
    wait_until_running(&handle);
    let pid = handle.worker_pids()[0];
    signal(pid, libc::SIGSTOP);
    thread::sleep(Duration::from_secs(3));
    signal(pid, libc::SIGCONT);
    thread::sleep(Duration::from_millis(300));
    let report = &handle.stop_and_collect()[0];
    assert!(report.completed, "{report:?}");
    assert!(
        report.max_gap_ms >= 3000,
        "max_gap_ms = {}",
        report.max_gap_ms
    );
    assert!(
        report.max_gap_at_ms >= 3000,
        "max_gap_at_ms = {}",
        report.max_gap_at_ms
    );
}

#[test]
fn a_killed_worker_gets_a_sentinel_report() {
    let _serial = crate::serial();
    let mut handle = spawn(&WorkloadConfig::new(WorkType::SpinWait).workers(2));
    handle.start();
    wait_until_running(&handle);
    let pids = handle.worker_pids();
    signal(pids[0], libc::SIGKILL);
    thread::sleep(Duration::from_millis(100));
    let reports = handle.stop_and_collect();
    assert!(!reports[0].completed);
    assert_eq!(
        reports[0].exit_info,
        Some(ExitInfo::Signaled(libc::SIGKILL))
    );
    assert_eq!((reports[0].tid, reports[0].index), (pids[0], 0));
    assert!(
        reports[0].iterations > 0,
        "sentinel lost the live iteration count"
    );
    assert!(
        reports[1].completed && reports[1].exit_info.is_none(),
        "{:?}",
        reports[1]
    );
}

#[test]
fn fixed_affinity_keeps_workers_on_their_cpu() {
    let _serial = crate::serial();
    let cpu = *allowed_cpus()
        .last()
        .expect("this process may run on no CPU");
    let modes = [
        AffinityMode::Fixed([cpu].into_iter().collect()),
        AffinityMode::SingleCpu(cpu),
    ];
    for mode in modes {
        let config = WorkloadConfig::new(WorkType::Mixed)
            .workers(2)
            .affinity(mode.clone());
        for r in run_for(&config, Duration::from_millis(300)) {
            assert!(r.completed, "{mode:?}: {r:?}");
            assert_eq!(
                r.cpus_used,
                vec![cpu],
                "{mode:?}: worker {} strayed",
                r.index
            );
            assert_eq!(r.migration_count, 0);
        }
    }
}

#[test]
fn set_affinity_moves_a_running_worker() {
    let _serial = crate::serial();
    let cpu = *allowed_cpus()
        .first()
        .expect("this process may run on no CPU");
    let mut handle = spawn(&WorkloadConfig::new(WorkType::SpinWait));
    handle.start();
    wait_until_running(&handle);
    handle
        .set_affinity(0, &[cpu].into_iter().collect())
        .expect("set_affinity");
    thread::sleep(Duration::from_millis(100));
    let err = handle
        .set_affinity(1, &CpuSet::from_range(0..1))
        .expect_err("worker 1 does not exist");
    assert!(
        matches!(err, WorkloadError::NoSuchWorker { index: 1, len: 1 }),
        "{err}"
    );
    let before = handle.snapshot_iterations()[0];
    thread::sleep(Duration::from_millis(100));
    assert!(
        handle.snapshot_iterations()[0] > before,
        "worker stopped iterating after set_affinity"
    );
    let report = &handle.stop_and_collect()[0];
    assert!(report.cpus_used.contains(&cpu));
    if let Some(last) = report.migrations.last() {
        assert_eq!(last.to_cpu, cpu);
    }
}

#[test]
fn an_unusable_affinity_fails_the_worker_loudly() {
    let _serial = crate::serial();
    // No machine here has CPU 8191, so the kernel refuses the mask instead of the worker running anywhere.
    let config = WorkloadConfig::new(WorkType::SpinWait).affinity(AffinityMode::SingleCpu(8191));
    let report = &run_for(&config, Duration::from_millis(50))[0];
    assert_eq!(
        report.exit_info,
        Some(ExitInfo::Exited(exit_code::AFFINITY_FAILED))
    );
    assert!(!report.completed);
}

/// Reports the worker's scheduling policy as its work units.
fn policy_probe(_: &AtomicBool) -> WorkerReport {
    // SAFETY: queries the caller's own policy.
    let policy = unsafe { libc::sched_getscheduler(0) };
    WorkerReport {
        work_units: policy as u64,
        completed: true,
        ..WorkerReport::default()
    }
}

#[test]
fn the_configured_policy_is_applied_before_work_starts() {
    let _serial = crate::serial();
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test needs root (CAP_SYS_NICE) to use SCHED_FIFO and SCHED_RR"
    );
    let cases = [
        (SchedPolicy::Normal, libc::SCHED_OTHER),
        (SchedPolicy::Batch, libc::SCHED_BATCH),
        (SchedPolicy::Idle, libc::SCHED_IDLE),
        (SchedPolicy::Fifo(1), libc::SCHED_FIFO),
        (SchedPolicy::RoundRobin(2), libc::SCHED_RR),
    ];
    for (policy, raw) in cases {
        let config = WorkloadConfig::new(WorkType::custom("policy_probe", policy_probe))
            .sched_policy(policy);
        let report = &run_for(&config, Duration::from_millis(20))[0];
        assert!(report.completed, "{policy:?}: {report:?}");
        assert_eq!(report.work_units, raw as u64, "{policy:?} was not applied");
    }
}

/// Each configuration fails to spawn with an error that names its fix.
fn assert_refused(cases: Vec<(WorkloadConfig, &str)>) {
    let _serial = crate::serial();
    for (config, fix) in cases {
        match WorkloadHandle::spawn(&config) {
            Ok(handle) => panic!("{config:?} was accepted: {handle:?}"),
            Err(e) => assert!(
                e.to_string().contains(fix),
                "{config:?}: {e:?} does not say {fix:?}"
            ),
        }
    }
}

fn spin() -> WorkloadConfig {
    WorkloadConfig::new(WorkType::SpinWait)
}

#[test]
fn bad_worker_counts_and_priorities_are_refused_with_their_fix() {
    assert_refused(vec![
        (spin().workers(0), "Op::add_cgroup"),
        (spin().workers(0), "vacuously"),
        (
            WorkloadConfig::new(WorkType::pipe_io(8)).workers(3),
            "multiple of 2",
        ),
        (
            WorkloadConfig::new(WorkType::futex_fan_out(3, 8)).workers(6),
            "multiple of 4",
        ),
        (spin().sched_policy(SchedPolicy::Fifo(0)), "from 1 to 99"),
        (
            spin().sched_policy(SchedPolicy::RoundRobin(120)),
            "from 1 to 99",
        ),
    ]);
}

#[test]
fn bad_work_type_parameters_are_refused_with_their_fix() {
    assert_refused(
        [
            (WorkType::bursty(0, 10), "burst_ms to at least 1"),
            (WorkType::cache_pressure(32, 0), "stride to at least 1"),
            (WorkType::cache_yield(0, 64), "size_kb to at least 1"),
            (WorkType::futex_fan_out(0, 8), "fan_out to at least 1"),
            (WorkType::mutex_contention(1, 8, 8), "2 or more"),
        ]
        .map(|(wt, fix)| (WorkloadConfig::new(wt), fix))
        .into(),
    );
}

#[test]
fn empty_or_oversized_affinities_are_refused_with_their_fix() {
    let random = |from, count| spin().affinity(AffinityMode::Random { from, count });
    assert_refused(vec![
        (
            spin().affinity(AffinityMode::Fixed(CpuSet::new())),
            "at least one CPU",
        ),
        (random(CpuSet::new(), 1), "at least one CPU"),
        (random(CpuSet::from_range(0..2), 0), "between 1 and 2"),
        (random(CpuSet::from_range(0..2), 3), "between 1 and 2"),
    ]);
}

/// The start time (clock ticks after boot) of a live process, or `None` once it is gone entirely.
fn start_time(pid: i32) -> Option<u64> {
    ProcStat::read(u32::try_from(pid).ok()?).map(|stat| stat.start_time)
}

#[test]
fn no_worker_outlives_its_handle() {
    let _serial = crate::serial();
    let config = WorkloadConfig::new(WorkType::SpinWait).workers(10);
    let mut recorded: Vec<(i32, u64)> = Vec::new();
    let mut record = |handle: &WorkloadHandle| {
        for pid in handle.worker_pids() {
            recorded.push((
                pid,
                start_time(pid).unwrap_or_else(|| panic!("worker {pid} has no /proc entry")),
            ));
        }
    };
    let collected = spawn(&config);
    record(&collected);
    let pipes = spawn(&WorkloadConfig::new(WorkType::pipe_io(64)).workers(10));
    record(&pipes);
    let dropped_running = spawn(&config);
    record(&dropped_running);
    let dropped_unstarted = spawn(&config);
    record(&dropped_unstarted);
    let panicking = spawn(&config);
    record(&panicking);

    let mut collected = collected;
    collected.start();
    let mut dropped_running = dropped_running;
    dropped_running.start();
    thread::sleep(Duration::from_millis(200));
    assert_eq!(collected.stop_and_collect().len(), 10);
    assert_eq!(pipes.stop_and_collect().len(), 10);
    drop(dropped_running);
    drop(dropped_unstarted);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let mut handle = panicking;
        handle.start();
        panic!("test panics while its workers run");
    }));
    assert!(outcome.is_err());

    assert_eq!(recorded.len(), 50);
    let survivors: Vec<i32> = recorded
        .iter()
        .filter(|&&(pid, started)| start_time(pid) == Some(started))
        .map(|&(pid, _)| pid)
        .collect();
    assert!(
        survivors.is_empty(),
        "workers still present (running or zombie): {survivors:?}"
    );
}

#[test]
fn forking_while_other_threads_hold_std_locks_and_allocate() {
    let _serial = crate::serial();
    let stop = Arc::new(AtomicBool::new(false));
    let hammers: Vec<thread::JoinHandle<()>> = (0..4)
        .map(|kind| {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut junk: Vec<Vec<u8>> = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    match kind {
                        0 => {
                            let out = std::io::stdout();
                            let mut lock = out.lock();
                            let _ = lock.flush();
                            print!("");
                        }
                        1 => {
                            let err = std::io::stderr();
                            let mut lock = err.lock();
                            let _ = lock.flush();
                            eprint!("");
                        }
                        2 => {
                            junk.push(vec![7u8; 1 + junk.len() * 97 % 65_536]);
                            if junk.len() > 256 {
                                junk.clear();
                            }
                        }
                        _ => {
                            let _ = std::env::var("PATH");
                            let _ = format!("{:?}", std::env::vars().count());
                        }
                    }
                }
            })
        })
        .collect();
    let configs = [
        WorkloadConfig::new(WorkType::SpinWait).workers(2),
        WorkloadConfig::new(WorkType::pipe_io(64)).workers(2),
        WorkloadConfig::new(WorkType::futex_ping_pong(64)).workers(2),
        WorkloadConfig::new(WorkType::IoSync),
    ];
    let mut failures = Vec::new();
    for round in 0..40 {
        let config = &configs[round % configs.len()];
        for r in run_for(config, Duration::from_millis(20)) {
            if !r.completed {
                failures.push((round, config.work_type.name(), r.exit_info));
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    hammers
        .into_iter()
        .for_each(|h| h.join().expect("hammer thread"));
    assert!(
        failures.is_empty(),
        "workers that did not report: {failures:?}"
    );
}
