//! Each worker check fails when it should, on real forked workers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ktstr::cgroup::MemCgroups;
use ktstr::prelude::*;
use ktstr::workload::{AffinityMode, WorkerReport, WorkloadConfig, WorkloadHandle};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

fn run(config: &WorkloadConfig, during: impl FnOnce(&[i32])) -> Vec<WorkerReport> {
    let mut handle = WorkloadHandle::spawn(config).unwrap();
    handle.start();
    during(&handle.worker_pids());
    handle.stop_and_collect()
}

#[test]
fn a_worker_stopped_for_3s_fails_the_gap_check() {
    let _serial = crate::serial();
    let config = WorkloadConfig::new(WorkType::SpinWait).workers(2);
    let reports = run(&config, |pids| {
        std::thread::sleep(Duration::from_millis(200));
        kill(Pid::from_raw(pids[0]), Signal::SIGSTOP).unwrap();
        std::thread::sleep(Duration::from_secs(3));
        kill(Pid::from_raw(pids[0]), Signal::SIGCONT).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    });
    let stopped = reports.iter().find(|r| r.index == 0).unwrap();
    assert!(stopped.max_gap_ms >= 3000, "gap {} ms", stopped.max_gap_ms);
    let checks = Assert::default_checks();
    let result = checks.assert_cgroup(&reports, None);
    assert!(!result.passed);
    assert!(
        result.details.iter().any(|d| d.kind == DetailKind::Stuck),
        "{:?}",
        result.details
    );
    // The same workers without the stop pass: the check is not failing on everything.
    let clean = run(&config, |_| std::thread::sleep(Duration::from_millis(500)));
    let result = checks.assert_cgroup(&clean, None);
    assert!(result.passed, "{:?}", result.details);
}

fn idle_until_stopped(stop: &AtomicBool) -> WorkerReport {
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(5));
    }
    WorkerReport {
        completed: true,
        ..WorkerReport::default()
    }
}

#[test]
fn zero_work_fails_the_starvation_check() {
    let _serial = crate::serial();
    let config = WorkloadConfig::new(WorkType::custom("Idle", idle_until_stopped)).workers(1);
    let reports = run(&config, |_| std::thread::sleep(Duration::from_millis(200)));
    assert_eq!(reports[0].work_units, 0);
    let result = Assert::default_checks().assert_cgroup(&reports, None);
    assert!(!result.passed);
    assert!(
        result.details.iter().any(|d| d.kind == DetailKind::Starved),
        "{:?}",
        result.details
    );
}

#[test]
fn a_worker_outside_its_cpuset_fails_the_isolation_check() {
    let _serial = crate::serial();
    let config = WorkloadConfig::new(WorkType::SpinWait)
        .workers(1)
        .affinity(AffinityMode::SingleCpu(0));
    let reports = run(&config, |_| std::thread::sleep(Duration::from_millis(300)));
    assert_eq!(reports[0].cpus_used, vec![0]);
    let isolated = Assert::default_checks().check_isolation();
    let outside = CpuSet::parse("1").unwrap();
    let result = isolated.assert_cgroup(&reports, Some(&outside));
    assert!(!result.passed);
    assert!(
        result
            .details
            .iter()
            .any(|d| d.kind == DetailKind::Isolation),
        "{:?}",
        result.details
    );
    let inside = CpuSet::parse("0").unwrap();
    assert!(isolated.assert_cgroup(&reports, Some(&inside)).passed);
}

#[test]
fn unbalanced_workers_fail_the_spread_check() {
    let _serial = crate::serial();
    // Four workers share CPU 0; one is SCHED_FIFO and takes nearly all of it (RT throttling leaves the
    // others ~5 %), whatever else the machine runs. Off-CPU time: ~5 % against ~98 %.
    let topo = TestTopology::from_sysfs().unwrap();
    let cgroups = MemCgroups::new();
    let ctx = Ctx::builder(&cgroups, &topo)
        .duration(Duration::from_secs(1))
        .build();
    let cpu0 = || Work::new(WorkType::SpinWait).affinity(AffinityIntent::exact([0]));
    let def = CgroupDef::named("unbalanced")
        .push_work(cpu0().workers(1).sched_policy(SchedPolicy::fifo(1)))
        .push_work(cpu0().workers(3));
    let result = execute_defs(&ctx, vec![def]).unwrap();
    assert!(!result.passed, "{:#?}", result.stats);
    assert!(
        result.details.iter().any(|d| d.kind == DetailKind::Unfair),
        "{:?}",
        result.details
    );
    // The same CPU shared by equals is fair.
    let balanced = CgroupDef::named("balanced").push_work(cpu0().workers(4));
    let result = execute_defs(&ctx, vec![balanced]).unwrap();
    assert!(result.passed, "{:?} {:#?}", result.details, result.stats);
}
