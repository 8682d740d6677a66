//! Schedulers declared once for every test: the kernel tree's examples (built with the kernel by
//! `ktstr kernel build`) and the sched-ext project's published schedulers (`ktstr scheduler install`).
//! Each flag is a real switch from the scheduler's own usage text, so every profile runs; the switches
//! that inject faults (`scx_qmap -e/-t/-l`) are not flags: a fixture passes them as `extra_sched_args`.

use super::Scheduler;
use crate::Scheduler;

/// `scx_simple`: weighted vtime, or global FIFO with `-f`.
#[derive(Scheduler)]
#[scheduler(binary = "scx_simple")]
pub enum ScxSimpleFlags {
    /// `-f`: FIFO instead of weighted vtime scheduling.
    #[flag(args = ["-f"])]
    Fifo,
}

/// `scx_qmap`: five FIFO queues by priority.
#[derive(Scheduler)]
#[scheduler(binary = "scx_qmap")]
pub enum ScxQmapFlags {
    /// `-s 5000`: a 5 ms slice instead of 20 ms.
    #[flag(args = ["-s", "5000"])]
    ShortSlice,
    /// `-b 8`: dispatch up to 8 tasks together.
    #[flag(args = ["-b", "8"])]
    Batch,
    /// `-H`: boost nice -20 tasks in the shared queue (used with `-b`).
    #[flag(args = ["-H"], requires = [Batch])]
    BoostNice,
    /// `-p`: switch only tasks on the SCHED_EXT policy, not all.
    #[flag(args = ["-p"])]
    Partial,
}

/// `scx_central`: one CPU makes every scheduling decision. It needs a CPU besides the central one.
#[derive(Scheduler)]
#[scheduler(binary = "scx_central", min_cpus = 2)]
pub enum ScxCentralFlags {
    /// `-s 5000`: a 5 ms slice instead of 20 ms.
    #[flag(args = ["-s", "5000"])]
    ShortSlice,
    /// `-c 1`: CPU 1 is the central CPU instead of CPU 0.
    #[flag(args = ["-c", "1"])]
    CentralCpu1,
}

/// `scx_flatcg`: the cgroup hierarchy flattened into one level of weights.
#[derive(Scheduler)]
#[scheduler(binary = "scx_flatcg")]
pub enum ScxFlatcgFlags {
    /// `-s 5000`: a 5 ms slice instead of 20 ms.
    #[flag(args = ["-s", "5000"])]
    ShortSlice,
    /// `-i 1`: report every second.
    #[flag(args = ["-i", "1"])]
    Interval,
    /// `-f`: FIFO instead of weighted vtime scheduling.
    #[flag(args = ["-f"])]
    Fifo,
}

/// `scx_bpfland` (published): vruntime with interactive-task priority.
#[derive(Scheduler)]
#[scheduler(binary = "scx_bpfland")]
pub enum ScxBpflandFlags {
    /// `--local-pcpu`: per-CPU tasks go straight to their CPU's local queue.
    #[flag(args = ["--local-pcpu"])]
    LocalPcpu,
    /// `--local-kthreads`: per-CPU kthreads go straight to their CPU's local queue.
    #[flag(args = ["--local-kthreads"])]
    LocalKthreads,
    /// `--slice-us 5000`: a 5 ms maximum slice.
    #[flag(args = ["--slice-us", "5000"])]
    ShortSlice,
    /// `--no-wake-sync`: no synchronous wake-up optimisation.
    #[flag(args = ["--no-wake-sync"])]
    NoWakeSync,
}

/// `scx_rusty` (published): load balancing across LLC domains in user space. Judged at the default
/// thresholds like every scheduler; where it leaves a stacked pair stacked (docs/schedulers.md) the
/// fairness check says so.
#[derive(Scheduler)]
#[scheduler(binary = "scx_rusty")]
pub enum ScxRustyFlags {
    /// `--kthreads-local`: per-CPU kthreads dispatch locally.
    #[flag(args = ["--kthreads-local"])]
    KthreadsLocal,
    /// `--balanced-kworkers`: kworkers balanced across domains.
    #[flag(args = ["--balanced-kworkers"])]
    BalancedKworkers,
    /// `--no-load-balance`: user-space load balancing off.
    #[flag(args = ["--no-load-balance"])]
    NoLoadBalance,
    /// `--direct-greedy-numa`: direct greedy dispatch across NUMA nodes.
    #[flag(args = ["--direct-greedy-numa"])]
    DirectGreedyNuma,
}

/// `scx_lavd` (published): latency-criticality aware. Its power modes exclude one another and core
/// compaction, as its usage text says.
#[derive(Scheduler)]
#[scheduler(binary = "scx_lavd")]
pub enum ScxLavdFlags {
    #[flag(args = ["--performance"], excludes = [Powersave, Balanced, NoCoreCompaction])]
    Performance,
    #[flag(args = ["--powersave"], excludes = [Performance, Balanced, NoCoreCompaction])]
    Powersave,
    #[flag(args = ["--balanced"], excludes = [Performance, Powersave, NoCoreCompaction])]
    Balanced,
    /// `--no-core-compaction`: use every online CPU.
    #[flag(args = ["--no-core-compaction"])]
    NoCoreCompaction,
    /// `--per-cpu-dsq`: a dispatch queue per CPU.
    #[flag(args = ["--per-cpu-dsq"])]
    PerCpuDsq,
    /// `--no-preemption`.
    #[flag(args = ["--no-preemption"])]
    NoPreemption,
}

/// Every scheduler this module declares.
pub const ALL: [&Scheduler; 7] = [
    &SCX_SIMPLE,
    &SCX_QMAP,
    &SCX_CENTRAL,
    &SCX_FLATCG,
    &SCX_BPFLAND,
    &SCX_RUSTY,
    &SCX_LAVD,
];

/// The declared scheduler whose binary is `name`.
pub fn by_binary(name: &str) -> Option<&'static Scheduler> {
    ALL.into_iter().find(|s| s.binary_name() == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::Assert;

    #[test]
    fn every_declared_scheduler_has_a_distinct_binary_and_a_default_profile() {
        for s in ALL {
            assert_eq!(
                by_binary(s.binary_name().unwrap()).map(|d| d.name()),
                Some(s.name())
            );
            assert_eq!(s.profiles()[0].name(), "default");
        }
    }

    #[test]
    fn qmap_boost_needs_batch_and_lavd_power_modes_exclude_each_other() {
        let qmap: Vec<String> = SCX_QMAP.profiles().iter().map(|p| p.name()).collect();
        assert_eq!(qmap.len(), 12);
        assert!(qmap.contains(&"batch+boost-nice".to_string()));
        assert!(!qmap
            .iter()
            .any(|p| p.contains("boost-nice") && !p.contains("batch")));
        let lavd: Vec<String> = SCX_LAVD.profiles().iter().map(|p| p.name()).collect();
        assert!(!lavd
            .iter()
            .any(|p| p.contains("performance") && p.contains("powersave")));
        assert!(!lavd
            .iter()
            .any(|p| p.contains("balanced") && p.contains("no-core-compaction")));
        // none or one of the four exclusive settings, times per-cpu-dsq and no-preemption on or off
        assert_eq!(lavd.len(), 5 * 4);
    }

    #[test]
    fn declared_args_come_from_the_profile() {
        let q = SCX_QMAP
            .with_profile("boost-nice+batch+short-slice")
            .unwrap();
        assert_eq!(q.spec().args, ["-s", "5000", "-b", "8", "-H"]);
        assert_eq!(q.spec().diagnostic_args, ["-v"]);
        assert_eq!(SCX_RUSTY.assert_overrides(), Assert::NO_OVERRIDES);
        assert_eq!(SCX_CENTRAL.topology_constraints().min_cpus, Some(2));
    }
}
