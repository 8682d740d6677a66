//! Reads a `TestTopology` from sysfs: online CPUs, their cores and L3 caches, NUMA nodes and distances.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::llc_groups::{group_llcs, CpuFacts};
use super::test_topology::LOCAL_DISTANCE;
use super::{CpuSet, TestTopology, TopologyError};

impl TestTopology {
    /// Reads this machine's topology from `/sys`.
    pub fn from_sysfs() -> Result<TestTopology, TopologyError> {
        TestTopology::from_sysfs_root(Path::new("/sys"))
    }

    /// Reads the topology from a sysfs tree mounted at `root` (the directory standing for `/sys`).
    pub fn from_sysfs_root(root: &Path) -> Result<TestTopology, TopologyError> {
        let sysfs = Sysfs { root };
        let online = sysfs.cpu_list("devices/system/cpu/online")?;
        if online.is_empty() {
            return Err(TopologyError::SysfsParse {
                path: sysfs.path("devices/system/cpu/online"),
                text: String::new(),
                expected: "at least one online CPU".into(),
            });
        }
        let facts = online
            .iter()
            .map(|cpu| sysfs.cpu_facts(cpu, &online).map(|facts| (cpu, facts)))
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        let (nodes, distances) = sysfs.numa_nodes(&online)?;
        let llcs = group_llcs(&facts, &nodes)?;
        Ok(TestTopology::from_parts(llcs, nodes, distances))
    }
}

/// Node id → its online CPUs, and (from, to) → distance.
type NodeMaps = (BTreeMap<usize, CpuSet>, BTreeMap<(usize, usize), u32>);

/// Typed reads of files below a sysfs root; every error names the file.
struct Sysfs<'a> {
    root: &'a Path,
}

impl Sysfs<'_> {
    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    fn read(&self, relative: &str) -> Result<String, TopologyError> {
        let path = self.path(relative);
        std::fs::read_to_string(&path).map_err(|source| TopologyError::SysfsRead { path, source })
    }

    /// Whether `relative` exists; errors other than "not found" are reported.
    fn exists(&self, relative: &str) -> Result<bool, TopologyError> {
        let path = self.path(relative);
        match std::fs::metadata(&path) {
            Ok(_) => Ok(true),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(false),
            Err(source) => Err(TopologyError::SysfsRead { path, source }),
        }
    }

    fn parse_error(&self, relative: &str, text: &str, expected: &str) -> TopologyError {
        TopologyError::SysfsParse {
            path: self.path(relative),
            text: text.trim().to_string(),
            expected: expected.to_string(),
        }
    }

    fn number<T: std::str::FromStr>(&self, relative: &str) -> Result<T, TopologyError> {
        let text = self.read(relative)?;
        text.trim()
            .parse()
            .map_err(|_| self.parse_error(relative, &text, "a whole number"))
    }

    fn cpu_list(&self, relative: &str) -> Result<CpuSet, TopologyError> {
        let text = self.read(relative)?;
        CpuSet::parse(&text).map_err(|_| self.parse_error(relative, &text, "a cpu list like 0-3,5"))
    }

    /// Cache size in KiB from text such as `32768K`.
    fn size_kb(&self, relative: &str) -> Result<u64, TopologyError> {
        let text = self.read(relative)?;
        let kb = text.trim().strip_suffix('K').and_then(|n| n.parse().ok());
        kb.ok_or_else(|| self.parse_error(relative, &text, "a size like 32768K"))
    }

    /// What sysfs says about one online CPU; sibling and cache sets are limited to `online`.
    fn cpu_facts(&self, cpu: usize, online: &CpuSet) -> Result<CpuFacts, TopologyError> {
        let dir = format!("devices/system/cpu/cpu{cpu}");
        let l3_dir = format!("{dir}/cache/index3");
        let l3 = if self.exists(&l3_dir)? {
            let cpus = self.cpu_list(&format!("{l3_dir}/shared_cpu_list"))?;
            Some((
                cpus.intersection(online),
                self.size_kb(&format!("{l3_dir}/size"))?,
            ))
        } else {
            None
        };
        Ok(CpuFacts {
            core_id: self.number(&format!("{dir}/topology/core_id"))?,
            package_id: self.number(&format!("{dir}/topology/physical_package_id"))?,
            siblings: self
                .cpu_list(&format!("{dir}/topology/thread_siblings_list"))?
                .intersection(online),
            l3,
        })
    }

    /// NUMA nodes and distances; without a node directory, one node 0 holding every online CPU.
    fn numa_nodes(&self, online: &CpuSet) -> Result<NodeMaps, TopologyError> {
        let Some(ids) = self.node_ids()? else {
            return Ok((
                BTreeMap::from([(0, online.clone())]),
                BTreeMap::from([((0, 0), LOCAL_DISTANCE)]),
            ));
        };
        let mut nodes = BTreeMap::new();
        let mut distances = BTreeMap::new();
        for &id in &ids {
            let cpus = self.cpu_list(&format!("devices/system/node/node{id}/cpulist"))?;
            nodes.insert(id, cpus.intersection(online));
            let row = self.distance_row(id, ids.len())?;
            distances.extend(
                ids.iter()
                    .zip(row)
                    .map(|(&to, distance)| ((id, to), distance)),
            );
        }
        check_nodes_partition(online, &nodes)?;
        Ok((nodes, distances))
    }

    /// Ids of the `nodeN` directories, ascending; `None` when sysfs has no node directory at all.
    fn node_ids(&self) -> Result<Option<Vec<usize>>, TopologyError> {
        let path = self.path("devices/system/node");
        let entries = match std::fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(TopologyError::SysfsRead { path, source }),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| TopologyError::SysfsRead {
                path: path.clone(),
                source,
            })?;
            let name = entry.file_name();
            let id: Option<usize> = name
                .to_str()
                .and_then(|n| n.strip_prefix("node"))
                .and_then(|n| n.parse().ok());
            ids.extend(id);
        }
        if ids.is_empty() {
            return Err(TopologyError::SysfsInconsistent {
                detail: format!("{} has no nodeN directories", path.display()),
            });
        }
        ids.sort_unstable();
        Ok(Some(ids))
    }

    /// `nodeN/distance`: one distance per node, in node-id order.
    fn distance_row(&self, id: usize, node_count: usize) -> Result<Vec<u32>, TopologyError> {
        let relative = format!("devices/system/node/node{id}/distance");
        let text = self.read(&relative)?;
        let row: Option<Vec<u32>> = text.split_whitespace().map(|d| d.parse().ok()).collect();
        match row {
            Some(row) if row.len() == node_count => Ok(row),
            _ => Err(self.parse_error(
                &relative,
                &text,
                &format!("{node_count} distances, one per node"),
            )),
        }
    }
}

/// Every online CPU must sit in exactly one node.
fn check_nodes_partition(
    online: &CpuSet,
    nodes: &BTreeMap<usize, CpuSet>,
) -> Result<(), TopologyError> {
    for cpu in online {
        let holders: Vec<usize> = nodes
            .iter()
            .filter(|(_, c)| c.contains(cpu))
            .map(|(n, _)| *n)
            .collect();
        if holders.len() != 1 {
            return Err(TopologyError::SysfsInconsistent {
                detail: format!(
                    "online CPU {cpu} is listed by NUMA nodes {holders:?}, expected exactly one"
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fake_sysfs::{FakeSysfs, CACHE_KB};
    use super::super::Topology;
    use super::*;
    use crate::topology::LlcInfo;

    fn topology(text: &str) -> Topology {
        text.parse().expect("valid topology")
    }

    fn read(fake: &FakeSysfs) -> TestTopology {
        TestTopology::from_sysfs_root(fake.root()).expect("fake tree reads")
    }

    /// The same topology with cache sizes dropped, as synthetic topologies have none.
    fn without_cache_sizes(topo: &TestTopology) -> TestTopology {
        let llcs = topo.llcs().iter().cloned().map(|llc| LlcInfo {
            cache_size_kb: None,
            ..llc
        });
        let nodes = topo
            .numa_node_ids()
            .into_iter()
            .map(|n| (n, topo.numa_node_cpus(n)))
            .collect();
        let ids = topo.numa_node_ids();
        let distances = ids
            .iter()
            .flat_map(|&a| ids.iter().map(move |&b| (a, b)))
            .filter_map(|(a, b)| Some(((a, b), topo.numa_distance(a, b)?)))
            .collect();
        TestTopology::from_parts(llcs.collect(), nodes, distances)
    }

    #[test]
    fn qemu_like_trees_match_synthetic_topologies() {
        for text in ["2n2l2c2t", "1n2l4c1t", "2n4l1c1t", "1n2l2c2t", "1n1l2c1t"] {
            let shape = topology(text);
            let from_sysfs = read(&FakeSysfs::qemu_like(&shape));
            assert!(
                from_sysfs
                    .llcs()
                    .iter()
                    .all(|llc| llc.cache_size_kb == Some(CACHE_KB)),
                "{text}"
            );
            assert_eq!(
                without_cache_sizes(&from_sysfs),
                TestTopology::from_topology(&shape),
                "{text}"
            );
            assert_eq!(from_sysfs.shape().expect("uniform").to_string(), text);
        }
    }

    #[test]
    fn two_node_smt_tree_reads_as_expected() {
        let topo = read(&FakeSysfs::qemu_like(&topology("2n2l2c2t")));
        assert_eq!(topo.all_cpus().to_string(), "0-7");
        assert_eq!(topo.smt_siblings(5).to_string(), "4-5");
        assert_eq!(topo.llc_of_cpu(4), Some(1));
        assert_eq!(topo.numa_node_cpus(1).to_string(), "4-7");
        assert_eq!(topo.llcs()[1].numa_node, 1);
        assert_eq!(topo.numa_distance(1, 0), Some(20));
    }

    #[test]
    fn missing_l3_falls_back_to_the_package() {
        let fake = FakeSysfs::qemu_like(&topology("1n2l2c1t"));
        for cpu in 0..4 {
            fake.remove(&format!("devices/system/cpu/cpu{cpu}/cache/index3"));
        }
        fake.write(
            "devices/system/cpu/cpu2/topology/physical_package_id",
            "0\n",
        );
        fake.write("devices/system/cpu/cpu2/topology/core_id", "2\n");
        let topo = read(&fake);
        let llcs: Vec<String> = topo.llcs().iter().map(|llc| llc.cpus.to_string()).collect();
        assert_eq!(llcs, ["0-2", "3"]);
        assert!(topo.llcs().iter().all(|llc| llc.cache_size_kb.is_none()));
    }

    #[test]
    fn missing_node_dir_means_one_node() {
        let fake = FakeSysfs::qemu_like(&topology("2n2l2c1t"));
        fake.remove("devices/system/node");
        let topo = read(&fake);
        assert_eq!(topo.numa_node_ids(), [0]);
        assert_eq!(topo.numa_node_cpus(0).to_string(), "0-3");
        assert_eq!(topo.numa_distance(0, 0), Some(LOCAL_DISTANCE));
    }

    #[test]
    fn offline_cpus_are_left_out() {
        let fake = FakeSysfs::qemu_like(&topology("1n2l2c2t"));
        fake.write("devices/system/cpu/online", "0-6\n");
        let topo = read(&fake);
        assert_eq!(topo.all_cpus().to_string(), "0-6");
        assert_eq!(topo.smt_siblings(6).to_string(), "6");
        assert_eq!(
            topo.llc(1).map(|llc| llc.cpus.to_string()),
            Some("4-6".into())
        );
        assert!(matches!(
            topo.shape(),
            Err(TopologyError::NonUniform { .. })
        ));
    }

    #[test]
    fn distances_come_from_each_node_row() {
        let fake = FakeSysfs::qemu_like(&topology("2n2l1c1t"));
        fake.write("devices/system/node/node0/distance", "10 21\n");
        fake.write("devices/system/node/node1/distance", "31 10\n");
        let topo = read(&fake);
        assert_eq!(
            [topo.numa_distance(0, 1), topo.numa_distance(1, 0)],
            [Some(21), Some(31)]
        );
    }

    #[test]
    fn memory_only_node_is_kept_but_not_uniform() {
        let fake = FakeSysfs::qemu_like(&topology("1n2l1c1t"));
        fake.write("devices/system/node/node0/distance", "10 20\n");
        fake.write("devices/system/node/node1/cpulist", "\n");
        fake.write("devices/system/node/node1/distance", "20 10\n");
        let topo = read(&fake);
        assert_eq!(topo.numa_node_ids(), [0, 1]);
        assert!(topo.numa_node_cpus(1).is_empty());
        assert!(matches!(
            topo.shape(),
            Err(TopologyError::NonUniform { .. })
        ));
    }

    #[test]
    fn unreadable_or_malformed_files_are_named() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            (
                "missing core_id",
                None,
                "devices/system/cpu/cpu3/topology/core_id",
            ),
            ("missing online", None, "devices/system/cpu/online"),
            (
                "missing L3 size",
                None,
                "devices/system/cpu/cpu3/cache/index3/size",
            ),
            (
                "core_id text",
                Some("x\n"),
                "devices/system/cpu/cpu3/topology/core_id",
            ),
            (
                "negative core_id",
                Some("-1\n"),
                "devices/system/cpu/cpu3/topology/core_id",
            ),
            (
                "L3 size in MB",
                Some("32M\n"),
                "devices/system/cpu/cpu3/cache/index3/size",
            ),
            (
                "bad siblings",
                Some("3,,4\n"),
                "devices/system/cpu/cpu3/topology/thread_siblings_list",
            ),
            (
                "short distance row",
                Some("10\n"),
                "devices/system/node/node1/distance",
            ),
            (
                "distance text",
                Some("10 far\n"),
                "devices/system/node/node0/distance",
            ),
            ("no online cpus", Some("\n"), "devices/system/cpu/online"),
        ];
        for &(name, content, file) in cases {
            let fake = FakeSysfs::qemu_like(&topology("2n2l2c1t"));
            match content {
                Some(content) => fake.write(file, content),
                None => fake.remove(file),
            }
            let err = TestTopology::from_sysfs_root(fake.root()).expect_err(name);
            let path = match &err {
                TopologyError::SysfsRead { path, .. } | TopologyError::SysfsParse { path, .. } => {
                    path
                }
                other => panic!("{name}: {other:?}"),
            };
            assert_eq!(*path, fake.root().join(file), "{name}");
            assert!(err.to_string().contains(file), "{name}: {err}");
        }
    }

    #[test]
    fn contradictory_trees_are_inconsistent() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                "nodes overlap",
                &[("devices/system/node/node1/cpulist", "0-3\n")],
            ),
            (
                "cpu in no node",
                &[("devices/system/node/node1/cpulist", "3\n")],
            ),
            (
                "L3 lists disagree",
                &[(
                    "devices/system/cpu/cpu2/cache/index3/shared_cpu_list",
                    "0-2\n",
                )],
            ),
            (
                "L3 excludes its cpu",
                &[(
                    "devices/system/cpu/cpu2/cache/index3/shared_cpu_list",
                    "3\n",
                )],
            ),
            (
                "siblings cross LLCs",
                &[(
                    "devices/system/cpu/cpu1/topology/thread_siblings_list",
                    "1-2\n",
                )],
            ),
            (
                "siblings exclude cpu",
                &[(
                    "devices/system/cpu/cpu1/topology/thread_siblings_list",
                    "0\n",
                )],
            ),
            (
                "core id reused",
                &[("devices/system/cpu/cpu1/topology/core_id", "0\n")],
            ),
        ];
        for &(name, writes) in cases {
            let fake = FakeSysfs::qemu_like(&topology("2n2l2c1t"));
            for (file, content) in writes {
                fake.write(file, content);
            }
            let err = TestTopology::from_sysfs_root(fake.root()).expect_err(name);
            assert!(
                matches!(err, TopologyError::SysfsInconsistent { .. }),
                "{name}: {err:?}"
            );
        }
    }

    #[test]
    fn empty_node_dir_is_inconsistent() {
        let fake = FakeSysfs::qemu_like(&topology("2n2l1c1t"));
        fake.remove("devices/system/node/node0");
        fake.remove("devices/system/node/node1");
        let err = TestTopology::from_sysfs_root(fake.root()).expect_err("no nodes");
        assert!(
            matches!(err, TopologyError::SysfsInconsistent { .. }),
            "{err:?}"
        );
    }
}
