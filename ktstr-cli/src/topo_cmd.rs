//! `ktstr topo`: this host's CPU topology in the `XnYlZcWt` form and as a tree (nodes, LLCs, cores and their
//! CPUs), and which gauntlet presets it can boot under its accelerator.

use ktstr::pipeline::gauntlet::HostCapacity;
use ktstr::topology::presets::PRESETS;
use ktstr::topology::{format_cpu_list, TestTopology};
use serde::Serialize;

use crate::error::CliError;

type Result<T> = std::result::Result<T, CliError>;

#[derive(Serialize)]
struct TopoView {
    /// `1n2l4c2t`, or `null` when the host is not uniform.
    shape: Option<String>,
    /// Why there is no shape.
    non_uniform: Option<String>,
    cpus: usize,
    nodes: Vec<NodeView>,
    accel: String,
    presets: Vec<PresetView>,
}

#[derive(Serialize)]
struct NodeView {
    node: usize,
    cpus: String,
    llcs: Vec<LlcView>,
}

#[derive(Serialize)]
struct LlcView {
    llc: usize,
    cpus: String,
    cache_kb: Option<u64>,
    /// Each core's CPUs (SMT siblings together).
    cores: Vec<String>,
}

#[derive(Serialize)]
struct PresetView {
    name: &'static str,
    shape: String,
    cpus: u32,
    /// Why this host cannot boot it, or `null`.
    refused: Option<String>,
}

pub fn run(json: bool) -> Result<()> {
    let topo = TestTopology::from_sysfs().map_err(CliError::HostTopology)?;
    let host = HostCapacity::here();
    let (shape, non_uniform) = match topo.shape() {
        Ok(shape) => (Some(shape.to_string()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let nodes = topo
        .numa_node_ids()
        .into_iter()
        .map(|node| NodeView {
            node,
            cpus: format_cpu_list(&topo.numa_node_cpus(node)),
            llcs: topo
                .llcs()
                .iter()
                .filter(|l| l.numa_node == node)
                .map(|l| LlcView {
                    llc: l.index,
                    cpus: format_cpu_list(&l.cpus),
                    cache_kb: l.cache_size_kb,
                    cores: l.cores.values().map(format_cpu_list).collect(),
                })
                .collect(),
        })
        .collect();
    let view = TopoView {
        shape,
        non_uniform,
        cpus: topo.total_cpus(),
        nodes,
        accel: host.accel.to_string(),
        presets: PRESETS
            .iter()
            .map(|p| PresetView {
                name: p.name,
                shape: p.topology.to_string(),
                cpus: p.topology.total_cpus(),
                refused: host.refuses(p),
            })
            .collect(),
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&view).map_err(|e| CliError::Stats(e.to_string()))?
        );
        return Ok(());
    }
    match (&view.shape, &view.non_uniform) {
        (Some(shape), _) => println!("this host: {shape} ({} CPUs)", view.cpus),
        (None, Some(why)) => println!("this host: {} CPUs, not uniform ({why})", view.cpus),
        (None, None) => println!("this host: {} CPUs", view.cpus),
    }
    for node in &view.nodes {
        println!("node {} (cpus {})", node.node, node.cpus);
        for llc in &node.llcs {
            let cache = llc
                .cache_kb
                .map_or(String::new(), |kb| format!(", {kb} KiB"));
            println!("  LLC {} (cpus {}{cache})", llc.llc, llc.cpus);
            for (i, core) in llc.cores.iter().enumerate() {
                println!("    core {i}: cpus {core}");
            }
        }
    }
    println!("gauntlet presets under {}:", view.accel);
    for p in &view.presets {
        match &p.refused {
            None => println!(
                "  {:<16} {:<10} {:>3} CPUs  bootable",
                p.name, p.shape, p.cpus
            ),
            Some(why) => println!(
                "  {:<16} {:<10} {:>3} CPUs  not here: {why}",
                p.name, p.shape, p.cpus
            ),
        }
    }
    Ok(())
}
