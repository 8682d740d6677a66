//! `Assert::assert_cgroup`: runs the enabled checks over one cgroup's reports.

use super::checks::{benchmark, fairness, isolation, liveness, throughput, Judgement};
use super::measure::{cgroup_stats, cpu_count};
use super::phase::{allowed_union, CpusetPhase};
use super::{Assert, AssertDetail, AssertResult, DetailKind, ScenarioStats};
use crate::topology::CpuSet;
use crate::workload::WorkerReport;

impl Assert {
    /// Judges one cgroup's worker reports and summarizes them in one unnamed `CgroupStats`.
    ///
    /// Dead or incomplete workers always fail. `not_starved = Some(true)` runs the starvation, gap
    /// and spread checks; isolation runs when `isolation = Some(true)` and a cpuset is given; every
    /// other check runs when its threshold is set. Label the stats with
    /// [`AssertResult::with_cgroup_name`]. Invalid thresholds fail with the `validate` message.
    ///
    /// ```
    /// use ktstr::assert::Assert;
    /// use ktstr::workload::WorkerReport;
    /// let starved = WorkerReport { tid: 42, completed: true, ..Default::default() };
    /// let r = Assert::default_checks().assert_cgroup(&[starved], None);
    /// assert!(!r.passed);
    /// assert_eq!(r.details[0].message, "tid 42 starved (0 work units)");
    /// ```
    pub fn assert_cgroup(&self, reports: &[WorkerReport], cpuset: Option<&CpuSet>) -> AssertResult {
        let phases = [CpusetPhase::from_start(cpuset.cloned())];
        self.assert_cgroup_under(reports, &phases, None, &[])
    }

    /// `assert_cgroup` over the cpusets the cgroup had while its workers ran (`phases`, isolation is
    /// judged against each in turn), recording how idle its CPUs were (`idle_pct`, from
    /// [`crate::workload::CpuTimes`]); `cohorts` are the report indices where workers moved in mid-run
    /// begin, whose spread is judged apart.
    pub(crate) fn assert_cgroup_under(
        &self,
        reports: &[WorkerReport],
        phases: &[CpusetPhase],
        idle_pct: Option<f64>,
        cohorts: &[usize],
    ) -> AssertResult {
        let num_cpus = cpu_count(reports, allowed_union(phases).as_ref());
        let mut result = AssertResult::pass();
        result.stats = ScenarioStats::from_cgroup(cgroup_stats(reports, num_cpus, idle_pct));
        if let Err(e) = self.validate() {
            result.push_failure(AssertDetail::new(DetailKind::Other, e.to_string()));
            return result;
        }
        for detail in liveness::worker_deaths(reports) {
            result.push_failure(detail);
        }
        for (check, judgement) in self.judgements(reports, phases, cohorts, num_cpus) {
            for detail in judgement.failures {
                result.push_failure(detail);
            }
            if let Some(reason) = judgement.not_judged {
                result.push_not_judged(check, reason);
            }
        }
        result
    }

    /// Every enabled check's judgement, named as a person names the check.
    fn judgements(
        &self,
        reports: &[WorkerReport],
        phases: &[CpusetPhase],
        cohorts: &[usize],
        num_cpus: usize,
    ) -> Vec<(&'static str, Judgement)> {
        let mut out = Vec::new();
        let starvation = self.not_starved == Some(true);
        if starvation {
            out.push(("starvation", liveness::starvation(reports).into()));
        }
        let restricted = phases.iter().any(|p| p.cpus.is_some());
        if self.isolation == Some(true) && restricted {
            out.push(("isolation", isolation::isolation(reports, phases)));
        }
        if starvation {
            out.push((
                "scheduling gap",
                liveness::scheduling_gap(reports, self.gap_limit()),
            ));
            out.push((
                "fairness spread",
                fairness::fairness_by_cohort(reports, cohorts, num_cpus, self.spread_limit()),
            ));
        }
        if let Some(max) = self.max_throughput_cv {
            out.push(("throughput cv", throughput::throughput_cv(reports, max)));
        }
        if let Some(min) = self.min_work_rate {
            out.push(("work rate", throughput::min_work_rate(reports, min).into()));
        }
        if let Some(max) = self.max_p99_wake_latency_ns {
            out.push((
                "p99 wake latency",
                benchmark::p99_wake_latency(reports, max),
            ));
        }
        if let Some(max) = self.max_wake_latency_cv {
            out.push(("wake latency cv", benchmark::wake_latency_cv(reports, max)));
        }
        if let Some(min) = self.min_iteration_rate {
            out.push((
                "iteration rate",
                benchmark::min_iteration_rate(reports, min).into(),
            ));
        }
        if let Some(max) = self.max_migration_ratio {
            out.push(("migration ratio", benchmark::migration_ratio(reports, max)));
        }
        if liveness::live(reports).next().is_none() {
            for (_, judgement) in &mut out {
                if judgement.failures.is_empty() && judgement.not_judged.is_none() {
                    *judgement = Judgement::not_judged("no worker sent a report");
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::fixture::{dead, worker};
    use crate::workload::ExitInfo;

    fn kinds(r: &AssertResult) -> Vec<DetailKind> {
        r.details.iter().map(|d| d.kind).collect()
    }

    type Spoil = fn(&mut WorkerReport);

    /// Each enabled check passes healthy workers and fails its bad fixture.
    #[test]
    fn each_enabled_check_fails_its_bad_fixture() {
        use DetailKind::*;
        let on = Assert::default_checks();
        let none = Assert::NO_OVERRIDES;
        #[rustfmt::skip]
        let cases: [(&str, Assert, Spoil, DetailKind); 11] = [
            ("starved", on, |r| r.work_units = 0, Starved),
            ("stuck", on, |r| r.max_gap_ms = 9000, Stuck),
            ("unfair", on, |r| r.off_cpu_ns = 900_000_000, Unfair),
            ("isolation", none.check_isolation(), |r| r.cpus_used = vec![6], Isolation),
            ("cv", none.max_throughput_cv(0.2), |r| r.work_units = 9000, Throughput),
            ("rate", none.min_work_rate(1000.0), |r| r.work_units = 10, Throughput),
            ("p99", none.max_p99_wake_latency_ns(5000), |r| r.resume_latencies_ns = vec![9000], Benchmark),
            ("lat cv", none.max_wake_latency_cv(0.1), |r| r.resume_latencies_ns = vec![1, 900], Benchmark),
            ("iter", none.min_iteration_rate(500.0), |r| r.iterations = 5, Benchmark),
            ("mig", none.max_migration_ratio(0.1), |r| r.migration_count = 900, Migration),
            ("died", none, |r| r.exit_info = Some(ExitInfo::Exited(1)), WorkerDied),
        ];
        let cpuset = CpuSet::from_range(0..2);
        for (name, a, spoil, kind) in cases {
            let good = a.assert_cgroup(&[worker(1), worker(2)], Some(&cpuset));
            assert!(
                good.passed && good.details.is_empty(),
                "{name}: healthy workers failed: {good:?}"
            );
            let mut bad = worker(2);
            spoil(&mut bad);
            let r = a.assert_cgroup(&[worker(1), bad], Some(&cpuset));
            assert!(!r.passed, "{name}: bad fixture passed");
            assert_eq!(kinds(&r), [kind], "{name}: {:?}", r.details);
        }
    }

    #[test]
    fn disabled_checks_do_not_run() {
        let starved = WorkerReport {
            work_units: 0,
            max_gap_ms: 9000,
            cpus_used: vec![7],
            ..worker(9)
        };
        let cpuset = CpuSet::from_range(0..2);
        let off = Assert::default_checks().merge(&Assert::NO_OVERRIDES.no_starvation_check());
        assert!(
            off.assert_cgroup(&[worker(1), starved.clone()], Some(&cpuset))
                .passed
        );
        let isolation_without_cpuset = Assert::NO_OVERRIDES.check_isolation();
        assert!(
            isolation_without_cpuset
                .assert_cgroup(&[starved], None)
                .passed
        );
    }

    #[test]
    fn dead_workers_fail_even_with_no_checks() {
        let r =
            Assert::NO_OVERRIDES.assert_cgroup(&[worker(1), dead(2, ExitInfo::Signaled(11))], None);
        assert!(!r.passed);
        assert_eq!(
            r.details[0].message,
            "tid 2 was killed by signal 11 (SIGSEGV) before sending its report"
        );
        assert_eq!(r.stats.total_workers, 2);
    }

    #[test]
    fn invalid_thresholds_fail_with_the_fix() {
        let r = Assert::default_checks()
            .max_spread_pct(f64::NAN)
            .assert_cgroup(&[worker(1)], None);
        assert!(!r.passed);
        assert_eq!(kinds(&r), [DetailKind::Other]);
        assert!(
            r.details[0].message.contains("max_spread_pct"),
            "{}",
            r.details[0].message
        );
    }

    #[test]
    fn no_reports_pass_with_empty_stats() {
        let a = Assert::default_checks()
            .max_p99_wake_latency_ns(1)
            .min_iteration_rate(1.0);
        let r = a.assert_cgroup(&[], None);
        assert!(r.passed && !r.skipped && r.details.is_empty(), "{r:?}");
        assert_eq!(r.stats.cgroups.len(), 1);
    }

    #[test]
    fn stats_report_the_cpuset_size_and_the_worst_gap() {
        let slow = WorkerReport {
            max_gap_ms: 4500,
            max_gap_cpu: 1,
            ..worker(2)
        };
        let r = Assert::default_checks()
            .assert_cgroup(&[worker(1), slow], Some(&CpuSet::from_range(0..4)));
        assert_eq!(
            (
                r.stats.total_cpus,
                r.stats.worst_gap_ms,
                r.stats.worst_gap_cpu
            ),
            (4, 4500, 1)
        );
        assert_eq!(kinds(&r), [DetailKind::Stuck]);
    }
}
