//! Named VM topologies the gauntlet runs every test over: together they cover one CPU, SMT siblings, one
//! big LLC, many small LLCs, odd LLC counts, two and four NUMA nodes, and the widest shape a small TCG host
//! boots, with wider ones for hosts that can (each skipped, with the reason, where the host cannot).
//! Every preset is uniform: the same LLCs per node and cores per LLC, as `Topology` is.

use super::Topology;

/// A named topology and what it is there to exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    pub name: &'static str,
    pub topology: Topology,
    pub exercises: &'static str,
}

const fn preset(name: &'static str, topology: Topology, exercises: &'static str) -> Preset {
    Preset {
        name,
        topology,
        exercises,
    }
}

/// Every preset, smallest first.
pub const PRESETS: [Preset; 16] = [
    preset(
        "single-cpu",
        Topology::declare(1, 1, 1, 1),
        "one CPU: nothing to balance, everything contends",
    ),
    preset(
        "tiny-1llc",
        Topology::declare(1, 1, 4, 1),
        "one LLC of four cores",
    ),
    preset(
        "tiny-2llc",
        Topology::declare(1, 2, 2, 1),
        "two LLCs of two cores",
    ),
    preset(
        "smt-1llc",
        Topology::declare(1, 1, 2, 2),
        "SMT siblings in one LLC",
    ),
    preset(
        "numa2-2llc",
        Topology::declare(2, 2, 2, 1),
        "two NUMA nodes, one LLC each",
    ),
    preset(
        "numa4-4llc",
        Topology::declare(4, 4, 1, 1),
        "four NUMA nodes of one CPU each",
    ),
    preset(
        "smt-2llc",
        Topology::declare(1, 2, 2, 2),
        "SMT siblings across two LLCs",
    ),
    preset(
        "big-1llc",
        Topology::declare(1, 1, 8, 1),
        "one big LLC of eight cores",
    ),
    preset(
        "small-8llc",
        Topology::declare(1, 8, 1, 1),
        "eight one-core LLCs",
    ),
    preset(
        "odd-3llc",
        Topology::declare(1, 3, 3, 1),
        "an odd number of LLCs",
    ),
    preset(
        "numa2-6llc-smt",
        Topology::declare(2, 6, 1, 2),
        "three LLCs per node, SMT, two nodes",
    ),
    preset(
        "odd-5llc",
        Topology::declare(1, 5, 3, 1),
        "five LLCs of three cores",
    ),
    preset(
        "numa2-4llc",
        Topology::declare(2, 4, 4, 1),
        "two nodes of two four-core LLCs",
    ),
    preset(
        "max-tcg",
        Topology::declare(2, 4, 2, 2),
        "16 CPUs: the widest a 2-CPU TCG host boots",
    ),
    preset(
        "medium-4llc",
        Topology::declare(1, 4, 4, 2),
        "32 CPUs in four SMT LLCs",
    ),
    preset(
        "numa4-8llc",
        Topology::declare(4, 8, 4, 1),
        "32 CPUs over four nodes",
    ),
];

/// The preset named `name`.
pub fn preset_named(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The shape features of a topology the gauntlet's budget tries to cover, each at least once per flag.
pub fn features(topology: &Topology) -> Vec<&'static str> {
    let mut out = Vec::new();
    let llcs = topology.llcs();
    out.push(match topology.total_cpus() {
        1 => "cpus:1",
        2..=4 => "cpus:2-4",
        5..=8 => "cpus:5-8",
        _ => "cpus:9+",
    });
    out.push(match llcs {
        1 => "llcs:1",
        2 => "llcs:2",
        n if n % 2 == 1 => "llcs:odd",
        _ => "llcs:4+",
    });
    if topology.threads_per_core() > 1 {
        out.push("smt");
    }
    out.push(match topology.numa_nodes() {
        1 => "numa:1",
        2 => "numa:2",
        _ => "numa:4+",
    });
    if topology.cores_per_llc() >= 8 {
        out.push("big-llc");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_unique_and_cover_every_shape_the_gauntlet_promises() {
        let mut names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PRESETS.len());
        let covered: Vec<&str> = PRESETS.iter().flat_map(|p| features(&p.topology)).collect();
        for want in [
            "cpus:1", "smt", "big-llc", "llcs:odd", "llcs:4+", "numa:2", "numa:4+", "llcs:1",
        ] {
            assert!(covered.contains(&want), "no preset has {want}");
        }
        assert_eq!(
            preset_named("odd-3llc").unwrap().topology.to_string(),
            "1n3l3c1t"
        );
        assert!(preset_named("nope").is_none());
    }

    #[test]
    fn features_name_the_shape() {
        let f = |t: &str| features(&t.parse().unwrap());
        assert_eq!(f("1n1l1c1t"), ["cpus:1", "llcs:1", "numa:1"]);
        assert_eq!(f("2n6l1c2t"), ["cpus:9+", "llcs:4+", "smt", "numa:2"]);
        assert_eq!(f("1n3l3c1t"), ["cpus:9+", "llcs:odd", "numa:1"]);
        assert_eq!(f("1n1l8c1t"), ["cpus:5-8", "llcs:1", "numa:1", "big-llc"]);
    }
}
