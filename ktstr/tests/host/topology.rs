//! `TestTopology::from_sysfs` on this machine agrees with what the kernel and libc report directly.

use std::collections::BTreeSet;

use ktstr::topology::{CpuSet, TestTopology, TopologyError};

fn host() -> TestTopology {
    TestTopology::from_sysfs()
        .unwrap_or_else(|e| panic!("this host's /sys must describe its CPUs: {e}"))
}

fn sysfs_text(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading {path}: {e}"))
        .trim()
        .to_string()
}

#[test]
fn cpus_match_the_online_file_and_libc() {
    let topo = host();
    assert_eq!(
        topo.all_cpus().to_string(),
        sysfs_text("/sys/devices/system/cpu/online")
    );
    // SAFETY: sysconf only reads a system constant.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    assert_eq!(
        usize::try_from(online).ok(),
        Some(topo.total_cpus()),
        "sysconf(_SC_NPROCESSORS_ONLN)"
    );
    let parallelism = std::thread::available_parallelism()
        .expect("available_parallelism")
        .get();
    assert!(
        parallelism <= topo.total_cpus(),
        "{parallelism} usable threads but {} CPUs",
        topo.total_cpus()
    );
}

#[test]
fn this_process_may_run_only_on_known_cpus() {
    let topo = host();
    let mask =
        nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).expect("sched_getaffinity");
    let allowed: CpuSet = (0..nix::sched::CpuSet::count())
        .filter(|&cpu| mask.is_set(cpu).unwrap_or(false))
        .collect();
    assert!(
        !allowed.is_empty() && allowed.is_subset(topo.all_cpus()),
        "affinity {allowed} vs {}",
        topo.all_cpus()
    );
}

#[test]
fn llcs_and_nodes_partition_the_cpus() {
    let topo = host();
    let llc_cpus: usize = topo.llcs().iter().map(|llc| llc.cpus.len()).sum();
    assert_eq!(llc_cpus, topo.total_cpus(), "every CPU in exactly one LLC");
    let node_cpus: usize = topo
        .numa_node_ids()
        .into_iter()
        .map(|n| topo.numa_node_cpus(n).len())
        .sum();
    assert_eq!(
        node_cpus,
        topo.total_cpus(),
        "every CPU in exactly one node"
    );
    for node in topo.numa_node_ids() {
        assert_eq!(
            topo.numa_distance(node, node),
            Some(10),
            "local distance of node {node}"
        );
    }
    for cpu in topo.all_cpus() {
        let path = format!("/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list");
        assert_eq!(
            topo.smt_siblings(cpu).to_string(),
            sysfs_text(&path),
            "cpu {cpu}"
        );
        assert!(topo.llc_of_cpu(cpu).is_some(), "cpu {cpu} has an LLC");
    }
}

/// Whether every node has the same number of LLCs, every LLC the same number of cores, every core the same
/// number of threads, and no LLC crosses a node, counted straight from the queries.
fn looks_uniform(topo: &TestTopology) -> bool {
    let distinct = |counts: Vec<usize>| counts.into_iter().collect::<BTreeSet<_>>().len() == 1;
    let llcs_per_node = topo
        .numa_node_ids()
        .into_iter()
        .map(|node| {
            topo.llcs()
                .iter()
                .filter(|llc| llc.numa_node == node)
                .count()
        })
        .collect();
    let cores_per_llc = topo.llcs().iter().map(|llc| llc.cores.len()).collect();
    let threads_per_core = topo.cores().iter().map(CpuSet::len).collect();
    let llcs_in_one_node = topo
        .llcs()
        .iter()
        .all(|llc| topo.numa_nodes_for_cpuset(&llc.cpus).len() == 1);
    distinct(llcs_per_node)
        && distinct(cores_per_llc)
        && distinct(threads_per_core)
        && llcs_in_one_node
}

#[test]
fn shape_matches_the_host_layout() {
    let topo = host();
    match topo.shape() {
        Ok(shape) => {
            assert!(looks_uniform(&topo), "shape {shape} for a non-uniform host");
            assert_eq!(
                shape.total_cpus() as usize,
                topo.total_cpus(),
                "shape {shape}"
            );
            assert_eq!(shape.llcs() as usize, topo.num_llcs(), "shape {shape}");
            assert_eq!(
                shape.numa_nodes() as usize,
                topo.num_numa_nodes(),
                "shape {shape}"
            );
        }
        Err(TopologyError::NonUniform { detail }) => {
            assert!(!looks_uniform(&topo), "called non-uniform: {detail}")
        }
        Err(other) => panic!("shape of this host: {other}"),
    }
}
