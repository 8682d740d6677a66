//! Per-cgroup and whole-scenario statistics, and their worst-case folding.

use serde::{Deserialize, Serialize};

/// What one cgroup's workers measured, summarized. Zero where nothing was measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CgroupStats {
    /// Empty until labelled with `AssertResult::with_cgroup_name`.
    pub name: String,
    /// Every worker of the cgroup, including those that died.
    pub num_workers: usize,
    pub num_cpus: usize,
    pub avg_off_cpu_pct: f64,
    pub min_off_cpu_pct: f64,
    pub max_off_cpu_pct: f64,
    /// `max_off_cpu_pct - min_off_cpu_pct`, in percentage points.
    pub spread: f64,
    /// The spread the fairness check judged: the widest pair's difference less its timeslice noise.
    #[serde(default)]
    pub spread_lower_bound: f64,
    /// How idle the cgroup's CPUs were while its workers ran, in percent; `None` when not measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus_idle_pct: Option<f64>,
    /// The fewest timeslices a live worker ran (schedstats); 0 when not measured.
    #[serde(default)]
    pub min_timeslices: u64,
    pub max_gap_ms: u64,
    pub max_gap_cpu: usize,
    pub total_migrations: u64,
    /// Total migrations over total iterations.
    pub migration_ratio: f64,
    pub p99_wake_latency_us: f64,
    pub median_wake_latency_us: f64,
    pub wake_latency_cv: f64,
    pub total_iterations: u64,
    pub total_work_units: u64,
    /// Mean over workers of each worker's total run-queue wait.
    pub mean_run_delay_us: f64,
    /// Largest total run-queue wait of a single worker.
    pub worst_run_delay_us: f64,
    /// Total iterations over `num_workers`.
    pub iterations_per_worker: f64,
}

/// Statistics of a whole scenario: every cgroup plus worst-case and summed totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScenarioStats {
    pub cgroups: Vec<CgroupStats>,
    pub total_workers: usize,
    /// The widest cgroup's CPU count (cgroups may share CPUs, so counts are not summed).
    pub total_cpus: usize,
    pub total_migrations: u64,
    pub worst_spread: f64,
    pub worst_gap_ms: u64,
    pub worst_gap_cpu: usize,
    pub worst_migration_ratio: f64,
    pub worst_p99_wake_latency_us: f64,
    pub worst_wake_latency_cv: f64,
    pub total_iterations: u64,
    pub worst_mean_run_delay_us: f64,
    pub worst_run_delay_us: f64,
}

impl ScenarioStats {
    /// Statistics of a scenario made of one cgroup.
    pub fn from_cgroup(cg: CgroupStats) -> Self {
        ScenarioStats {
            total_workers: cg.num_workers,
            total_cpus: cg.num_cpus,
            total_migrations: cg.total_migrations,
            worst_spread: cg.spread,
            worst_gap_ms: cg.max_gap_ms,
            worst_gap_cpu: cg.max_gap_cpu,
            worst_migration_ratio: cg.migration_ratio,
            worst_p99_wake_latency_us: cg.p99_wake_latency_us,
            worst_wake_latency_cv: cg.wake_latency_cv,
            total_iterations: cg.total_iterations,
            worst_mean_run_delay_us: cg.mean_run_delay_us,
            worst_run_delay_us: cg.worst_run_delay_us,
            cgroups: vec![cg],
        }
    }

    /// Folds two scenarios: cgroups appended, counts summed, `worst_*` the larger.
    pub fn merge(mut self, other: ScenarioStats) -> Self {
        if other.worst_gap_ms > self.worst_gap_ms {
            self.worst_gap_ms = other.worst_gap_ms;
            self.worst_gap_cpu = other.worst_gap_cpu;
        }
        self.cgroups.extend(other.cgroups);
        self.total_workers += other.total_workers;
        self.total_cpus = self.total_cpus.max(other.total_cpus);
        self.total_migrations += other.total_migrations;
        self.total_iterations += other.total_iterations;
        self.worst_spread = self.worst_spread.max(other.worst_spread);
        self.worst_migration_ratio = self.worst_migration_ratio.max(other.worst_migration_ratio);
        self.worst_p99_wake_latency_us = self
            .worst_p99_wake_latency_us
            .max(other.worst_p99_wake_latency_us);
        self.worst_wake_latency_cv = self.worst_wake_latency_cv.max(other.worst_wake_latency_cv);
        self.worst_mean_run_delay_us = self
            .worst_mean_run_delay_us
            .max(other.worst_mean_run_delay_us);
        self.worst_run_delay_us = self.worst_run_delay_us.max(other.worst_run_delay_us);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cg(name: &str, workers: usize, cpus: usize, spread: f64, gap: (u64, usize)) -> CgroupStats {
        CgroupStats {
            name: name.into(),
            num_workers: workers,
            num_cpus: cpus,
            spread,
            max_gap_ms: gap.0,
            max_gap_cpu: gap.1,
            total_migrations: 4,
            migration_ratio: spread / 100.0,
            p99_wake_latency_us: spread * 10.0,
            wake_latency_cv: spread / 10.0,
            total_iterations: 1000,
            mean_run_delay_us: gap.0 as f64,
            worst_run_delay_us: gap.0 as f64 * 2.0,
            ..CgroupStats::default()
        }
    }

    #[test]
    fn merge_sums_counts_and_keeps_worst_values() {
        let a = ScenarioStats::from_cgroup(cg("a", 2, 2, 5.0, (3500, 1)));
        let b = ScenarioStats::from_cgroup(cg("b", 3, 4, 12.0, (800, 3)));
        let m = a.merge(b);
        assert_eq!(
            m.cgroups
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(
            (
                m.total_workers,
                m.total_cpus,
                m.total_migrations,
                m.total_iterations
            ),
            (5, 4, 8, 2000)
        );
        assert_eq!((m.worst_gap_ms, m.worst_gap_cpu), (3500, 1));
        assert_eq!(m.worst_spread, 12.0);
        assert_eq!(m.worst_migration_ratio, 0.12);
        assert_eq!(m.worst_p99_wake_latency_us, 120.0);
        assert_eq!(m.worst_wake_latency_cv, 1.2);
        assert_eq!(
            (m.worst_mean_run_delay_us, m.worst_run_delay_us),
            (3500.0, 7000.0)
        );
    }

    #[test]
    fn merge_takes_the_cpu_of_the_larger_gap() {
        let a = ScenarioStats::from_cgroup(cg("a", 1, 1, 0.0, (100, 1)));
        let b = ScenarioStats::from_cgroup(cg("b", 1, 1, 0.0, (900, 7)));
        let m = a.merge(b);
        assert_eq!((m.worst_gap_ms, m.worst_gap_cpu), (900, 7));
    }

    #[test]
    fn empty_stats_are_the_merge_identity() {
        let one = ScenarioStats::from_cgroup(cg("a", 2, 2, 5.0, (10, 0)));
        assert_eq!(ScenarioStats::default().merge(one.clone()), one);
        assert_eq!(one.clone().merge(ScenarioStats::default()), one);
    }
}
