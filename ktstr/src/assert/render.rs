//! Human rendering of a verdict: a header line, the details, and a stats block.

use super::{AssertResult, CgroupStats, DetailKind, ScenarioStats};

/// What the verdict header names: the test, its scheduler (none for the kernel default), its topology.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportHeader {
    pub test: String,
    pub scheduler: Option<String>,
    pub topology: Option<String>,
}

impl AssertResult {
    /// Renders the verdict for a person; the stats block appears when any cgroup was measured.
    ///
    /// ```
    /// use ktstr::assert::{AssertResult, ReportHeader};
    /// let header = ReportHeader { test: "t".into(), scheduler: None, topology: Some("1n1l2c1t".into()) };
    /// assert_eq!(AssertResult::pass().format_human(&header), "ktstr_test 't' [topo=1n1l2c1t] passed\n");
    /// ```
    pub fn format_human(&self, header: &ReportHeader) -> String {
        let mut out = format!("ktstr_test '{}'", header.test);
        if let Some(sched) = &header.scheduler {
            out += &format!(" [sched={sched}]");
        }
        if let Some(topo) = &header.topology {
            out += &format!(" [topo={topo}]");
        }
        let shown: Vec<&str> = if self.passed && self.skipped {
            let reasons: Vec<&str> = self
                .details
                .iter()
                .filter(|d| d.kind == DetailKind::Skip)
                .map(|d| d.message.as_str())
                .collect();
            out += &format!(" skipped: {}\n", reasons.join("; "));
            self.details
                .iter()
                .filter(|d| d.kind != DetailKind::Skip)
                .map(|d| d.message.as_str())
                .collect()
        } else {
            out += if self.passed {
                " passed\n"
            } else {
                " failed:\n"
            };
            self.details.iter().map(|d| d.message.as_str()).collect()
        };
        for message in shown {
            out += &format!("  {message}\n");
        }
        for n in &self.not_judged {
            let cgroup = match n.cgroup.as_str() {
                "" => String::new(),
                name => format!(" ({name})"),
            };
            out += &format!("  not judged: {}{cgroup}: {}\n", n.check, n.reason);
        }
        if !self.stats.cgroups.is_empty() {
            out += "\n";
            render_stats(&mut out, &self.stats);
        }
        out
    }
}

fn render_stats(out: &mut String, s: &ScenarioStats) {
    *out += &format!(
        "--- stats ---\n{} workers, {} cpus, {} migrations, worst_spread={:.1}%, worst_gap={}ms",
        s.total_workers, s.total_cpus, s.total_migrations, s.worst_spread, s.worst_gap_ms
    );
    if s.worst_p99_wake_latency_us > 0.0 {
        *out += &format!(", worst_p99_wake={:.1}us", s.worst_p99_wake_latency_us);
    }
    out.push('\n');
    for (i, cg) in s.cgroups.iter().enumerate() {
        render_cgroup(out, i, cg);
    }
}

fn render_cgroup(out: &mut String, index: usize, cg: &CgroupStats) {
    let name = if cg.name.is_empty() {
        format!("cgroup{index}")
    } else {
        cg.name.clone()
    };
    *out += &format!(
        "  {name}: workers={} cpus={} spread={:.1}% gap={}ms migrations={} iter={}",
        cg.num_workers,
        cg.num_cpus,
        cg.spread,
        cg.max_gap_ms,
        cg.total_migrations,
        cg.total_iterations
    );
    if cg.p99_wake_latency_us > 0.0 {
        *out += &format!(" p99_wake={:.1}us", cg.p99_wake_latency_us);
    }
    if let Some(idle) = cg.cpus_idle_pct {
        *out += &format!(" cpus_idle={idle:.0}%");
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::{AssertDetail, DetailKind};

    fn header(scheduler: Option<&str>) -> ReportHeader {
        ReportHeader {
            test: "two_cgroups".into(),
            scheduler: scheduler.map(String::from),
            topology: Some("1n1l2c1t".into()),
        }
    }

    fn cgroup(name: &str, spread: f64, gap: u64, iterations: u64) -> AssertResult {
        let cg = CgroupStats {
            name: name.into(),
            num_workers: 2,
            num_cpus: 2,
            spread,
            max_gap_ms: gap,
            max_gap_cpu: 1,
            total_migrations: 4,
            total_iterations: iterations,
            ..CgroupStats::default()
        };
        AssertResult {
            stats: ScenarioStats::from_cgroup(cg),
            ..AssertResult::pass()
        }
    }

    fn failed_two_cgroups() -> AssertResult {
        let mut r = cgroup("cg_0", 5.1, 3500, 15230).merge(cgroup("cg_1", 12.3, 890, 14870));
        r.push_failure(AssertDetail::new(
            DetailKind::Stuck,
            "stuck 3500ms on cpu1 at +1200ms",
        ));
        r.push_failure(AssertDetail::new(
            DetailKind::Unfair,
            "unfair cgroup: spread=41% (3-44%) 2 workers on 2 cpus",
        ));
        r
    }

    #[test]
    fn failed_verdict_lists_details_and_stats() {
        insta::assert_snapshot!(failed_two_cgroups().format_human(&header(Some("scx_foo"))));
    }

    #[test]
    fn kernel_default_scheduler_has_no_sched_bracket() {
        let text = failed_two_cgroups().format_human(&header(None));
        assert!(
            text.starts_with("ktstr_test 'two_cgroups' [topo=1n1l2c1t] failed:\n"),
            "{text}"
        );
    }

    #[test]
    fn passed_verdict_with_latency_stats() {
        let mut r = cgroup("cg_0", 2.0, 40, 1000);
        r.stats.cgroups[0].p99_wake_latency_us = 85.25;
        r.stats.worst_p99_wake_latency_us = 85.25;
        insta::assert_snapshot!(r.format_human(&header(Some("scx_simple"))));
    }

    #[test]
    fn skipped_verdict_names_its_reasons() {
        let r = AssertResult::skip("no kernel found").merge(AssertResult::skip("no cpus"));
        let text = r.format_human(&ReportHeader {
            test: "t".into(),
            ..ReportHeader::default()
        });
        insta::assert_snapshot!(text);
    }

    #[test]
    fn checks_with_nothing_to_judge_are_listed() {
        let mut r = cgroup("cg_0", 0.0, 10, 5);
        r.push_not_judged("fairness spread", "one worker: nothing to compare");
        let r = r.with_cgroup_name("cg_0");
        let text = r.format_human(&header(None));
        assert!(
            text.contains(
                "passed\n  not judged: fairness spread (cg_0): one worker: nothing to compare\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn unnamed_cgroups_are_numbered() {
        let r = cgroup("", 1.0, 10, 5).merge(cgroup("", 1.0, 10, 5));
        let text = r.format_human(&header(None));
        assert!(
            text.contains("\n  cgroup0: ") && text.contains("\n  cgroup1: "),
            "{text}"
        );
    }
}
