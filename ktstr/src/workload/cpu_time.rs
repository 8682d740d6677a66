//! `CpuTimes`: per-CPU busy and idle time from `/proc/stat`, so a check can tell whether the CPUs a cgroup
//! could use were saturated or had room while its workers waited.

use std::collections::BTreeMap;

use crate::topology::CpuSet;

/// Cumulative (idle, total) ticks per CPU at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuTimes(BTreeMap<usize, (u64, u64)>);

impl CpuTimes {
    /// This machine's counters now; `None` when `/proc/stat` cannot be read.
    pub fn now() -> Option<CpuTimes> {
        std::fs::read_to_string("/proc/stat")
            .ok()
            .map(|text| CpuTimes::parse(&text))
    }

    /// Parses the `cpuN user nice system idle iowait irq softirq steal ...` lines; idle counts iowait.
    pub fn parse(text: &str) -> CpuTimes {
        let per_cpu = text.lines().filter_map(|line| {
            let mut fields = line.split_whitespace();
            let cpu = fields.next()?.strip_prefix("cpu")?.parse::<usize>().ok()?;
            let ticks: Vec<u64> = fields.take(8).filter_map(|f| f.parse().ok()).collect();
            let idle = ticks.get(3)? + ticks.get(4).unwrap_or(&0);
            Some((cpu, (idle, ticks.iter().sum())))
        });
        CpuTimes(per_cpu.collect())
    }

    /// Percentage of time `cpus` (every CPU when `None`) were idle between `self` and `later`; `None` when
    /// no time passed on them.
    pub fn idle_pct_until(&self, later: &CpuTimes, cpus: Option<&CpuSet>) -> Option<f64> {
        let wanted = |cpu: &usize| cpus.is_none_or(|set| set.contains(*cpu));
        let (idle, total) = later
            .0
            .iter()
            .filter(|(cpu, _)| wanted(cpu))
            .filter_map(|(cpu, (idle, total))| {
                let (idle0, total0) = self.0.get(cpu)?;
                Some((idle.saturating_sub(*idle0), total.saturating_sub(*total0)))
            })
            .fold((0, 0), |(i, t), (di, dt)| (i + di, t + dt));
        (total > 0).then(|| idle as f64 * 100.0 / total as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "cpu  10 0 10 100 0 0 0 0 0 0\n\
        cpu0 5 0 5 50 0 0 0 0 0 0\n\
        cpu1 5 0 5 50 0 0 0 0 0 0\n\
        intr 1 2 3\n";
    const AFTER: &str = "cpu  110 0 10 200 0 0 0 0 0 0\n\
        cpu0 105 0 5 50 0 0 0 0 0 0\n\
        cpu1 5 0 5 145 5 0 0 0 0 0\n";

    #[test]
    fn idle_share_is_measured_over_the_chosen_cpus() {
        let (before, after) = (CpuTimes::parse(BEFORE), CpuTimes::parse(AFTER));
        let cpu0 = CpuSet::from_range(0..1);
        let cpu1 = CpuSet::from_range(1..2);
        assert_eq!(before.idle_pct_until(&after, Some(&cpu0)), Some(0.0));
        assert_eq!(before.idle_pct_until(&after, Some(&cpu1)), Some(100.0));
        assert_eq!(before.idle_pct_until(&after, None), Some(50.0));
        assert_eq!(before.idle_pct_until(&before, None), None, "no time passed");
        let absent = CpuSet::from_range(7..8);
        assert_eq!(before.idle_pct_until(&after, Some(&absent)), None);
    }
}
