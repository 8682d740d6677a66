//! Benchmark checks: pooled wake latency (p99, CV), iteration rate, and migration ratio.

use super::liveness::live;
use super::Judgement;
use crate::assert::math::{cv, nearest_rank};
use crate::assert::{AssertDetail, DetailKind};
use crate::workload::WorkerReport;

/// Every wake latency sample of the live workers, ascending.
pub(crate) fn pooled_latencies(reports: &[WorkerReport]) -> Vec<u64> {
    let mut all: Vec<u64> = live(reports)
        .flat_map(|r| r.resume_latencies_ns.iter().copied())
        .collect();
    all.sort_unstable();
    all
}

/// Why a wake-latency check has nothing to judge.
const NO_WAKE_SAMPLES: &str = "no wake samples: the workers never slept and woke \
     (a work type that blocks, such as FutexPingPong or PipeIo, produces them)";

/// Fails when the nearest-rank p99 of the pooled samples exceeds `max_ns`; not judged without samples.
pub(crate) fn p99_wake_latency(reports: &[WorkerReport], max_ns: u64) -> Judgement {
    let samples = pooled_latencies(reports);
    let Some(p99) = nearest_rank(&samples, 99.0) else {
        return Judgement::not_judged(NO_WAKE_SAMPLES);
    };
    if p99 <= max_ns {
        return Judgement::default();
    }
    let message = format!(
        "p99 wake latency {:.1}us exceeds {:.1}us ({} samples)",
        p99 as f64 / 1000.0,
        max_ns as f64 / 1000.0,
        samples.len()
    );
    Some(AssertDetail::new(DetailKind::Benchmark, message)).into()
}

/// Fails when the pooled samples vary more than `max_cv`; not judged with fewer than two samples.
pub(crate) fn wake_latency_cv(reports: &[WorkerReport], max_cv: f64) -> Judgement {
    let samples: Vec<f64> = pooled_latencies(reports)
        .into_iter()
        .map(|v| v as f64)
        .collect();
    match samples.len() {
        0 => return Judgement::not_judged(NO_WAKE_SAMPLES),
        1 => return Judgement::not_judged("one wake sample: no variation to measure"),
        _ => {}
    }
    let Some(got) = cv(&samples).filter(|c| *c > max_cv) else {
        return Judgement::default();
    };
    let message = format!(
        "wake latency cv={got:.2} exceeds {max_cv} ({} samples)",
        samples.len()
    );
    Some(AssertDetail::new(DetailKind::Benchmark, message)).into()
}

/// Iterations per wall-clock second; a worker without wall time counts as 0.
pub(crate) fn iteration_rate(r: &WorkerReport) -> f64 {
    if r.wall_time_ns == 0 {
        return 0.0;
    }
    r.iterations as f64 * 1e9 / r.wall_time_ns as f64
}

/// One detail per worker below `min` iterations per wall-clock second.
pub(crate) fn min_iteration_rate(reports: &[WorkerReport], min: f64) -> Vec<AssertDetail> {
    live(reports)
        .filter(|r| iteration_rate(r) < min)
        .map(|r| {
            let message = format!(
                "tid {} iteration rate {:.1}/s is below {min}/s",
                r.tid,
                iteration_rate(r)
            );
            AssertDetail::new(DetailKind::Benchmark, message)
        })
        .collect()
}

/// Total migrations and iterations of the live workers.
pub(crate) fn migration_totals(reports: &[WorkerReport]) -> (u64, u64) {
    live(reports).fold((0, 0), |(m, i), r| {
        (m + r.migration_count, i + r.iterations)
    })
}

/// Fails when migrations per iteration exceed `max_ratio`; not judged without iterations.
pub(crate) fn migration_ratio(reports: &[WorkerReport], max_ratio: f64) -> Judgement {
    let (migrations, iterations) = migration_totals(reports);
    if iterations == 0 {
        return Judgement::not_judged("no iterations to relate migrations to");
    }
    let ratio = migrations as f64 / iterations as f64;
    (ratio > max_ratio).then(|| {
        let message =
            format!("migration ratio {ratio:.3} ({migrations} migrations / {iterations} iterations) exceeds {max_ratio}");
        AssertDetail::new(DetailKind::Migration, message)
    })
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::fixture::{dead, worker};
    use crate::workload::ExitInfo;

    fn lat(tid: i32, samples: &[u64]) -> WorkerReport {
        WorkerReport {
            resume_latencies_ns: samples.to_vec(),
            ..worker(tid)
        }
    }

    /// The first failure's message, or `NOT JUDGED` when the check had nothing to judge.
    fn message(j: Judgement) -> Option<String> {
        match (j.failures.first(), j.not_judged) {
            (Some(d), None) => Some(d.message.clone()),
            (None, Some(_)) => Some("NOT JUDGED".into()),
            (None, None) => None,
            (Some(_), Some(why)) => panic!("failed and not judged ({why})"),
        }
    }

    #[test]
    fn p99_pools_the_samples_of_all_workers() {
        let low: Vec<u64> = vec![1_000; 99];
        let cases = [
            (vec![], Some("NOT JUDGED")),
            (vec![lat(1, &[])], Some("NOT JUDGED")),
            (vec![lat(1, &low), lat(2, &[2_000])], None),
            (
                vec![lat(1, &low), lat(2, &[9_000, 9_000])],
                Some("p99 wake latency 9.0us exceeds 5.0us (101 samples)"),
            ),
            (
                vec![lat(1, &[6_000])],
                Some("p99 wake latency 6.0us exceeds 5.0us (1 samples)"),
            ),
        ];
        for (reports, want) in cases {
            assert_eq!(message(p99_wake_latency(&reports, 5_000)).as_deref(), want);
        }
    }

    #[test]
    fn samples_of_dead_workers_are_not_pooled() {
        let ghost = WorkerReport {
            resume_latencies_ns: vec![1_000_000],
            ..dead(2, ExitInfo::TimedOut)
        };
        assert_eq!(pooled_latencies(&[lat(1, &[5, 3]), ghost]), [3, 5]);
    }

    #[test]
    fn varying_latencies_fail_the_cv_check() {
        let cases = [
            (vec![], Some("NOT JUDGED")),
            (vec![lat(1, &[100])], Some("NOT JUDGED")),
            (vec![lat(1, &[100, 100, 100])], None),
            (
                vec![lat(1, &[100]), lat(2, &[300])],
                Some("wake latency cv=0.50 exceeds 0.4 (2 samples)"),
            ),
        ];
        for (reports, want) in cases {
            let got = wake_latency_cv(&reports, 0.4);
            assert!(got.failures.iter().all(|d| d.kind == DetailKind::Benchmark));
            assert_eq!(message(got).as_deref(), want);
        }
    }

    #[test]
    fn slow_iterating_workers_fail_the_rate_floor() {
        let slow = WorkerReport {
            iterations: 10,
            ..worker(2)
        };
        let no_wall = WorkerReport {
            wall_time_ns: 0,
            ..worker(3)
        };
        let cases = [
            (vec![worker(1)], vec![]),
            (
                vec![worker(1), slow],
                vec!["tid 2 iteration rate 10.0/s is below 500/s"],
            ),
            (
                vec![no_wall],
                vec!["tid 3 iteration rate 0.0/s is below 500/s"],
            ),
        ];
        for (reports, want) in cases {
            let got = min_iteration_rate(&reports, 500.0);
            assert_eq!(
                got.iter().map(|d| d.message.as_str()).collect::<Vec<_>>(),
                want
            );
        }
    }

    #[test]
    fn too_many_migrations_per_iteration_fail() {
        let mig = |tid, m| WorkerReport {
            migration_count: m,
            ..worker(tid)
        };
        let no_iter = WorkerReport {
            iterations: 0,
            migration_count: 5,
            ..worker(3)
        };
        let cases = [
            (vec![mig(1, 10), mig(2, 90)], None),
            (vec![no_iter], Some("NOT JUDGED")),
            (
                vec![mig(1, 10), mig(2, 91)],
                Some("migration ratio 0.051 (101 migrations / 2000 iterations) exceeds 0.05"),
            ),
        ];
        for (reports, want) in cases {
            let got = migration_ratio(&reports, 0.05);
            assert!(got.failures.iter().all(|d| d.kind == DetailKind::Migration));
            assert_eq!(message(got).as_deref(), want);
        }
    }
}
