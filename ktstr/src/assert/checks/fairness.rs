//! Fairness spread: how far apart the workers' off-CPU shares of wall time are.
//!
//! A share measured over few timeslices is noisy, so the spread is judged by a lower confidence bound.
//! A worker's wall time is `k` cycles of waiting then running (`k` = its timeslices); with waits and runs
//! as independent exponential draws (a conservative model: round-robin slices vary less), the renewal-reward
//! standard error of its off-CPU share `q` is `sqrt(2) q (1-q) / sqrt(k)`. A pair of workers fails only
//! when their difference minus `SPREAD_Z` standard errors of the difference exceeds the threshold. Workers that ran
//! less than `MIN_JUDGED_WALL_MS` are left out: their share reflects when they ran, not how they were
//! treated. The reasoning and the measurements behind the constants: docs/fairness.md.

use super::liveness::live;
use super::Judgement;
use crate::assert::config::Limit;
use crate::assert::{AssertDetail, DetailKind};
use crate::workload::WorkerReport;

/// Workers that ran less than this are not compared.
pub(crate) const MIN_JUDGED_WALL_MS: u64 = 500;
/// Standard errors of a pair's difference that its spread must clear before it counts against the threshold.
pub(crate) const SPREAD_Z: f64 = 3.0;
/// Share of wall time the worker spent off CPU, in percent; `None` without wall time.
pub(crate) fn off_cpu_pct(r: &WorkerReport) -> Option<f64> {
    (r.wall_time_ns > 0).then(|| r.off_cpu_ns as f64 * 100.0 / r.wall_time_ns as f64)
}

/// Off-CPU percentages of the live workers that measured wall time.
pub(crate) fn off_cpu_pcts(reports: &[WorkerReport]) -> Vec<f64> {
    live(reports).filter_map(off_cpu_pct).collect()
}

/// Lowest and highest value; `None` when empty.
pub(crate) fn min_max(values: &[f64]) -> Option<(f64, f64)> {
    let first = *values.first()?;
    Some(
        values
            .iter()
            .fold((first, first), |(lo, hi), v| (lo.min(*v), hi.max(*v))),
    )
}

/// One worker's off-CPU share and its standard error, in percentage points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Share {
    pub pct: f64,
    pub se_pct: f64,
}

impl Share {
    /// The share of a worker with wall time; without timeslice counts (schedstats off) the error is 0,
    /// which judges the raw spread.
    pub(crate) fn of(r: &WorkerReport) -> Option<Share> {
        let pct = off_cpu_pct(r)?;
        let q = (pct / 100.0).clamp(0.0, 1.0);
        let se_pct = match r.schedstat_run_count {
            0 => 0.0,
            k => std::f64::consts::SQRT_2 * q * (1.0 - q) / (k as f64).sqrt() * 100.0,
        };
        Some(Share { pct, se_pct })
    }
}

/// The largest pairwise spread left after subtracting `SPREAD_Z` standard errors of each pair's
/// difference; `None` with fewer than two shares.
pub(crate) fn spread_lower_bound(shares: &[Share]) -> Option<f64> {
    let mut best: Option<f64> = None;
    for (i, a) in shares.iter().enumerate() {
        for b in &shares[i + 1..] {
            let diff = (a.pct - b.pct).abs();
            let noise = SPREAD_Z * (a.se_pct.powi(2) + b.se_pct.powi(2)).sqrt();
            let bound = (diff - noise).max(0.0);
            best = Some(best.map_or(bound, |v: f64| v.max(bound)));
        }
    }
    best
}

/// The live workers whose share can be compared, and a note on those left out.
pub(crate) fn comparable(reports: &[WorkerReport]) -> (Vec<Share>, Option<String>) {
    let measured: Vec<&WorkerReport> = live(reports).filter(|r| r.wall_time_ns > 0).collect();
    let long_enough = |r: &&&WorkerReport| r.wall_time_ns >= MIN_JUDGED_WALL_MS * 1_000_000;
    let shares: Vec<Share> = measured
        .iter()
        .filter(long_enough)
        .filter_map(|r| Share::of(r))
        .collect();
    let short = measured.len() - shares.len();
    let note = (short > 0).then(|| {
        format!(
            "{short} of {} workers ran less than {MIN_JUDGED_WALL_MS} ms and were not compared \
             (a share over so short a window says when the worker ran, not how it was treated)",
            measured.len()
        )
    });
    (shares, note)
}

/// Fails when two workers' off-CPU shares differ by more than the limit beyond their sampling noise.
/// How busy the CPUs were grants nothing: equal tasks that can move between CPUs can be given equal
/// time, so a static uneven placement is unfairness like any other (docs/fairness.md).
pub(crate) fn fairness_spread(
    reports: &[WorkerReport],
    num_cpus: usize,
    limit: Limit<f64>,
) -> Judgement {
    let (shares, left_out) = comparable(reports);
    if shares.len() < 2 {
        let reason = left_out.unwrap_or_else(|| match shares.len() {
            0 => "no worker measured its wall time".to_string(),
            _ => "one worker: nothing to compare".to_string(),
        });
        return Judgement::not_judged(reason);
    }
    let pcts: Vec<f64> = shares.iter().map(|s| s.pct).collect();
    let (lo, hi) = min_max(&pcts).unwrap_or((0.0, 0.0));
    let bound = spread_lower_bound(&shares).unwrap_or(0.0);
    if bound <= limit.value {
        return Judgement::failures(Vec::new()).leaving_out(left_out);
    }
    let mut message = format!(
        "unfair cgroup: spread={:.0}% ({lo:.0}-{hi:.0}%) {} workers on {num_cpus} cpus, \
         at least {bound:.0}% beyond timeslice noise",
        hi - lo,
        shares.len()
    );
    if limit.explicit {
        message += &format!(" (threshold {}%)", limit.value);
    }
    Judgement::failures(vec![AssertDetail::new(DetailKind::Unfair, message)]).leaving_out(left_out)
}

/// The spread judged within each cohort of workers that ran their whole time together; `starts` are the
/// indices where cohorts begin. Workers moved in from another cgroup mid-run had that cgroup's treatment
/// before, so their shares are compared only with the workers they came with.
pub(crate) fn fairness_by_cohort(
    reports: &[WorkerReport],
    starts: &[usize],
    num_cpus: usize,
    limit: Limit<f64>,
) -> Judgement {
    let mut bounds: Vec<usize> = starts
        .iter()
        .copied()
        .filter(|&i| i < reports.len())
        .collect();
    bounds.insert(0, 0);
    bounds.push(reports.len());
    bounds.dedup();
    if bounds.len() <= 2 {
        return fairness_spread(reports, num_cpus, limit);
    }
    let judged: Vec<Judgement> = bounds
        .windows(2)
        .map(|w| fairness_spread(&reports[w[0]..w[1]], num_cpus, limit))
        .collect();
    let notes: Vec<String> = judged.iter().filter_map(|j| j.not_judged.clone()).collect();
    let note = (!notes.is_empty()).then(|| {
        format!(
            "workers moved in mid-run are compared only with those they came with: {}",
            notes.join("; ")
        )
    });
    let failures = judged.into_iter().flat_map(|j| j.failures).collect();
    Judgement::failures(failures).leaving_out(note)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::fixture::worker;

    fn off(tid: i32, pct: u64) -> WorkerReport {
        WorkerReport {
            off_cpu_ns: pct * 10_000_000,
            ..worker(tid)
        }
    }

    /// A worker `pct` % off CPU over `wall_ms`, measured over `slices` timeslices.
    fn sliced(tid: i32, pct: u64, wall_ms: u64, slices: u64) -> WorkerReport {
        WorkerReport {
            wall_time_ns: wall_ms * 1_000_000,
            off_cpu_ns: pct * wall_ms * 10_000,
            schedstat_run_count: slices,
            ..worker(tid)
        }
    }

    fn message(j: &Judgement) -> Option<&str> {
        j.failures.first().map(|d| d.message.as_str())
    }

    #[test]
    fn spread_over_the_limit_fails() {
        let built_in = Limit::built_in(35.0);
        let explicit = Limit::explicit(35.0);
        let cases = [
            (vec![off(1, 10), off(2, 12)], built_in, None),
            (vec![off(1, 8), off(2, 43)], built_in, None),
            (
                vec![off(1, 8), off(2, 50), off(3, 20), off(4, 30)],
                built_in,
                Some("unfair cgroup: spread=42% (8-50%) 4 workers on 4 cpus, at least 42% beyond timeslice noise"),
            ),
            (
                vec![off(1, 8), off(2, 50), off(3, 20), off(4, 30)],
                explicit,
                Some("unfair cgroup: spread=42% (8-50%) 4 workers on 4 cpus, at least 42% beyond timeslice noise (threshold 35%)"),
            ),
        ];
        for (reports, limit, want) in cases {
            let got = fairness_spread(&reports, 4, limit);
            assert_eq!(message(&got), want, "{} workers", reports.len());
            assert!(got.failures.iter().all(|d| d.kind == DetailKind::Unfair));
            assert_eq!(got.not_judged, None);
        }
    }

    #[test]
    fn fewer_than_two_workers_are_not_judged() {
        let limit = Limit::built_in(15.0);
        for (reports, why) in [
            (vec![], "no worker measured its wall time"),
            (vec![off(1, 90)], "one worker: nothing to compare"),
        ] {
            let got = fairness_spread(&reports, 2, limit);
            assert_eq!(got.failures, []);
            assert_eq!(got.not_judged.as_deref(), Some(why));
        }
    }

    /// Spreads that timeslice noise explains pass; the same spread over many timeslices fails.
    #[test]
    fn the_bound_knows_how_many_timeslices_a_share_rests_on() {
        let limit = Limit::built_in(15.0);
        let few = [sliced(1, 73, 2000, 60), sliced(2, 95, 2000, 40)];
        let got = fairness_spread(&few, 4, limit);
        assert_eq!(got.failures, [], "22 points over 40-60 timeslices is noise");
        let many = [sliced(1, 73, 2000, 5000), sliced(2, 95, 2000, 5000)];
        let got = fairness_spread(&many, 4, limit);
        assert_eq!(
            message(&got),
            Some("unfair cgroup: spread=22% (73-95%) 2 workers on 4 cpus, at least 21% beyond timeslice noise")
        );
    }

    /// One worker shares a CPU while another CPU of the cpuset idles: fails however it is sampled.
    #[test]
    fn a_worker_sharing_a_cpu_beside_an_idle_one_fails() {
        let limit = Limit::built_in(15.0);
        for slices in [20, 100, 700] {
            let reports = [
                sliced(1, 50, 2000, slices),
                sliced(2, 50, 2000, slices),
                sliced(3, 0, 2000, 3),
            ];
            let got = fairness_spread(&reports, 3, limit);
            assert_eq!(got.failures.len(), 1, "{slices} timeslices: {got:?}");
        }
    }

    /// Saturated uneven splits fail however busy the CPUs were: a 2:1 split of one CPU between two
    /// spinners, a static placement of three spinners on two CPUs (100:50:50), and two CPUs each split
    /// 2:1 by a pair. Shares rest on the timeslices a 4 s run with ~4 ms slices gives.
    #[test]
    fn saturated_uneven_splits_are_unfair() {
        let limit = Limit::built_in(15.0);
        let cases: [(&str, Vec<WorkerReport>, usize); 3] = [
            (
                "2:1 on one cpu",
                vec![sliced(1, 33, 4000, 500), sliced(2, 67, 4000, 500)],
                1,
            ),
            (
                "100:50:50 on two cpus",
                vec![
                    sliced(1, 0, 4000, 20),
                    sliced(2, 50, 4000, 500),
                    sliced(3, 50, 4000, 500),
                ],
                2,
            ),
            (
                "two cpus each split 2:1",
                vec![
                    sliced(1, 33, 4000, 500),
                    sliced(2, 67, 4000, 500),
                    sliced(3, 34, 4000, 500),
                    sliced(4, 66, 4000, 500),
                ],
                2,
            ),
        ];
        for (what, reports, cpus) in cases {
            let got = fairness_spread(&reports, cpus, limit);
            assert_eq!(got.failures.len(), 1, "{what}: {got:?}");
            assert_eq!(got.failures[0].kind, DetailKind::Unfair, "{what}");
        }
    }

    /// The largest even-looking split of one CPU between two spinners that still passes, over the
    /// timeslices of a 4 s run: the threshold plus three standard errors of the difference.
    #[test]
    fn the_largest_split_of_one_cpu_that_passes_is_60_to_40() {
        let limit = Limit::built_in(15.0);
        let pair = |hi_on: u64| {
            [
                sliced(1, 100 - hi_on, 4000, 500),
                sliced(2, hi_on, 4000, 500),
            ]
        };
        let passing: Vec<u64> = (50..=70)
            .filter(|&hi| fairness_spread(&pair(hi), 1, limit).failures.is_empty())
            .collect();
        assert_eq!(passing.last(), Some(&60), "{passing:?}");
        assert_eq!(passing.first(), Some(&50));
    }

    #[test]
    fn short_lived_workers_are_left_out_and_named() {
        let limit = Limit::built_in(15.0);
        let churn = [sliced(1, 5, 100, 8), sliced(2, 60, 120, 9)];
        let got = fairness_spread(&churn, 2, limit);
        assert_eq!(got.failures, []);
        assert!(
            got.not_judged
                .as_deref()
                .is_some_and(|n| n.starts_with("2 of 2 workers ran less than 500 ms")),
            "{got:?}"
        );
        let mixed = [off(1, 10), off(2, 60), sliced(3, 95, 100, 5)];
        let got = fairness_spread(&mixed, 2, limit);
        assert_eq!(got.failures.len(), 1, "the long-lived pair still fails");
        assert!(
            got.not_judged
                .as_deref()
                .is_some_and(|n| n.starts_with("1 of 3 workers")),
            "{got:?}"
        );
    }

    #[test]
    fn standard_errors_follow_the_renewal_reward_model() {
        let r2 = std::f64::consts::SQRT_2;
        let cases = [
            (50, 100, r2 * 2.5),
            (0, 100, 0.0),
            (100, 4, 0.0),
            (75, 0, 0.0),
            (2, 4, r2 * 0.98),
        ];
        for (pct, slices, se) in cases {
            let share = Share::of(&sliced(1, pct, 1000, slices)).expect("wall time");
            assert!(
                (share.se_pct - se).abs() < 1e-9,
                "{pct}% over {slices}: {share:?}"
            );
        }
        assert_eq!(Share::of(&WorkerReport::default()), None);
    }

    #[test]
    fn workers_without_wall_time_are_not_compared() {
        let no_wall = WorkerReport {
            wall_time_ns: 0,
            off_cpu_ns: 0,
            ..worker(3)
        };
        assert_eq!(off_cpu_pct(&no_wall), None);
        let limit = Limit::built_in(15.0);
        let got = fairness_spread(&[off(1, 10), no_wall], 2, limit);
        assert_eq!(got.failures, []);
        assert_eq!(
            got.not_judged.as_deref(),
            Some("one worker: nothing to compare")
        );
    }

    /// Workers that moved in mid-run are judged against those they came with, not against the cgroup's own.
    #[test]
    fn cohorts_are_judged_apart() {
        let limit = Limit::built_in(15.0);
        let reports = [off(1, 1), off(2, 2), off(3, 25), off(4, 26)];
        assert_eq!(
            fairness_by_cohort(&reports, &[0], 4, limit).failures.len(),
            1
        );
        let apart = fairness_by_cohort(&reports, &[0, 2], 4, limit);
        assert_eq!(apart.failures, [], "{apart:?}");
        let uneven = [off(1, 1), off(2, 30), off(3, 25), off(4, 26)];
        assert_eq!(
            fairness_by_cohort(&uneven, &[2], 4, limit).failures.len(),
            1
        );
        let lone = fairness_by_cohort(&[off(1, 1), off(2, 2), off(3, 60)], &[2], 4, limit);
        assert_eq!(lone.failures, []);
        assert!(
            lone.not_judged
                .as_deref()
                .is_some_and(|n| n.contains("one worker: nothing to compare")),
            "{lone:?}"
        );
    }

    #[test]
    fn fractional_thresholds_print_as_given() {
        let limit = Limit::explicit(12.5);
        let got = fairness_spread(&[off(1, 0), off(2, 20)], 2, limit);
        assert!(
            message(&got).is_some_and(|m| m.ends_with("(threshold 12.5%)")),
            "{got:?}"
        );
    }
}
