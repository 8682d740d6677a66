//! Up to J VM trials at once, outside a test binary's libtest loop (`ktstr run --vm`, benches): each trial
//! on a worker thread of its own, the next taken from a shared queue as one finishes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::progress::{Progress, Row};
use super::{run_vm_test, HarnessError, Standing, TrialOutcome, VmTest};

/// Runs every test of `tests`, `jobs` at a time, keeping `progress` up to date, and calls `done` as each
/// finishes (from its worker thread, one call at a time, so what it prints stays whole). Returns the
/// results in `tests`' order.
pub fn run_parallel(
    tests: &[VmTest],
    jobs: usize,
    progress: &Progress,
    done: impl Fn(&VmTest, &Result<TrialOutcome, HarnessError>) + Sync,
) -> Vec<Result<TrialOutcome, HarnessError>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<TrialOutcome, HarnessError>>>> =
        Mutex::new((0..tests.len()).map(|_| None).collect());
    let report = Mutex::new(());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, tests.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(test) = tests.get(i) else { break };
                progress.begin();
                let started = std::time::Instant::now();
                let result = run_vm_test(test);
                {
                    let _one_at_a_time = report.lock().unwrap_or_else(|p| p.into_inner());
                    done(test, &result);
                }
                progress.end(Row {
                    name: test.trial_name(),
                    outcome: result
                        .as_ref()
                        .map_or("not run".into(), |o| format!("{:?}", o.kind)),
                    standing: result.as_ref().map_or(Standing::Unexpected, |o| {
                        test.standing(o.kind, &o.reason, &o.detail_kinds())
                    }),
                    wall: started.elapsed(),
                });
                results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| r.expect("every index below the length was taken by a worker"))
        .collect()
}

/// VMs at once when `--test-threads` is not given: half the host's CPUs (a TCG vCPU keeps a host thread
/// busy, and timed checks need the guest not to wait for one), at most one per 2 GiB of available memory.
pub fn default_jobs() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let available_mb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<usize>().ok())
        })
        .map_or(2048, |kb| kb / 1024);
    (cpus / 2).min(available_mb / 2048).max(1)
}
