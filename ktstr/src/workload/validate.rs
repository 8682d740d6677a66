//! `WorkloadConfig::validate`: every check a configuration must pass before any worker is forked.

use super::{AffinityMode, Phase, SchedPolicy, WorkType, WorkloadConfig, WorkloadError};

/// Most workers one group may fork.
pub const MAX_WORKERS: usize = 512;

impl WorkloadConfig {
    /// Rejects configurations that cannot run or would measure nothing.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        if self.num_workers == 0 {
            return Err(WorkloadError::ZeroWorkers);
        }
        if self.num_workers > MAX_WORKERS {
            return Err(WorkloadError::TooManyWorkers {
                num_workers: self.num_workers,
                max: MAX_WORKERS,
            });
        }
        check_policy(self.sched_policy)?;
        if !(-20..=19).contains(&self.nice) {
            return Err(WorkloadError::Nice { nice: self.nice });
        }
        check_work_type(&self.work_type)?;
        check_affinity(&self.affinity)?;
        let group = self.work_type.worker_group_size();
        if self.num_workers % group != 0 {
            return Err(WorkloadError::GroupSize {
                work_type: self.work_type.name(),
                group,
                num_workers: self.num_workers,
            });
        }
        Ok(())
    }
}

fn check_policy(policy: SchedPolicy) -> Result<(), WorkloadError> {
    let (name, priority) = match policy {
        SchedPolicy::Fifo(p) => ("Fifo", p),
        SchedPolicy::RoundRobin(p) => ("RoundRobin", p),
        _ => return Ok(()),
    };
    if (1..=99).contains(&priority) {
        Ok(())
    } else {
        Err(WorkloadError::RtPriority {
            policy: name,
            priority,
        })
    }
}

fn check_work_type(wt: &WorkType) -> Result<(), WorkloadError> {
    use WorkType::*;
    let nonzero = |param, value| check_nonzero(wt.name(), param, value);
    match *wt {
        SpinWait | YieldHeavy | Mixed | IoSync | ForkExit | NiceSweep | Custom { .. } => Ok(()),
        Bursty { burst_ms, sleep_ms } => {
            nonzero("burst_ms", burst_ms)?;
            nonzero("sleep_ms", sleep_ms)
        }
        PipeIo { burst_iters } => nonzero("burst_iters", burst_iters),
        FutexPingPong { spin_iters }
        | AffinityChurn { spin_iters }
        | PolicyChurn { spin_iters } => nonzero("spin_iters", spin_iters),
        FutexFanOut {
            fan_out,
            spin_iters,
        } => {
            nonzero("fan_out", fan_out as u64)?;
            nonzero("spin_iters", spin_iters)
        }
        CachePressure { size_kb, stride } | CacheYield { size_kb, stride } => {
            check_cache(wt.name(), size_kb, stride)
        }
        CachePipe {
            size_kb,
            burst_iters,
        } => {
            nonzero("size_kb", size_kb as u64)?;
            nonzero("burst_iters", burst_iters)
        }
        PageFaultChurn {
            region_kb,
            touches_per_cycle,
            spin_iters,
        } => {
            nonzero("region_kb", region_kb as u64)?;
            nonzero("touches_per_cycle", touches_per_cycle as u64)?;
            nonzero("spin_iters", spin_iters)
        }
        MutexContention {
            contenders,
            hold_iters,
            work_iters,
        } => {
            if contenders < 2 {
                return Err(WorkloadError::TooFewContenders { contenders });
            }
            nonzero("hold_iters", hold_iters)?;
            nonzero("work_iters", work_iters)
        }
        Sequence { first, ref rest } => check_phases(std::iter::once(&first).chain(rest)),
    }
}

/// A parameter of `work_type` that must not be zero.
fn check_nonzero(
    work_type: &'static str,
    param: &'static str,
    value: u64,
) -> Result<(), WorkloadError> {
    match value {
        0 => Err(WorkloadError::ZeroParameter { work_type, param }),
        _ => Ok(()),
    }
}

/// A cache walk needs a buffer and a stride, and the stride must fit in the buffer.
fn check_cache(
    work_type: &'static str,
    size_kb: usize,
    stride: usize,
) -> Result<(), WorkloadError> {
    check_nonzero(work_type, "size_kb", size_kb as u64)?;
    check_nonzero(work_type, "stride", stride as u64)?;
    if stride > size_kb.saturating_mul(1024) {
        return Err(WorkloadError::StrideTooLarge {
            work_type,
            stride,
            size_kb,
        });
    }
    Ok(())
}

fn check_phases<'a>(phases: impl Iterator<Item = &'a Phase>) -> Result<(), WorkloadError> {
    for (index, phase) in phases.enumerate() {
        if phase.duration().is_zero() {
            return Err(WorkloadError::ZeroPhase { index });
        }
    }
    Ok(())
}

fn check_affinity(affinity: &AffinityMode) -> Result<(), WorkloadError> {
    match affinity {
        AffinityMode::Fixed(set) if set.is_empty() => {
            Err(WorkloadError::EmptyAffinity { mode: "Fixed" })
        }
        AffinityMode::Random { from, .. } if from.is_empty() => {
            Err(WorkloadError::EmptyAffinity { mode: "Random" })
        }
        AffinityMode::Random { from, count } if *count == 0 || *count > from.len() => {
            Err(WorkloadError::RandomCount {
                count: *count,
                pool: from.len(),
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::topology::CpuSet;

    /// Recognises the error a case must produce.
    type Expected = fn(&WorkloadError) -> bool;

    fn config(wt: WorkType, workers: usize) -> WorkloadConfig {
        WorkloadConfig::new(wt).workers(workers)
    }

    #[test]
    fn valid_configurations_pass() {
        let ms = Duration::from_millis(5);
        let cases = [
            config(WorkType::SpinWait, 1),
            config(WorkType::pipe_io(1), 4),
            config(WorkType::futex_fan_out(4, 1), 10),
            config(WorkType::mutex_contention(2, 1, 1), 2),
            config(WorkType::cache_pressure(1, 1024), 1),
            config(WorkType::sequence(Phase::Spin(ms), vec![Phase::Io(ms)]), 1),
            config(WorkType::SpinWait, 1).sched_policy(SchedPolicy::Fifo(1)),
            config(WorkType::SpinWait, 1).sched_policy(SchedPolicy::RoundRobin(99)),
            config(WorkType::SpinWait, 1).nice(19),
            config(WorkType::SpinWait, 1).nice(-20),
            config(WorkType::SpinWait, 1).affinity(AffinityMode::Random {
                from: CpuSet::from_range(0..4),
                count: 4,
            }),
        ];
        for c in cases {
            assert!(c.validate().is_ok(), "{c:?}: {:?}", c.validate());
        }
    }

    /// Asserts that each configuration fails validation with the error its case expects.
    fn assert_each_rejected(cases: Vec<(WorkloadConfig, Expected)>) {
        for (c, is_expected) in cases {
            match c.validate() {
                Err(e) => assert!(is_expected(&e), "{c:?} gave the wrong error: {e}"),
                Ok(()) => panic!("{c:?} passed validation"),
            }
        }
    }

    #[test]
    fn worker_counts_the_work_cannot_run_fail() {
        assert_each_rejected(vec![
            (config(WorkType::SpinWait, 0), |e| {
                matches!(e, WorkloadError::ZeroWorkers)
            }),
            (config(WorkType::SpinWait, MAX_WORKERS + 1), |e| {
                matches!(
                    e,
                    WorkloadError::TooManyWorkers {
                        max: MAX_WORKERS,
                        ..
                    }
                )
            }),
            (config(WorkType::pipe_io(1), 3), |e| {
                matches!(e, WorkloadError::GroupSize { group: 2, .. })
            }),
            (config(WorkType::futex_fan_out(4, 1), 4), |e| {
                matches!(e, WorkloadError::GroupSize { group: 5, .. })
            }),
            (config(WorkType::mutex_contention(3, 1, 1), 4), |e| {
                matches!(e, WorkloadError::GroupSize { .. })
            }),
        ]);
    }

    #[test]
    fn priorities_and_nice_values_out_of_range_fail() {
        let spin = config(WorkType::SpinWait, 1);
        assert_each_rejected(vec![
            (spin.clone().sched_policy(SchedPolicy::Fifo(0)), |e| {
                matches!(e, WorkloadError::RtPriority { priority: 0, .. })
            }),
            (
                spin.clone().sched_policy(SchedPolicy::RoundRobin(100)),
                |e| matches!(e, WorkloadError::RtPriority { priority: 100, .. }),
            ),
            (spin.clone().nice(20), |e| {
                matches!(e, WorkloadError::Nice { nice: 20 })
            }),
            (spin.nice(-21), |e| {
                matches!(e, WorkloadError::Nice { nice: -21 })
            }),
        ]);
    }

    #[test]
    fn a_zero_parameter_fails_naming_the_parameter() {
        let cases = [
            (WorkType::bursty(0, 10), 1, "burst_ms"),
            (WorkType::cache_pressure(32, 0), 1, "stride"),
            (WorkType::cache_yield(0, 64), 1, "size_kb"),
            (WorkType::futex_fan_out(0, 1), 1, "fan_out"),
            (WorkType::pipe_io(0), 2, "burst_iters"),
            (WorkType::page_fault_churn(4, 0, 1), 1, "touches_per_cycle"),
        ];
        for (wt, workers, want) in cases {
            let c = config(wt, workers);
            match c.validate() {
                Err(WorkloadError::ZeroParameter { param, .. }) => assert_eq!(param, want, "{c:?}"),
                other => panic!("{c:?} gave {other:?}, not ZeroParameter {{ param: {want:?} }}"),
            }
        }
    }

    #[test]
    fn work_that_cannot_be_done_as_described_fails() {
        let ms = Duration::from_millis(5);
        let zero_phase = WorkType::sequence(Phase::Spin(ms), vec![Phase::Sleep(Duration::ZERO)]);
        assert_each_rejected(vec![
            (config(WorkType::cache_pressure(1, 2048), 1), |e| {
                matches!(e, WorkloadError::StrideTooLarge { .. })
            }),
            (config(WorkType::mutex_contention(1, 1, 1), 1), |e| {
                matches!(e, WorkloadError::TooFewContenders { contenders: 1 })
            }),
            (config(zero_phase, 1), |e| {
                matches!(e, WorkloadError::ZeroPhase { index: 1 })
            }),
        ]);
    }

    #[test]
    fn an_affinity_that_cannot_be_met_fails() {
        let spin = config(WorkType::SpinWait, 1);
        let random = |from, count| spin.clone().affinity(AffinityMode::Random { from, count });
        let pool = CpuSet::from_range(0..2);
        assert_each_rejected(vec![
            (
                spin.clone().affinity(AffinityMode::Fixed(CpuSet::new())),
                |e| matches!(e, WorkloadError::EmptyAffinity { mode: "Fixed" }),
            ),
            (random(CpuSet::new(), 1), |e| {
                matches!(e, WorkloadError::EmptyAffinity { mode: "Random" })
            }),
            (random(pool.clone(), 0), |e| {
                matches!(e, WorkloadError::RandomCount { count: 0, pool: 2 })
            }),
            (random(pool, 3), |e| {
                matches!(e, WorkloadError::RandomCount { count: 3, pool: 2 })
            }),
        ]);
    }
}
