//! Fairness spread: how far apart the workers' off-CPU shares of wall time are.

use super::liveness::live;
use crate::assert::config::Limit;
use crate::assert::{AssertDetail, DetailKind};
use crate::workload::WorkerReport;

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

/// Fails when the off-CPU spread of two or more workers exceeds the limit.
pub(crate) fn fairness_spread(
    reports: &[WorkerReport],
    num_cpus: usize,
    limit: Limit<f64>,
) -> Option<AssertDetail> {
    let pcts = off_cpu_pcts(reports);
    let (lo, hi) = min_max(&pcts)?;
    let spread = hi - lo;
    if pcts.len() < 2 || spread <= limit.value {
        return None;
    }
    let mut message = format!(
        "unfair cgroup: spread={spread:.0}% ({lo:.0}-{hi:.0}%) {} workers on {num_cpus} cpus",
        pcts.len()
    );
    if limit.explicit {
        message += &format!(" (threshold {}%)", limit.value);
    }
    Some(AssertDetail::new(DetailKind::Unfair, message))
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

    #[test]
    fn spread_over_the_limit_fails() {
        let built_in = Limit::built_in(35.0);
        let explicit = Limit::explicit(35.0);
        let cases = [
            (vec![off(1, 10), off(2, 12)], built_in, None),
            (vec![off(1, 8), off(2, 43)], built_in, None),
            (vec![off(1, 90)], built_in, None),
            (vec![], built_in, None),
            (
                vec![off(1, 8), off(2, 50), off(3, 20), off(4, 30)],
                built_in,
                Some("unfair cgroup: spread=42% (8-50%) 4 workers on 4 cpus"),
            ),
            (
                vec![off(1, 8), off(2, 50), off(3, 20), off(4, 30)],
                explicit,
                Some("unfair cgroup: spread=42% (8-50%) 4 workers on 4 cpus (threshold 35%)"),
            ),
        ];
        for (reports, limit, want) in cases {
            let got = fairness_spread(&reports, 4, limit);
            assert_eq!(
                got.as_ref().map(|d| d.message.as_str()),
                want,
                "{} workers",
                reports.len()
            );
            assert!(got.iter().all(|d| d.kind == DetailKind::Unfair));
        }
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
        assert_eq!(fairness_spread(&[off(1, 10), no_wall], 2, limit), None);
    }

    #[test]
    fn fractional_thresholds_print_as_given() {
        let limit = Limit::explicit(12.5);
        let got =
            fairness_spread(&[off(1, 0), off(2, 20)], 2, limit).expect("20% spread is over 12.5%");
        assert!(
            got.message.ends_with("(threshold 12.5%)"),
            "{}",
            got.message
        );
    }
}
