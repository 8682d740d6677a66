//! Isolation: workers must run only on their cgroup's cpuset, judged against the cpuset in force at
//! each moment when it changed while they ran.
//!
//! A report places its worker on a CPU over spans it saw at checkpoints: from the checkpoint that first
//! saw the CPU to the last one that saw it. Each span is judged against every cpuset phase it overlaps.
//! A new cpuset binds from `CHANGE_GRACE_NS` after its write returned, and the old one until that long
//! before the write began: a worker reads the clock and its CPU at two instants, and a TCG vCPU can
//! stall between them. A report that cannot be placed in time (migrations past the list's cap) is
//! judged against the union of every phase, as a run without changes is.

use super::liveness::live;
use super::Judgement;
use crate::assert::phase::{allowed_union, CpusetPhase};
use crate::assert::{AssertDetail, DetailKind};
use crate::topology::CpuSet;
use crate::workload::WorkerReport;

/// How long around a cpuset change either set is accepted.
pub(crate) const CHANGE_GRACE_NS: u64 = 100_000_000;

/// One detail per worker that was seen on a CPU outside the cpuset in force; not judged when the
/// cpuset changed so often that no span of any worker fell outside a grace window.
pub(crate) fn isolation(reports: &[WorkerReport], phases: &[CpusetPhase]) -> Judgement {
    let mut judged = false;
    let mut failures = Vec::new();
    for r in live(reports) {
        let (breach, saw) = match stays(r) {
            Some(stays) => phase_breach(r, &stays, phases),
            None => (whole_run_breach(r, phases), true),
        };
        judged |= saw;
        failures.extend(breach.map(|m| AssertDetail::new(DetailKind::Isolation, m)));
    }
    if !judged && live(reports).next().is_some() {
        return Judgement::not_judged(format!(
            "the cpuset changed within {} ms of the previous change for as long as the workers ran, \
             so no moment had one cpuset in force",
            CHANGE_GRACE_NS / 1_000_000
        ));
    }
    Judgement::failures(failures)
}

/// A span of CLOCK_MONOTONIC time a worker was seen on one CPU.
struct Stay {
    from_ns: u64,
    until_ns: u64,
    cpu: usize,
}

/// Where the worker was, span by span; `None` when its report cannot say.
fn stays(r: &WorkerReport) -> Option<Vec<Stay>> {
    let capped = r.migration_count > r.migrations.len() as u64;
    if r.started_at_ns == 0 || capped {
        return None;
    }
    let mut cpu = match (r.migrations.first(), r.cpus_used.as_slice()) {
        (Some(m), _) => m.from_cpu,
        (None, [only]) => *only,
        (None, _) => return None,
    };
    let t0 = r.started_at_ns;
    let mut from = 0;
    let mut out = Vec::with_capacity(r.migrations.len() + 1);
    for m in &r.migrations {
        let until = m.from_seen_until_ns.max(from);
        out.push(Stay {
            from_ns: t0 + from,
            until_ns: t0 + until,
            cpu,
        });
        (from, cpu) = (m.at_ns, m.to_cpu);
    }
    out.push(Stay {
        from_ns: t0 + from,
        until_ns: t0 + r.wall_time_ns.max(from),
        cpu,
    });
    Some(out)
}

/// Each restricted phase with the window in which it alone binds.
fn binding_windows(phases: &[CpusetPhase]) -> impl Iterator<Item = (u64, u64, &CpuSet)> {
    phases.iter().enumerate().filter_map(|(i, phase)| {
        let set = phase.cpus.as_ref()?;
        let start = match i {
            0 => 0,
            _ => phase.settled_ns.saturating_add(CHANGE_GRACE_NS),
        };
        let end = phases.get(i + 1).map_or(u64::MAX, |next| {
            next.since_ns.saturating_sub(CHANGE_GRACE_NS)
        });
        (start < end).then_some((start, end, set))
    })
}

/// The first phase the worker left, with the CPUs outside it; and whether any span fell in a window
/// where one cpuset alone was in force.
fn phase_breach(
    r: &WorkerReport,
    stays: &[Stay],
    phases: &[CpusetPhase],
) -> (Option<String>, bool) {
    let mut saw = false;
    let breach = binding_windows(phases).find_map(|(start, end, set)| {
        let inside: Vec<&Stay> = stays
            .iter()
            .filter(|s| s.from_ns < end && s.until_ns >= start)
            .collect();
        saw |= !inside.is_empty();
        let outside: CpuSet = inside
            .iter()
            .filter(|s| !set.contains(s.cpu))
            .map(|s| s.cpu)
            .collect();
        (!outside.is_empty()).then(|| {
            let mut message = format!("tid {} ran on unexpected CPUs {outside}", r.tid);
            if phases.len() > 1 {
                let at_ms = start.saturating_sub(r.started_at_ns) / 1_000_000;
                message += &format!(" while its cpuset was {set} (from +{at_ms}ms)");
            }
            message
        })
    });
    (breach, saw)
}

/// Every CPU the worker was seen on against every CPU any phase allowed.
fn whole_run_breach(r: &WorkerReport, phases: &[CpusetPhase]) -> Option<String> {
    let allowed = allowed_union(phases)?;
    let used: CpuSet = r.cpus_used.iter().copied().collect();
    let outside = used.difference(&allowed);
    (!outside.is_empty()).then(|| format!("tid {} ran on unexpected CPUs {outside}", r.tid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::fixture::worker;
    use crate::workload::Migration;

    const MS: u64 = 1_000_000;
    const T0: u64 = 1_000 * MS;

    fn set(cpus: &[usize]) -> Option<CpuSet> {
        Some(cpus.iter().copied().collect())
    }

    fn on(tid: i32, cpus: &[usize]) -> WorkerReport {
        WorkerReport {
            cpus_used: cpus.to_vec(),
            ..worker(tid)
        }
    }

    /// A worker started at `T0`, running 1 s, that moved as `moves` says: (seen until, seen on new, cpu).
    fn moving(tid: i32, first: usize, moves: &[(u64, u64, usize)]) -> WorkerReport {
        let mut from = first;
        let migrations: Vec<Migration> = moves
            .iter()
            .map(|&(until_ms, at_ms, to)| {
                let m = Migration {
                    at_ns: at_ms * MS,
                    from_seen_until_ns: until_ms * MS,
                    from_cpu: from,
                    to_cpu: to,
                };
                from = to;
                m
            })
            .collect();
        let mut cpus: Vec<usize> = std::iter::once(first)
            .chain(moves.iter().map(|m| m.2))
            .collect();
        cpus.sort_unstable();
        cpus.dedup();
        WorkerReport {
            started_at_ns: T0,
            migration_count: migrations.len() as u64,
            migrations,
            cpus_used: cpus,
            ..worker(tid)
        }
    }

    fn messages(reports: &[WorkerReport], phases: &[CpusetPhase]) -> Vec<String> {
        let got = isolation(reports, phases);
        assert!(got.failures.iter().all(|d| d.kind == DetailKind::Isolation));
        got.failures.into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn cpus_outside_the_cpuset_fail() {
        let phases = [CpusetPhase::from_start(set(&[0, 1, 2, 3]))];
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
            assert_eq!(messages(&reports, &phases), want);
        }
    }

    /// A swap at +500 ms from {0,1} to {2,3}: a worker that follows it passes, one that stays behind
    /// fails though it never left the union of the two sets.
    #[test]
    fn each_phase_is_judged_against_its_own_cpuset() {
        let phases = [
            CpusetPhase::from_start(set(&[0, 1])),
            CpusetPhase::changed(T0 + 500 * MS, T0 + 501 * MS, set(&[2, 3])),
        ];
        let followed = moving(1, 0, &[(499, 502, 2)]);
        let stayed = moving(2, 1, &[]);
        let early = moving(3, 0, &[(100, 101, 3)]);
        let late = moving(4, 0, &[(800, 801, 2)]);
        assert_eq!(messages(&[followed], &phases), Vec::<String>::new());
        assert_eq!(
            messages(&[stayed, early, late], &phases),
            [
                "tid 2 ran on unexpected CPUs 1 while its cpuset was 2-3 (from +601ms)",
                "tid 3 ran on unexpected CPUs 3 while its cpuset was 0-1 (from +0ms)",
                "tid 4 ran on unexpected CPUs 0 while its cpuset was 2-3 (from +601ms)",
            ]
        );
    }

    /// Within the grace window around a change either set is accepted; past it, only the new one.
    #[test]
    fn the_grace_window_bounds_what_a_change_excuses() {
        let phases = [
            CpusetPhase::from_start(set(&[0])),
            CpusetPhase::changed(T0 + 500 * MS, T0 + 510 * MS, set(&[1])),
        ];
        let grace_ms = CHANGE_GRACE_NS / MS;
        let just_in = moving(1, 0, &[(510 + grace_ms - 1, 510 + grace_ms, 1)]);
        let just_out = moving(2, 0, &[(510 + grace_ms + 1, 510 + grace_ms + 2, 1)]);
        let early_in = moving(3, 0, &[(300, 500 - grace_ms + 1, 1)]);
        assert_eq!(
            messages(&[just_in, early_in], &phases),
            Vec::<String>::new()
        );
        assert_eq!(messages(&[just_out], &phases).len(), 1);
    }

    /// Unrestricted phases bind nothing; a report past the migration cap falls back to the union.
    #[test]
    fn unrestricted_phases_and_capped_reports() {
        let cleared = [
            CpusetPhase::from_start(set(&[0])),
            CpusetPhase::changed(T0 + 500 * MS, T0 + 501 * MS, None),
        ];
        assert_eq!(
            messages(&[moving(1, 0, &[(700, 701, 3)])], &cleared).len(),
            0
        );
        assert_eq!(messages(&[moving(2, 3, &[])], &cleared).len(), 1);
        let swapped = [
            CpusetPhase::from_start(set(&[0])),
            CpusetPhase::changed(T0 + 500 * MS, T0 + 501 * MS, set(&[1])),
        ];
        let capped = WorkerReport {
            migration_count: 20_000,
            ..moving(3, 0, &[])
        };
        assert_eq!(messages(&[capped], &swapped), Vec::<String>::new());
        let capped_outside = WorkerReport {
            migration_count: 20_000,
            ..moving(4, 2, &[])
        };
        assert_eq!(
            messages(&[capped_outside], &swapped),
            ["tid 4 ran on unexpected CPUs 2"]
        );
    }

    /// Changes closer together than the grace window leave nothing to judge, and the verdict says so.
    #[test]
    fn a_cpuset_that_never_settles_is_not_judged() {
        let flips: Vec<CpusetPhase> = std::iter::once(CpusetPhase::from_start(set(&[0])))
            .chain((0..20).map(|i| {
                let at = T0 + (i * 50) * MS;
                CpusetPhase::changed(at, at + MS, set(&[i as usize % 2]))
            }))
            .collect();
        let got = isolation(&[moving(1, 3, &[])], &flips);
        assert_eq!(got.failures, []);
        assert!(
            got.not_judged
                .as_deref()
                .is_some_and(|n| n.contains("within 100 ms")),
            "{got:?}"
        );
    }
}
