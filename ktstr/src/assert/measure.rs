//! Summarizes one cgroup's worker reports into `CgroupStats`.

use super::checks::benchmark::{migration_totals, pooled_latencies};
use super::checks::fairness::{comparable, min_max, off_cpu_pcts, spread_lower_bound};
use super::checks::liveness::live;
use super::math::{cv, mean, nearest_rank};
use super::CgroupStats;
use crate::topology::CpuSet;
use crate::workload::WorkerReport;

/// CPUs the cgroup may use: its cpuset, else every CPU a live worker was seen on.
pub(crate) fn cpu_count(reports: &[WorkerReport], cpuset: Option<&CpuSet>) -> usize {
    match cpuset {
        Some(set) => set.len(),
        None => live(reports)
            .flat_map(|r| r.cpus_used.iter().copied())
            .collect::<CpuSet>()
            .len(),
    }
}

/// Statistics of the live workers; `num_workers` counts dead ones too.
pub(crate) fn cgroup_stats(
    reports: &[WorkerReport],
    num_cpus: usize,
    idle_pct: Option<f64>,
) -> CgroupStats {
    let pcts = off_cpu_pcts(reports);
    let (shares, _) = comparable(reports);
    let (min_off, max_off) = min_max(&pcts).unwrap_or((0.0, 0.0));
    let gap = live(reports).max_by_key(|r| r.max_gap_ms);
    let (total_migrations, total_iterations) = migration_totals(reports);
    let latencies = pooled_latencies(reports);
    let latencies_f: Vec<f64> = latencies.iter().map(|v| *v as f64).collect();
    let delays_us: Vec<f64> = live(reports)
        .map(|r| r.schedstat_run_delay_ns as f64 / 1000.0)
        .collect();
    let us = |pct| nearest_rank(&latencies, pct).map_or(0.0, |ns| ns as f64 / 1000.0);
    CgroupStats {
        name: String::new(),
        num_workers: reports.len(),
        num_cpus,
        avg_off_cpu_pct: mean(&pcts).unwrap_or(0.0),
        min_off_cpu_pct: min_off,
        max_off_cpu_pct: max_off,
        spread: max_off - min_off,
        spread_lower_bound: spread_lower_bound(&shares).unwrap_or(0.0),
        cpus_idle_pct: idle_pct,
        min_timeslices: live(reports)
            .map(|r| r.schedstat_run_count)
            .min()
            .unwrap_or(0),
        max_gap_ms: gap.map_or(0, |r| r.max_gap_ms),
        max_gap_cpu: gap.map_or(0, |r| r.max_gap_cpu),
        total_migrations,
        migration_ratio: ratio(total_migrations, total_iterations),
        p99_wake_latency_us: us(99.0),
        median_wake_latency_us: us(50.0),
        wake_latency_cv: cv(&latencies_f).unwrap_or(0.0),
        total_iterations,
        total_work_units: live(reports).map(|r| r.work_units).sum(),
        mean_run_delay_us: mean(&delays_us).unwrap_or(0.0),
        worst_run_delay_us: min_max(&delays_us).map_or(0.0, |(_, hi)| hi),
        iterations_per_worker: ratio(total_iterations, reports.len() as u64),
    }
}

/// `num / den`, or 0 when `den` is 0.
fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::fixture::{dead, worker};
    use crate::workload::ExitInfo;

    #[test]
    fn stats_summarize_live_workers() {
        let a = WorkerReport {
            off_cpu_ns: 50_000_000,
            max_gap_ms: 40,
            max_gap_cpu: 3,
            migration_count: 6,
            resume_latencies_ns: vec![1_000, 3_000],
            schedstat_run_delay_ns: 20_000,
            ..worker(1)
        };
        let b = WorkerReport {
            off_cpu_ns: 150_000_000,
            migration_count: 4,
            resume_latencies_ns: vec![2_000],
            schedstat_run_delay_ns: 60_000,
            ..worker(2)
        };
        let s = cgroup_stats(&[a, b, dead(3, ExitInfo::Signaled(9))], 2, None);
        assert_eq!((s.num_workers, s.num_cpus), (3, 2));
        assert_eq!(
            (
                s.min_off_cpu_pct,
                s.max_off_cpu_pct,
                s.avg_off_cpu_pct,
                s.spread
            ),
            (5.0, 15.0, 10.0, 10.0)
        );
        assert_eq!((s.max_gap_ms, s.max_gap_cpu), (40, 3));
        assert_eq!(
            (s.total_migrations, s.total_iterations, s.total_work_units),
            (10, 2000, 2000)
        );
        assert_eq!(s.migration_ratio, 0.005);
        assert_eq!(
            (s.p99_wake_latency_us, s.median_wake_latency_us),
            (3.0, 2.0)
        );
        assert!(
            (s.wake_latency_cv - (2.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-12,
            "{}",
            s.wake_latency_cv
        );
        assert_eq!((s.mean_run_delay_us, s.worst_run_delay_us), (40.0, 60.0));
        assert!((s.iterations_per_worker - 2000.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn stats_of_no_measurements_are_zero_not_nan() {
        for reports in [vec![], vec![dead(1, ExitInfo::TimedOut)]] {
            let s = cgroup_stats(&reports, 0, None);
            let json = serde_json::to_string(&s).expect("stats serialize");
            assert!(!json.contains("null"), "{json}");
            assert_eq!(
                (
                    s.spread,
                    s.migration_ratio,
                    s.p99_wake_latency_us,
                    s.iterations_per_worker
                ),
                (0.0, 0.0, 0.0, 0.0)
            );
        }
    }

    #[test]
    fn cpu_count_prefers_the_cpuset() {
        let a = WorkerReport {
            cpus_used: vec![0, 1],
            ..worker(1)
        };
        let b = WorkerReport {
            cpus_used: vec![1, 5],
            ..worker(2)
        };
        let reports = [a, b];
        assert_eq!(cpu_count(&reports, None), 3);
        assert_eq!(cpu_count(&reports, Some(&CpuSet::from_range(0..8))), 8);
    }
}
