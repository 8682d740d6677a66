//! Isolation: workers must run only on their cgroup's cpuset.

use super::liveness::live;
use crate::assert::{AssertDetail, DetailKind};
use crate::topology::CpuSet;
use crate::workload::WorkerReport;

/// One detail per worker that was seen on a CPU outside `cpuset`.
pub(crate) fn isolation(reports: &[WorkerReport], cpuset: &CpuSet) -> Vec<AssertDetail> {
    live(reports)
        .filter_map(|r| {
            let used: CpuSet = r.cpus_used.iter().copied().collect();
            let outside = used.difference(cpuset);
            (!outside.is_empty()).then(|| {
                AssertDetail::new(
                    DetailKind::Isolation,
                    format!("tid {} ran on unexpected CPUs {outside}", r.tid),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::fixture::worker;

    fn on(tid: i32, cpus: &[usize]) -> WorkerReport {
        WorkerReport {
            cpus_used: cpus.to_vec(),
            ..worker(tid)
        }
    }

    #[test]
    fn cpus_outside_the_cpuset_fail() {
        let set = CpuSet::from_range(0..4);
        let cases: [(Vec<WorkerReport>, Vec<&str>); 4] = [
            (vec![on(1, &[0, 1]), on(2, &[3])], vec![]),
            (vec![on(1, &[])], vec![]),
            (
                vec![on(1, &[0, 4, 5])],
                vec!["tid 1 ran on unexpected CPUs 4-5"],
            ),
            (
                vec![on(1, &[2]), on(2, &[7, 9]), on(3, &[4])],
                vec![
                    "tid 2 ran on unexpected CPUs 7,9",
                    "tid 3 ran on unexpected CPUs 4",
                ],
            ),
        ];
        for (reports, want) in cases {
            let got = isolation(&reports, &set);
            assert!(got.iter().all(|d| d.kind == DetailKind::Isolation));
            assert_eq!(
                got.iter().map(|d| d.message.as_str()).collect::<Vec<_>>(),
                want
            );
        }
    }
}
