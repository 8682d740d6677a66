//! `Topology`: the validated VM shape, written `1n2l4c1t` (NUMA nodes, LLCs, cores per LLC, threads per core).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{CpuSet, TopologyError};

/// A uniform VM CPU topology. Every value of this type has nonzero dimensions and LLCs spread evenly over nodes.
///
/// ```
/// use ktstr::topology::Topology;
/// let topo: Topology = "2n4l2c2t".parse()?;
/// assert_eq!((topo.total_cpus(), topo.llcs_per_node(), topo.cpus_per_llc()), (16, 2, 4));
/// # Ok::<(), ktstr::topology::TopologyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Topology {
    numa_nodes: u32,
    llcs: u32,
    cores_per_llc: u32,
    threads_per_core: u32,
}

impl Topology {
    /// One node, one LLC, two cores, one thread each (`1n1l2c1t`).
    pub const DEFAULT: Topology = Topology {
        numa_nodes: 1,
        llcs: 1,
        cores_per_llc: 2,
        threads_per_core: 1,
    };

    /// Most CPUs a topology may have: every CPU id must fit a cpu list.
    pub const MAX_CPUS: usize = CpuSet::MAX_CPU + 1;

    /// Most NUMA nodes a topology may have (QEMU's limit).
    pub const MAX_NUMA_NODES: u32 = 128;

    /// Validates and builds a topology; `llcs` counts LLCs over all nodes.
    pub fn new(
        numa_nodes: u32,
        llcs: u32,
        cores_per_llc: u32,
        threads_per_core: u32,
    ) -> Result<Topology, TopologyError> {
        let dimensions = [
            (numa_nodes, "NUMA nodes"),
            (llcs, "LLCs"),
            (cores_per_llc, "cores per LLC"),
            (threads_per_core, "threads per core"),
        ];
        if let Some((_, dimension)) = dimensions.iter().find(|(value, _)| *value == 0) {
            return Err(TopologyError::ZeroDimension { dimension });
        }
        if numa_nodes > Self::MAX_NUMA_NODES {
            return Err(TopologyError::TooManyNumaNodes {
                numa_nodes,
                max: Self::MAX_NUMA_NODES,
            });
        }
        if llcs % numa_nodes != 0 {
            return Err(TopologyError::LlcsNotMultipleOfNodes {
                numa_nodes,
                llcs,
                suggested_llcs: suggest_llcs(numa_nodes, llcs),
            });
        }
        let topo = Topology {
            numa_nodes,
            llcs,
            cores_per_llc,
            threads_per_core,
        };
        let total = u64::from(llcs)
            .checked_mul(u64::from(cores_per_llc))
            .and_then(|n| n.checked_mul(u64::from(threads_per_core)));
        match total {
            Some(total) if total <= Self::MAX_CPUS as u64 => Ok(topo),
            _ => Err(TopologyError::TooManyCpus {
                text: topo.to_string(),
                max: Self::MAX_CPUS,
            }),
        }
    }

    /// `new` for a `const` declaration: invalid dimensions panic, which is a compile error in a `const`.
    /// Use `new` (or `parse`) for values known only at run time.
    pub const fn declare(
        numa_nodes: u32,
        llcs: u32,
        cores_per_llc: u32,
        threads_per_core: u32,
    ) -> Topology {
        if numa_nodes == 0 || llcs == 0 || cores_per_llc == 0 || threads_per_core == 0 {
            panic!("every topology dimension must be at least 1");
        }
        if numa_nodes > Self::MAX_NUMA_NODES {
            panic!("a topology has at most 128 NUMA nodes");
        }
        if llcs % numa_nodes != 0 {
            panic!("LLCs must split evenly over NUMA nodes: give a multiple of the node count");
        }
        let total = llcs as u64 * cores_per_llc as u64 * threads_per_core as u64;
        if total > Self::MAX_CPUS as u64 {
            panic!("a topology has at most 65536 CPUs");
        }
        Topology {
            numa_nodes,
            llcs,
            cores_per_llc,
            threads_per_core,
        }
    }

    pub fn numa_nodes(&self) -> u32 {
        self.numa_nodes
    }

    /// LLCs over all nodes.
    pub fn llcs(&self) -> u32 {
        self.llcs
    }

    pub fn cores_per_llc(&self) -> u32 {
        self.cores_per_llc
    }

    pub fn threads_per_core(&self) -> u32 {
        self.threads_per_core
    }

    /// `llcs * cores_per_llc * threads_per_core`; fits because `new` caps it at `MAX_CPUS`.
    pub fn total_cpus(&self) -> u32 {
        self.llcs * self.cpus_per_llc()
    }

    pub fn llcs_per_node(&self) -> u32 {
        self.llcs / self.numa_nodes
    }

    pub fn cpus_per_llc(&self) -> u32 {
        self.cores_per_llc * self.threads_per_core
    }
}

/// The nearest LLC count at or above `llcs` that `numa_nodes` divides, or the node count when that overflows.
fn suggest_llcs(numa_nodes: u32, llcs: u32) -> u32 {
    llcs.div_ceil(numa_nodes)
        .checked_mul(numa_nodes)
        .unwrap_or(numa_nodes)
}

impl Default for Topology {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}n{}l{}c{}t",
            self.numa_nodes, self.llcs, self.cores_per_llc, self.threads_per_core
        )
    }
}

impl FromStr for Topology {
    type Err = TopologyError;

    /// Strict parse of `<nodes>n<llcs>l<cores>c<threads>t`: no spaces, signs or extra text.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |reason: String| TopologyError::BadTopologyText {
            text: text.to_string(),
            reason,
        };
        let mut rest = text;
        let mut values = [0u32; 4];
        for (value, (suffix, dimension)) in values.iter_mut().zip(DIMENSION_SUFFIXES) {
            let digits_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let (digits, after) = rest.split_at(digits_len);
            if digits.is_empty() {
                return Err(bad(format!(
                    "expected the number of {dimension} at {rest:?}"
                )));
            }
            *value = digits
                .parse()
                .map_err(|_| bad(format!("{digits} {dimension} is too many")))?;
            rest = after
                .strip_prefix(suffix)
                .ok_or_else(|| bad(format!("expected '{suffix}' after {digits}")))?;
        }
        if !rest.is_empty() {
            return Err(bad(format!("unexpected {rest:?} after the 't'")));
        }
        let [numa_nodes, llcs, cores, threads] = values;
        Topology::new(numa_nodes, llcs, cores, threads)
    }
}

/// The letter after each number in the text form, with the dimension it counts.
const DIMENSION_SUFFIXES: [(char, &str); 4] = [
    ('n', "NUMA nodes"),
    ('l', "LLCs"),
    ('c', "cores per LLC"),
    ('t', "threads per core"),
];

impl From<Topology> for String {
    fn from(topo: Topology) -> String {
        topo.to_string()
    }
}

impl TryFrom<String> for Topology {
    type Error = TopologyError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_and_display_agree() {
        let cases = [
            ("1n1l2c1t", (1, 1, 2, 1), 2),
            ("1n2l4c1t", (1, 2, 4, 1), 8),
            ("2n4l1c1t", (2, 4, 1, 1), 4),
            ("1n2l2c2t", (1, 2, 2, 2), 8),
            ("4n12l8c2t", (4, 12, 8, 2), 192),
        ];
        for (text, (n, l, c, t), cpus) in cases {
            let topo: Topology = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            let dims = (
                topo.numa_nodes(),
                topo.llcs(),
                topo.cores_per_llc(),
                topo.threads_per_core(),
            );
            assert_eq!(dims, (n, l, c, t), "{text}");
            assert_eq!(topo.total_cpus(), cpus, "{text}");
            assert_eq!(topo.to_string(), text);
        }
    }

    #[test]
    fn derived_counts() {
        let topo = Topology::new(2, 8, 4, 2).expect("valid");
        assert_eq!(
            (topo.llcs_per_node(), topo.cpus_per_llc(), topo.total_cpus()),
            (4, 8, 64)
        );
    }

    #[test]
    fn default_is_one_llc_of_two_cores() {
        assert_eq!(Topology::default().to_string(), "1n1l2c1t");
        assert_eq!(Topology::DEFAULT, Topology::new(1, 1, 2, 1).expect("valid"));
    }

    #[test]
    fn zero_dimensions_are_named() {
        let cases = [
            ((0, 1, 1, 1), "NUMA nodes"),
            ((1, 0, 1, 1), "LLCs"),
            ((1, 1, 0, 1), "cores per LLC"),
            ((1, 1, 1, 0), "threads per core"),
        ];
        for ((n, l, c, t), want) in cases {
            match Topology::new(n, l, c, t) {
                Err(TopologyError::ZeroDimension { dimension }) => assert_eq!(dimension, want),
                other => panic!("{n}n{l}l{c}c{t}t: {other:?}"),
            }
        }
    }

    #[test]
    fn llcs_must_divide_over_nodes() {
        let cases = [((2, 3), 4), ((4, 6), 8), ((3, 1), 3)];
        for ((numa_nodes, llcs), want) in cases {
            let err = Topology::new(numa_nodes, llcs, 1, 1).expect_err("uneven split");
            let TopologyError::LlcsNotMultipleOfNodes { suggested_llcs, .. } = err else {
                panic!("{numa_nodes}n{llcs}l: {err:?}");
            };
            assert_eq!(suggested_llcs, want);
            assert!(Topology::new(numa_nodes, suggested_llcs, 1, 1).is_ok());
        }
    }

    #[test]
    fn too_many_cpus_is_rejected() {
        for (l, c, t) in [
            (65_537, 1, 1),
            (256, 256, 2),
            (u32::MAX, u32::MAX, u32::MAX),
        ] {
            let err = Topology::new(1, l, c, t).expect_err("too big");
            assert!(matches!(err, TopologyError::TooManyCpus { .. }), "{err:?}");
        }
        assert!(Topology::new(1, 256, 256, 1).is_ok());
    }

    #[test]
    fn too_many_numa_nodes_is_rejected() {
        let err = Topology::new(129, 129, 1, 1).expect_err("too many nodes");
        assert!(
            matches!(
                err,
                TopologyError::TooManyNumaNodes {
                    numa_nodes: 129,
                    max: 128
                }
            ),
            "{err:?}"
        );
        assert!(Topology::new(128, 128, 1, 1).is_ok());
    }

    #[test]
    fn malformed_text_is_rejected() {
        let bad = [
            "",
            "1n2l4c",
            "1n2l4c1",
            "n2l4c1t",
            "1n2l4c1t ",
            " 1n2l4c1t",
            "1n 2l4c1t",
            "1N2L4C1T",
            "+1n2l4c1t",
            "1n2l4c1tx",
            "1l2n4c1t",
            "1,2,4,1",
            "99999999999n1l1c1t",
            "1n2l4c1t1t",
        ];
        for text in bad {
            let err = text.parse::<Topology>().expect_err(text);
            assert!(
                matches!(err, TopologyError::BadTopologyText { .. }),
                "{text:?}: {err:?}"
            );
        }
    }

    #[test]
    fn text_with_invalid_shape_reports_the_shape_problem() {
        assert!(matches!(
            "1n0l2c1t".parse::<Topology>(),
            Err(TopologyError::ZeroDimension { dimension: "LLCs" })
        ));
        assert!(matches!(
            "2n3l2c1t".parse::<Topology>(),
            Err(TopologyError::LlcsNotMultipleOfNodes {
                numa_nodes: 2,
                llcs: 3,
                ..
            })
        ));
    }

    #[test]
    fn serde_uses_the_text_form() {
        let topo = Topology::new(2, 4, 2, 1).expect("valid");
        assert_eq!(
            serde_json::to_string(&topo).expect("serializes"),
            "\"2n4l2c1t\""
        );
        let back: Topology = serde_json::from_str("\"2n4l2c1t\"").expect("deserializes");
        assert_eq!(back, topo);
        assert!(serde_json::from_str::<Topology>("\"2n3l2c1t\"").is_err());
    }

    proptest! {
        #[test]
        fn text_round_trips(n in 1u32..8, per_node in 1u32..8, c in 1u32..64, t in 1u32..4) {
            let topo = Topology::new(n, n * per_node, c, t).expect("valid by construction");
            prop_assert_eq!(topo.to_string().parse::<Topology>().expect("own output parses"), topo);
        }

        #[test]
        fn parse_validates_like_new(n in 0u32..5, l in 0u32..9, c in 0u32..5, t in 0u32..3) {
            let parsed = format!("{n}n{l}l{c}c{t}t").parse::<Topology>();
            match (parsed, Topology::new(n, l, c, t)) {
                (Ok(got), Ok(want)) => prop_assert_eq!(got, want),
                (Err(got), Err(want)) => {
                    prop_assert_eq!(std::mem::discriminant(&got), std::mem::discriminant(&want))
                }
                (got, want) => prop_assert!(false, "parse gave {:?}, new gave {:?}", got, want),
            }
        }
    }
}
