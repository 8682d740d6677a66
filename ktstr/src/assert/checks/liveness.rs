//! Worker deaths, starvation and scheduling gaps.

use nix::sys::signal::Signal;

use super::Judgement;
use crate::assert::config::Limit;
use crate::assert::{AssertDetail, DetailKind};
use crate::workload::{ExitInfo, WorkerReport};

/// Reports that carry measurements; a worker with `exit_info` sent none.
pub(crate) fn live(reports: &[WorkerReport]) -> impl Iterator<Item = &WorkerReport> + '_ {
    reports.iter().filter(|r| r.exit_info.is_none())
}

/// One detail per worker that died or did not complete its loop.
pub(crate) fn worker_deaths(reports: &[WorkerReport]) -> Vec<AssertDetail> {
    reports
        .iter()
        .filter_map(|r| death_message(r).map(|m| AssertDetail::new(DetailKind::WorkerDied, m)))
        .collect()
}

fn death_message(r: &WorkerReport) -> Option<String> {
    let tid = r.tid;
    let message = match &r.exit_info {
        Some(ExitInfo::Exited(code)) => {
            format!("tid {tid} exited with status {code} before sending its report")
        }
        Some(ExitInfo::Signaled(sig)) => {
            format!(
                "tid {tid} was killed by signal {} before sending its report",
                signal_name(*sig)
            )
        }
        Some(ExitInfo::OomKilled) => {
            format!("tid {tid} was killed by the OOM killer before sending its report")
        }
        Some(ExitInfo::TimedOut) => format!("tid {tid} sent no report before the collect deadline"),
        Some(ExitInfo::WaitFailed(why)) => {
            format!("tid {tid} could not be waited for ({why}); its fate is unknown")
        }
        None if !r.completed => {
            format!("tid {tid} sent a report but its work loop did not complete")
        }
        None => return None,
    };
    Some(message)
}

fn signal_name(sig: i32) -> String {
    match Signal::try_from(sig) {
        Ok(signal) => format!("{sig} ({})", signal.as_str()),
        Err(_) => sig.to_string(),
    }
}

/// Any worker that did no work at all.
pub(crate) fn starvation(reports: &[WorkerReport]) -> Vec<AssertDetail> {
    live(reports)
        .filter(|r| r.work_units == 0)
        .map(|r| {
            AssertDetail::new(
                DetailKind::Starved,
                format!("tid {} starved (0 work units)", r.tid),
            )
        })
        .collect()
}

/// Any worker whose longest checkpoint-to-checkpoint gap exceeds the limit; not judged when every
/// worker ran for less than the limit, since no gap could then exceed it.
pub(crate) fn scheduling_gap(reports: &[WorkerReport], limit: Limit<u64>) -> Judgement {
    let failures: Vec<AssertDetail> = live(reports)
        .filter(|r| r.max_gap_ms > limit.value)
        .map(|r| {
            let mut message = format!(
                "stuck {}ms on cpu{} at +{}ms",
                r.max_gap_ms, r.max_gap_cpu, r.max_gap_at_ms
            );
            if limit.explicit {
                message += &format!(" (threshold {}ms)", limit.value);
            }
            AssertDetail::new(DetailKind::Stuck, message)
        })
        .collect();
    let longest_ms = live(reports).map(|r| r.wall_time_ns / 1_000_000).max();
    match longest_ms {
        Some(ms) if failures.is_empty() && ms < limit.value => Judgement::not_judged(format!(
            "the longest-lived worker ran {ms} ms, less than the {} ms threshold, so no gap could exceed it",
            limit.value
        )),
        _ => Judgement::failures(failures),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::fixture::{dead, worker};

    fn messages(details: Vec<AssertDetail>) -> Vec<String> {
        details.into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn every_dead_or_incomplete_worker_is_reported() {
        let incomplete = WorkerReport {
            completed: false,
            ..worker(5)
        };
        let cases = [
            (worker(1), None),
            (
                dead(2, ExitInfo::Exited(3)),
                Some("tid 2 exited with status 3 before sending its report"),
            ),
            (
                dead(3, ExitInfo::Signaled(9)),
                Some("tid 3 was killed by signal 9 (SIGKILL) before sending its report"),
            ),
            (
                dead(3, ExitInfo::Signaled(200)),
                Some("tid 3 was killed by signal 200 before sending its report"),
            ),
            (
                dead(7, ExitInfo::OomKilled),
                Some("tid 7 was killed by the OOM killer before sending its report"),
            ),
            (
                dead(4, ExitInfo::TimedOut),
                Some("tid 4 sent no report before the collect deadline"),
            ),
            (
                dead(6, ExitInfo::WaitFailed("ECHILD".into())),
                Some("tid 6 could not be waited for (ECHILD); its fate is unknown"),
            ),
            (
                incomplete,
                Some("tid 5 sent a report but its work loop did not complete"),
            ),
        ];
        for (report, want) in cases {
            let got = worker_deaths(std::slice::from_ref(&report));
            assert_eq!(
                messages(got.clone()),
                want.into_iter().map(String::from).collect::<Vec<_>>()
            );
            assert!(got.iter().all(|d| d.kind == DetailKind::WorkerDied));
        }
    }

    #[test]
    fn starvation_flags_workers_with_zero_work_units() {
        let starved = WorkerReport {
            work_units: 0,
            ..worker(7)
        };
        assert!(starvation(&[worker(1), worker(2)]).is_empty());
        let got = starvation(&[worker(1), starved]);
        assert_eq!(
            got,
            [AssertDetail::new(
                DetailKind::Starved,
                "tid 7 starved (0 work units)"
            )]
        );
    }

    #[test]
    fn starvation_leaves_dead_workers_to_the_death_check() {
        assert!(starvation(&[dead(2, ExitInfo::TimedOut)]).is_empty());
    }

    #[test]
    fn gap_over_the_limit_fails_and_names_an_explicit_threshold() {
        let slow = WorkerReport {
            max_gap_ms: 4500,
            max_gap_cpu: 2,
            max_gap_at_ms: 3200,
            ..worker(1)
        };
        let built_in = Limit::built_in(3000);
        let explicit = Limit::explicit(3000);
        let cases = [
            (worker(1), built_in, vec![]),
            (
                WorkerReport {
                    max_gap_ms: 3000,
                    ..worker(1)
                },
                built_in,
                vec![],
            ),
            (
                slow.clone(),
                built_in,
                vec!["stuck 4500ms on cpu2 at +3200ms"],
            ),
            (
                slow,
                explicit,
                vec!["stuck 4500ms on cpu2 at +3200ms (threshold 3000ms)"],
            ),
        ];
        let long = |r: WorkerReport| WorkerReport {
            wall_time_ns: 5_000_000_000,
            ..r
        };
        for (report, limit, want) in cases {
            let got = scheduling_gap(&[long(worker(9)), long(report)], limit);
            assert!(got.failures.iter().all(|d| d.kind == DetailKind::Stuck));
            assert_eq!(got.not_judged, None);
            assert_eq!(messages(got.failures), want);
        }
    }

    /// Workers that all ran shorter than the threshold cannot show a gap over it: not judged, said why.
    #[test]
    fn gaps_are_not_judged_when_no_worker_outlived_the_threshold() {
        let got = scheduling_gap(&[worker(1), worker(2)], Limit::built_in(2000));
        assert_eq!(got.failures, []);
        assert_eq!(
            got.not_judged.as_deref(),
            Some("the longest-lived worker ran 1000 ms, less than the 2000 ms threshold, so no gap could exceed it")
        );
        let judged = scheduling_gap(&[worker(1)], Limit::built_in(900));
        assert_eq!((judged.failures.len(), judged.not_judged), (0, None));
    }
}
