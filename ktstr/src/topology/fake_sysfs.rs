//! A fake sysfs tree in a temp dir, laid out the way a QEMU guest with one socket per LLC sees it.

use std::fs;
use std::path::Path;

use super::Topology;

/// L3 size written for every fake LLC.
pub(super) const CACHE_KB: u64 = 32_768;

pub(super) struct FakeSysfs {
    dir: tempfile::TempDir,
}

impl FakeSysfs {
    /// A tree for `topo`: package = LLC, core ids restart at 0 in each package, distances 10 local / 20 remote.
    pub(super) fn qemu_like(topo: &Topology) -> FakeSysfs {
        let fake = FakeSysfs {
            dir: tempfile::tempdir().expect("create temp dir"),
        };
        let (llcs, cores, threads) = (
            topo.llcs() as usize,
            topo.cores_per_llc() as usize,
            topo.threads_per_core() as usize,
        );
        let per_llc = cores * threads;
        let total = llcs * per_llc;
        fake.write("devices/system/cpu/online", &format!("0-{}\n", total - 1));
        fake.write("devices/system/cpu/possible", &format!("0-{}\n", total));
        for cpu in 0..total {
            let (llc, core, thread) = (cpu / per_llc, cpu % per_llc / threads, cpu % threads);
            let dir = format!("devices/system/cpu/cpu{cpu}");
            let first_sibling = cpu - thread;
            fake.write(&format!("{dir}/topology/core_id"), &format!("{core}\n"));
            fake.write(
                &format!("{dir}/topology/physical_package_id"),
                &format!("{llc}\n"),
            );
            let siblings = range_text(first_sibling, first_sibling + threads - 1);
            fake.write(&format!("{dir}/topology/thread_siblings_list"), &siblings);
            let l3 = range_text(llc * per_llc, (llc + 1) * per_llc - 1);
            fake.write(&format!("{dir}/cache/index3/shared_cpu_list"), &l3);
            fake.write(
                &format!("{dir}/cache/index3/size"),
                &format!("{CACHE_KB}K\n"),
            );
            fake.write(&format!("{dir}/cache/index0/size"), "32K\n");
        }
        fake.write_nodes(topo, per_llc);
        fake
    }

    fn write_nodes(&self, topo: &Topology, per_llc: usize) {
        let nodes = topo.numa_nodes() as usize;
        let per_node = topo.llcs_per_node() as usize * per_llc;
        self.write("devices/system/node/online", &range_text(0, nodes - 1));
        self.write("devices/system/node/has_cpu", &range_text(0, nodes - 1));
        for node in 0..nodes {
            let dir = format!("devices/system/node/node{node}");
            self.write(
                &format!("{dir}/cpulist"),
                &range_text(node * per_node, (node + 1) * per_node - 1),
            );
            let row: Vec<&str> = (0..nodes)
                .map(|to| if to == node { "10" } else { "20" })
                .collect();
            self.write(&format!("{dir}/distance"), &format!("{}\n", row.join(" ")));
        }
    }

    pub(super) fn root(&self) -> &Path {
        self.dir.path()
    }

    pub(super) fn write(&self, relative: &str, content: &str) {
        let path = self.dir.path().join(relative);
        fs::create_dir_all(path.parent().expect("relative path has a parent"))
            .expect("create fake dir");
        fs::write(&path, content).expect("write fake file");
    }

    /// Removes a file or a whole directory.
    pub(super) fn remove(&self, relative: &str) {
        let path = self.dir.path().join(relative);
        if path.is_dir() {
            fs::remove_dir_all(&path).expect("remove fake dir");
        } else {
            fs::remove_file(&path).expect("remove fake file");
        }
    }
}

fn range_text(lo: usize, hi: usize) -> String {
    if lo == hi {
        format!("{lo}\n")
    } else {
        format!("{lo}-{hi}\n")
    }
}
