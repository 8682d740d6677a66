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

    #[test]
    fn invalid_configurations_fail_with_their_variant() {
        let ms = Duration::from_millis(5);
        let empty = CpuSet::new();
        let pool = CpuSet::from_range(0..2);
        let cases: Vec<(WorkloadConfig, Expected)> = vec![
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
            (
                config(WorkType::SpinWait, 1).sched_policy(SchedPolicy::Fifo(0)),
                |e| matches!(e, WorkloadError::RtPriority { priority: 0, .. }),
            ),
            (
                config(WorkType::SpinWait, 1).sched_policy(SchedPolicy::RoundRobin(100)),
                |e| matches!(e, WorkloadError::RtPriority { priority: 100, .. }),
            ),
            (config(WorkType::SpinWait, 1).nice(20), |e| {
                matches!(e, WorkloadError::Nice { nice: 20 })
            }),
            (config(WorkType::SpinWait, 1).nice(-21), |e| {
                matches!(e, WorkloadError::Nice { nice: -21 })
            }),
            (config(WorkType::bursty(0, 10), 1), |e| {
                matches!(
                    e,
                    WorkloadError::ZeroParameter {
                        param: "burst_ms",
                        ..
                    }
                )
            }),
            (config(WorkType::cache_pressure(32, 0), 1), |e| {
                matches!(
                    e,
                    WorkloadError::ZeroParameter {
                        param: "stride",
                        ..
                    }
                )
            }),
            (config(WorkType::cache_yield(0, 64), 1), |e| {
                matches!(
                    e,
                    WorkloadError::ZeroParameter {
                        param: "size_kb",
                        ..
                    }
                )
            }),
            (config(WorkType::cache_pressure(1, 2048), 1), |e| {
                matches!(e, WorkloadError::StrideTooLarge { .. })
            }),
            (config(WorkType::futex_fan_out(0, 1), 1), |e| {
                matches!(
                    e,
                    WorkloadError::ZeroParameter {
                        param: "fan_out",
                        ..
                    }
                )
            }),
            (config(WorkType::pipe_io(0), 2), |e| {
                matches!(
                    e,
                    WorkloadError::ZeroParameter {
                        param: "burst_iters",
                        ..
                    }
                )
            }),
            (config(WorkType::page_fault_churn(4, 0, 1), 1), |e| {
                matches!(
                    e,
                    WorkloadError::ZeroParameter {
                        param: "touches_per_cycle",
                        ..
                    }
                )
            }),
            (config(WorkType::mutex_contention(1, 1, 1), 1), |e| {
                matches!(e, WorkloadError::TooFewContenders { contenders: 1 })
            }),
            (
                config(
                    WorkType::sequence(Phase::Spin(ms), vec![Phase::Sleep(Duration::ZERO)]),
                    1,
                ),
                |e| matches!(e, WorkloadError::ZeroPhase { index: 1 }),
            ),
            (
                config(WorkType::SpinWait, 1).affinity(AffinityMode::Fixed(empty.clone())),
                |e| matches!(e, WorkloadError::EmptyAffinity { mode: "Fixed" }),
            ),
            (
                config(WorkType::SpinWait, 1).affinity(AffinityMode::Random {
                    from: empty,
                    count: 1,
                }),
                |e| matches!(e, WorkloadError::EmptyAffinity { mode: "Random" }),
            ),
            (
                config(WorkType::SpinWait, 1).affinity(AffinityMode::Random {
                    from: pool.clone(),
                    count: 0,
                }),
                |e| matches!(e, WorkloadError::RandomCount { count: 0, pool: 2 }),
            ),
            (
                config(WorkType::SpinWait, 1).affinity(AffinityMode::Random {
                    from: pool,
                    count: 3,
                }),
                |e| matches!(e, WorkloadError::RandomCount { count: 3, pool: 2 }),
            ),
        ];
        for (c, is_expected) in cases {
            match c.validate() {
                Err(e) => assert!(is_expected(&e), "{c:?} gave the wrong error: {e}"),
                Ok(()) => panic!("{c:?} passed validation"),
            }
        }
    }
}
