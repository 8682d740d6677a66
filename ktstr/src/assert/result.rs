//! `AssertResult`: a verdict, the details that explain it, and the statistics behind it.

use serde::{Deserialize, Serialize};

use super::ScenarioStats;

/// What a detail is about, so callers never classify by message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DetailKind {
    Starved,
    Stuck,
    Unfair,
    Isolation,
    Throughput,
    Benchmark,
    Migration,
    /// A worker ended without a valid report, or its report says the loop did not complete.
    WorkerDied,
    SchedulerDied,
    Skip,
    Other,
}

/// One line of a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssertDetail {
    pub kind: DetailKind,
    pub message: String,
}

impl AssertDetail {
    pub fn new(kind: DetailKind, message: impl Into<String>) -> Self {
        AssertDetail {
            kind,
            message: message.into(),
        }
    }
}

/// A check that could not judge what it was given, and why (too few workers, no samples, too short-lived).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotJudged {
    /// The check, as a person names it: `fairness spread`, `p99 wake latency`, ...
    pub check: String,
    /// The cgroup it was asked about; empty until labelled with `AssertResult::with_cgroup_name`.
    pub cgroup: String,
    pub reason: String,
}

/// The verdict of one or more checks; `merge` combines verdicts of cgroups or steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssertResult {
    pub passed: bool,
    /// Nothing was judged; `passed` is true and a `Skip` detail says why.
    pub skipped: bool,
    pub details: Vec<AssertDetail>,
    /// Enabled checks that had nothing meaningful to judge; they neither pass nor fail the verdict.
    #[serde(default)]
    pub not_judged: Vec<NotJudged>,
    pub stats: ScenarioStats,
}

impl AssertResult {
    pub fn pass() -> Self {
        AssertResult {
            passed: true,
            skipped: false,
            details: Vec::new(),
            not_judged: Vec::new(),
            stats: ScenarioStats::default(),
        }
    }

    pub fn skip(reason: impl Into<String>) -> Self {
        AssertResult {
            passed: true,
            skipped: true,
            details: vec![AssertDetail::new(DetailKind::Skip, reason)],
            not_judged: Vec::new(),
            stats: ScenarioStats::default(),
        }
    }

    pub fn fail(detail: AssertDetail) -> Self {
        AssertResult {
            passed: false,
            skipped: false,
            details: vec![detail],
            not_judged: Vec::new(),
            stats: ScenarioStats::default(),
        }
    }

    /// A failure with a detail of kind `Other`.
    pub fn fail_msg(message: impl Into<String>) -> Self {
        Self::fail(AssertDetail::new(DetailKind::Other, message))
    }

    pub fn is_skipped(&self) -> bool {
        self.skipped
    }

    /// Passes only if both pass; skipped only if both were skipped; details appended; stats folded.
    pub fn merge(mut self, other: AssertResult) -> Self {
        self.passed &= other.passed;
        self.skipped &= other.skipped;
        self.details.extend(other.details);
        self.not_judged.extend(other.not_judged);
        self.stats = self.stats.merge(other.stats);
        self
    }

    /// Adds a failing detail.
    pub(crate) fn push_failure(&mut self, detail: AssertDetail) {
        self.passed = false;
        self.details.push(detail);
    }

    /// Records that `check` had nothing meaningful to judge.
    pub(crate) fn push_not_judged(&mut self, check: &str, reason: impl Into<String>) {
        self.not_judged.push(NotJudged {
            check: check.to_string(),
            cgroup: String::new(),
            reason: reason.into(),
        });
    }

    /// Names every cgroup in the stats and the not-judged notes; meant for the result of one `Assert::assert_cgroup` call.
    ///
    /// ```
    /// use ktstr::assert::Assert;
    /// let r = Assert::default_checks().assert_cgroup(&[], None).with_cgroup_name("cg_0");
    /// assert_eq!(r.stats.cgroups[0].name, "cg_0");
    /// ```
    pub fn with_cgroup_name(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        for cg in &mut self.stats.cgroups {
            cg.name.clone_from(&name);
        }
        for n in &mut self.not_judged {
            n.cgroup.clone_from(&name);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::CgroupStats;

    fn stuck() -> AssertResult {
        AssertResult::fail(AssertDetail::new(
            DetailKind::Stuck,
            "stuck 3500ms on cpu1 at +1200ms",
        ))
    }

    #[test]
    fn constructors_set_the_outcome() {
        let cases = [
            (AssertResult::pass(), true, false, None),
            (
                AssertResult::skip("no cpus"),
                true,
                true,
                Some(DetailKind::Skip),
            ),
            (stuck(), false, false, Some(DetailKind::Stuck)),
            (
                AssertResult::fail_msg("boom"),
                false,
                false,
                Some(DetailKind::Other),
            ),
        ];
        for (r, passed, skipped, kind) in cases {
            assert_eq!((r.passed, r.is_skipped()), (passed, skipped), "{r:?}");
            assert_eq!(r.details.first().map(|d| d.kind), kind);
        }
    }

    #[test]
    fn merge_ands_outcomes_and_appends_details() {
        let cases = [
            (AssertResult::pass(), AssertResult::pass(), true, false, 0),
            (AssertResult::pass(), stuck(), false, false, 1),
            (stuck(), AssertResult::pass(), false, false, 1),
            (
                AssertResult::skip("a"),
                AssertResult::skip("b"),
                true,
                true,
                2,
            ),
            (
                AssertResult::skip("a"),
                AssertResult::pass(),
                true,
                false,
                1,
            ),
            (AssertResult::skip("a"), stuck(), false, false, 2),
        ];
        for (a, b, passed, skipped, n) in cases {
            let m = a.clone().merge(b.clone());
            assert_eq!(
                (m.passed, m.skipped, m.details.len()),
                (passed, skipped, n),
                "{a:?} + {b:?}"
            );
        }
    }

    #[test]
    fn merge_folds_stats_of_both_sides() {
        let mut a = AssertResult::pass();
        a.stats = ScenarioStats::from_cgroup(CgroupStats {
            num_workers: 2,
            spread: 4.0,
            ..Default::default()
        });
        let mut b = stuck();
        b.stats = ScenarioStats::from_cgroup(CgroupStats {
            num_workers: 3,
            spread: 9.0,
            ..Default::default()
        });
        let m = a.merge(b);
        assert_eq!(
            (
                m.stats.cgroups.len(),
                m.stats.total_workers,
                m.stats.worst_spread
            ),
            (2, 5, 9.0)
        );
    }

    #[test]
    fn with_cgroup_name_labels_the_stats() {
        let mut r = AssertResult::pass();
        r.stats = ScenarioStats::from_cgroup(CgroupStats::default());
        assert_eq!(r.with_cgroup_name("cg_1").stats.cgroups[0].name, "cg_1");
    }

    #[test]
    fn results_survive_a_json_round_trip() {
        let mut r = stuck().merge(AssertResult::skip("why"));
        r.stats = ScenarioStats::from_cgroup(CgroupStats {
            name: "cg".into(),
            spread: 1.5,
            ..Default::default()
        });
        let json = serde_json::to_string(&r).expect("serialize");
        let back: AssertResult = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, r);
    }
}
