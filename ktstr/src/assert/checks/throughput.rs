//! Throughput parity: work units per CPU-second, compared across workers and against a floor.

use super::fairness::min_max;
use super::liveness::live;
use super::Judgement;
use crate::assert::math::cv;
use crate::assert::{AssertDetail, DetailKind};
use crate::workload::WorkerReport;

/// Work units per CPU-second; `None` when the worker got no CPU time.
pub(crate) fn work_rate(r: &WorkerReport) -> Option<f64> {
    (r.cpu_time_ns > 0).then(|| r.work_units as f64 * 1e9 / r.cpu_time_ns as f64)
}

/// Fails when the rates of two or more workers with CPU time vary more than `max_cv`; not judged with
/// fewer than two.
pub(crate) fn throughput_cv(reports: &[WorkerReport], max_cv: f64) -> Judgement {
    let rates: Vec<f64> = live(reports).filter_map(work_rate).collect();
    if rates.len() < 2 {
        return Judgement::not_judged(format!(
            "{} worker(s) with CPU time: no variation to measure",
            rates.len()
        ));
    }
    let (Some(got), Some((lo, hi))) = (cv(&rates).filter(|c| *c > max_cv), min_max(&rates)) else {
        return Judgement::default();
    };
    let message = format!(
        "throughput cv={got:.2} across {} workers exceeds {max_cv} (rates {lo:.0}-{hi:.0} units/cpu-s)",
        rates.len()
    );
    Judgement::failures(vec![AssertDetail::new(DetailKind::Throughput, message)])
}

/// One detail per worker below `min` work units per CPU-second; no CPU time counts as a rate of 0.
pub(crate) fn min_work_rate(reports: &[WorkerReport], min: f64) -> Vec<AssertDetail> {
    live(reports)
        .filter_map(|r| {
            let rate = work_rate(r).unwrap_or(0.0);
            (rate < min).then(|| {
                let message = format!(
                    "tid {} work rate {rate:.1} units/cpu-s is below {min}",
                    r.tid
                );
                AssertDetail::new(DetailKind::Throughput, message)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::fixture::worker;

    /// A worker doing `units` work units in one CPU-second.
    fn rate(tid: i32, units: u64) -> WorkerReport {
        WorkerReport {
            work_units: units,
            cpu_time_ns: 1_000_000_000,
            ..worker(tid)
        }
    }

    #[test]
    fn uneven_rates_fail_the_cv_check() {
        let no_cpu = WorkerReport {
            cpu_time_ns: 0,
            ..worker(3)
        };
        let cases = [
            (vec![rate(1, 1000), rate(2, 1000)], None),
            (vec![rate(1, 1000), rate(2, 1100)], None),
            (vec![rate(1, 100)], Some("NOT JUDGED")),
            (vec![rate(1, 100), no_cpu], Some("NOT JUDGED")),
            (
                vec![rate(1, 1000), rate(2, 3000)],
                Some(
                    "throughput cv=0.50 across 2 workers exceeds 0.3 (rates 1000-3000 units/cpu-s)",
                ),
            ),
        ];
        for (reports, want) in cases {
            let got = throughput_cv(&reports, 0.3);
            assert!(got
                .failures
                .iter()
                .all(|d| d.kind == DetailKind::Throughput));
            let shown = match (got.failures.first(), &got.not_judged) {
                (Some(d), None) => Some(d.message.as_str()),
                (None, Some(_)) => Some("NOT JUDGED"),
                _ => None,
            };
            assert_eq!(shown, want, "{reports:?}");
        }
    }

    #[test]
    fn workers_below_the_rate_floor_fail() {
        let no_cpu = WorkerReport {
            cpu_time_ns: 0,
            ..worker(3)
        };
        let cases = [
            (vec![rate(1, 600), rate(2, 500)], vec![]),
            (
                vec![rate(1, 600), rate(2, 499)],
                vec!["tid 2 work rate 499.0 units/cpu-s is below 500"],
            ),
            (
                vec![no_cpu],
                vec!["tid 3 work rate 0.0 units/cpu-s is below 500"],
            ),
        ];
        for (reports, want) in cases {
            let got = min_work_rate(&reports, 500.0);
            assert_eq!(
                got.iter().map(|d| d.message.as_str()).collect::<Vec<_>>(),
                want
            );
        }
    }
}
