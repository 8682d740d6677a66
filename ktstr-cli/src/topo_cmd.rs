//! `ktstr topo`: this host's CPU topology in the `XnYlZcWt` form and as a tree (nodes, LLCs, cores and their
//! CPUs), and which gauntlet presets it can boot under its accelerator.

use ktstr::pipeline::gauntlet::HostCapacity;
use ktstr::topology::presets::PRESETS;
use ktstr::topology::{format_cpu_list, LlcInfo, TestTopology};
use std::fmt::Write;

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
    let view = TopoView::of_host()?;
    if json {
        let text =
            serde_json::to_string_pretty(&view).map_err(|e| CliError::Stats(e.to_string()))?;
        println!("{text}");
    } else {
        print!("{}", view.render());
    }
    Ok(())
}

impl TopoView {
    fn of_host() -> Result<Self> {
        let topo = TestTopology::from_sysfs().map_err(CliError::HostTopology)?;
        let host = HostCapacity::here();
        let (shape, non_uniform) = match topo.shape() {
            Ok(shape) => (Some(shape.to_string()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Ok(TopoView {
            shape,
            non_uniform,
            cpus: topo.total_cpus(),
            nodes: nodes_of(&topo),
            accel: host.accel.to_string(),
            presets: presets_on(&host),
        })
    }

    /// The text form: the host's shape, its tree, then each preset's verdict.
    fn render(&self) -> String {
        let mut out = match (&self.shape, &self.non_uniform) {
            (Some(shape), _) => format!("this host: {shape} ({} CPUs)\n", self.cpus),
            (None, Some(why)) => format!("this host: {} CPUs, not uniform ({why})\n", self.cpus),
            (None, None) => format!("this host: {} CPUs\n", self.cpus),
        };
        for node in &self.nodes {
            node.render(&mut out);
        }
        let _ = writeln!(out, "gauntlet presets under {}:", self.accel);
        for preset in &self.presets {
            preset.render(&mut out);
        }
        out
    }
}

fn nodes_of(topo: &TestTopology) -> Vec<NodeView> {
    topo.numa_node_ids()
        .into_iter()
        .map(|node| NodeView {
            node,
            cpus: format_cpu_list(&topo.numa_node_cpus(node)),
            llcs: topo
                .llcs()
                .iter()
                .filter(|l| l.numa_node == node)
                .map(LlcView::of)
                .collect(),
        })
        .collect()
}

fn presets_on(host: &HostCapacity) -> Vec<PresetView> {
    PRESETS
        .iter()
        .map(|p| PresetView {
            name: p.name,
            shape: p.topology.to_string(),
            cpus: p.topology.total_cpus(),
            refused: host.refuses(p),
        })
        .collect()
}

impl LlcView {
    fn of(llc: &LlcInfo) -> Self {
        LlcView {
            llc: llc.index,
            cpus: format_cpu_list(&llc.cpus),
            cache_kb: llc.cache_size_kb,
            cores: llc.cores.values().map(format_cpu_list).collect(),
        }
    }
}

impl NodeView {
    fn render(&self, out: &mut String) {
        let _ = writeln!(out, "node {} (cpus {})", self.node, self.cpus);
        for llc in &self.llcs {
            let cache = llc
                .cache_kb
                .map_or(String::new(), |kb| format!(", {kb} KiB"));
            let _ = writeln!(out, "  LLC {} (cpus {}{cache})", llc.llc, llc.cpus);
            for (i, core) in llc.cores.iter().enumerate() {
                let _ = writeln!(out, "    core {i}: cpus {core}");
            }
        }
    }
}

impl PresetView {
    fn render(&self, out: &mut String) {
        let verdict = match &self.refused {
            None => "bootable".to_string(),
            Some(why) => format!("not here: {why}"),
        };
        let _ = writeln!(
            out,
            "  {:<16} {:<10} {:>3} CPUs  {verdict}",
            self.name, self.shape, self.cpus
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_shows_the_tree_and_why_a_preset_is_refused() {
        let view = TopoView {
            shape: None,
            non_uniform: Some("LLCs of different sizes".into()),
            cpus: 3,
            nodes: vec![NodeView {
                node: 0,
                cpus: "0-2".into(),
                llcs: vec![LlcView {
                    llc: 0,
                    cpus: "0-2".into(),
                    cache_kb: Some(512),
                    cores: vec!["0-1".into(), "2".into()],
                }],
            }],
            accel: "kvm".into(),
            presets: vec![PresetView {
                name: "big-1llc",
                shape: "1n1l8c1t".into(),
                cpus: 8,
                refused: Some("needs 8 CPUs".into()),
            }],
        };
        assert_eq!(
            view.render(),
            "this host: 3 CPUs, not uniform (LLCs of different sizes)\n\
             node 0 (cpus 0-2)\n  LLC 0 (cpus 0-2, 512 KiB)\n    core 0: cpus 0-1\n    core 1: cpus 2\n\
             gauntlet presets under kvm:\n  big-1llc         1n1l8c1t     8 CPUs  not here: needs 8 CPUs\n"
        );
    }
}
