//! Running scenarios directly on this host: choosing the cgroup backend and building the `Ctx`.

use std::path::PathBuf;
use std::time::Duration;

use crate::assert::AssertResult;
use crate::cgroup::{
    find_cgroup2_mount, CgroupError, CgroupManager, CgroupOps, Controllers, MemCgroups,
};
use crate::scenario::catalog::CannedScenario;
use crate::scenario::Ctx;
use crate::topology::{TestTopology, TopologyError};

/// Which cgroups a host run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupMode {
    /// Real cgroup v2 when its cpuset controller is available, otherwise the in-memory double (said in the header).
    Auto,
    /// Real cgroup v2 with cpusets; an error where the host lacks the cpuset controller.
    Real,
    /// The in-memory double: cgroups and cpusets are recorded, not enforced.
    Simulated,
}

/// Why a host run could not start.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("reading this host's topology: {0}")]
    Topology(#[from] TopologyError),
    #[error("cgroup v2 at {mount} offers no cpuset controller (available: {available:?}); use --cgroups simulated, or run the scenario inside a ktstr VM")]
    NoCpuset { mount: PathBuf, available: String },
    #[error("setting up cgroups: {0}")]
    Cgroup(#[from] CgroupError),
}

/// The cgroup backend of one host run; real cgroups are removed when it drops.
pub struct HostCgroups {
    backend: Backend,
    /// One line saying what the backend is and why it was chosen.
    pub description: String,
}

enum Backend {
    Real(CgroupManager),
    Simulated(MemCgroups),
}

impl HostCgroups {
    pub fn open(mode: CgroupMode) -> Result<HostCgroups, HostError> {
        if mode == CgroupMode::Simulated {
            return Ok(Self::simulated(
                "simulated (in-memory; chosen with --cgroups simulated)".into(),
            ));
        }
        let mount = find_cgroup2_mount()?;
        let available =
            std::fs::read_to_string(mount.join("cgroup.controllers")).unwrap_or_default();
        let has = |c: &str| available.split_whitespace().any(|a| a == c);
        if !has("cpuset") {
            if mode == CgroupMode::Real {
                return Err(HostError::NoCpuset {
                    mount,
                    available: available.trim().to_string(),
                });
            }
            return Ok(Self::simulated(format!(
                "simulated (in-memory): cgroup v2 at {} has no cpuset controller, so cpusets are recorded, not enforced",
                mount.display()
            )));
        }
        let parent = mount.join(format!("ktstr-{}", std::process::id()));
        let manager = CgroupManager::new(&parent);
        manager.setup(Controllers {
            cpuset: true,
            cpu: has("cpu"),
        })?;
        Ok(HostCgroups {
            description: format!("cgroup v2 under {}", parent.display()),
            backend: Backend::Real(manager),
        })
    }

    fn simulated(description: String) -> HostCgroups {
        HostCgroups {
            backend: Backend::Simulated(MemCgroups::new()),
            description,
        }
    }

    pub fn ops(&self) -> &dyn CgroupOps {
        match &self.backend {
            Backend::Real(manager) => manager,
            Backend::Simulated(memory) => memory,
        }
    }
}

impl Drop for HostCgroups {
    fn drop(&mut self) {
        if let Backend::Real(manager) = &self.backend {
            if let Err(e) = manager.cleanup_all() {
                eprintln!("ktstr: removing {}: {e}", manager.parent().display());
            }
        }
    }
}

/// Settings of a host run.
#[derive(Debug, Clone)]
pub struct HostRun {
    pub duration: Duration,
    pub workers_per_cgroup: usize,
    pub settle: Duration,
}

impl Default for HostRun {
    fn default() -> Self {
        HostRun {
            duration: Duration::from_secs(2),
            workers_per_cgroup: 2,
            settle: Duration::from_millis(500),
        }
    }
}

impl HostRun {
    /// Runs one canned scenario against this host's topology and the given cgroups.
    pub fn run(
        &self,
        scenario: &CannedScenario,
        topo: &TestTopology,
        cgroups: &HostCgroups,
    ) -> anyhow::Result<AssertResult> {
        let ctx = Ctx::builder(cgroups.ops(), topo)
            .duration(self.duration)
            .workers_per_cgroup(self.workers_per_cgroup)
            .settle(self.settle)
            .build();
        (scenario.run)(&ctx)
    }
}
