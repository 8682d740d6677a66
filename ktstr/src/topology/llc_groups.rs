//! Groups per-CPU sysfs facts into LLCs (CPUs sharing an L3, else a package) and each LLC's cores.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use super::{CpuSet, LlcInfo, TopologyError};

/// What sysfs says about one online CPU; CPU sets are limited to online CPUs.
pub(super) struct CpuFacts {
    pub(super) core_id: usize,
    pub(super) package_id: i64,
    /// `thread_siblings_list`: the CPUs of this CPU's core.
    pub(super) siblings: CpuSet,
    /// L3 `shared_cpu_list` and size in KiB; `None` when the CPU has no `cache/index3`.
    pub(super) l3: Option<(CpuSet, u64)>,
}

/// LLCs ordered by lowest CPU; each LLC's node is the one holding its lowest CPU.
pub(super) fn group_llcs(
    facts: &BTreeMap<usize, CpuFacts>,
    nodes: &BTreeMap<usize, CpuSet>,
) -> Result<Vec<LlcInfo>, TopologyError> {
    let llc_of: BTreeMap<usize, CpuSet> = facts
        .iter()
        .map(|(&cpu, f)| (cpu, llc_cpus(facts, f)))
        .collect();
    check_llcs_partition(&llc_of)?;
    llc_of
        .iter()
        .filter(|(&cpu, cpus)| cpus.first() == Some(cpu))
        .enumerate()
        .map(|(index, (_, cpus))| build_llc(index, cpus, facts, nodes))
        .collect()
}

/// The CPUs sharing `cpu`'s L3, or its package's CPUs when it has no L3 entry.
fn llc_cpus(facts: &BTreeMap<usize, CpuFacts>, cpu: &CpuFacts) -> CpuSet {
    match &cpu.l3 {
        Some((cpus, _)) => cpus.clone(),
        None => facts
            .iter()
            .filter(|(_, other)| other.package_id == cpu.package_id)
            .map(|(&other, _)| other)
            .collect(),
    }
}

/// Every CPU must be in its own LLC, and every CPU of that LLC must name the same LLC.
fn check_llcs_partition(llc_of: &BTreeMap<usize, CpuSet>) -> Result<(), TopologyError> {
    for (&cpu, cpus) in llc_of {
        if !cpus.contains(cpu) {
            return Err(inconsistent(format!(
                "CPU {cpu}'s LLC {cpus} does not include CPU {cpu}"
            )));
        }
        if let Some(other) = cpus.iter().find(|other| llc_of.get(other) != Some(cpus)) {
            return Err(inconsistent(format!(
                "CPU {cpu} shares an LLC with CPUs {cpus}, but CPU {other} reports a different LLC"
            )));
        }
    }
    Ok(())
}

fn build_llc(
    index: usize,
    cpus: &CpuSet,
    facts: &BTreeMap<usize, CpuFacts>,
    nodes: &BTreeMap<usize, CpuSet>,
) -> Result<LlcInfo, TopologyError> {
    let mut cores: BTreeMap<usize, CpuSet> = BTreeMap::new();
    for cpu in cpus {
        let facts = &facts[&cpu];
        if !facts.siblings.contains(cpu) || !facts.siblings.is_subset(cpus) {
            return Err(inconsistent(format!(
                "CPU {cpu}'s thread siblings {} are not a core of its LLC {cpus}",
                facts.siblings
            )));
        }
        match cores.entry(facts.core_id) {
            Entry::Vacant(entry) => {
                entry.insert(facts.siblings.clone());
            }
            Entry::Occupied(entry) if *entry.get() != facts.siblings => {
                return Err(inconsistent(format!(
                    "core id {} in LLC {cpus} has CPUs {} and also CPUs {}",
                    facts.core_id,
                    entry.get(),
                    facts.siblings
                )));
            }
            Entry::Occupied(_) => {}
        }
    }
    let first = cpus.first().unwrap_or_default();
    let numa_node = nodes
        .iter()
        .find(|(_, node_cpus)| node_cpus.contains(first))
        .map(|(&node, _)| node)
        .ok_or_else(|| inconsistent(format!("CPU {first} is in no NUMA node")))?;
    Ok(LlcInfo {
        index,
        cpus: cpus.clone(),
        numa_node,
        cache_size_kb: facts[&first].l3.as_ref().map(|&(_, kb)| kb),
        cores,
    })
}

fn inconsistent(detail: String) -> TopologyError {
    TopologyError::SysfsInconsistent { detail }
}
