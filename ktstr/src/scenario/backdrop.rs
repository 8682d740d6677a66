//! `Backdrop`: cgroups and ops that live for the whole scenario, set up before step 0.

use super::{CgroupDef, Op};

/// Scenario-lifetime state: set up once before the first step, torn down after the last.
#[derive(Debug, Clone, Default)]
pub struct Backdrop {
    pub cgroups: Vec<CgroupDef>,
    pub ops: Vec<Op>,
}

impl Backdrop {
    pub const EMPTY: Backdrop = Backdrop {
        cgroups: Vec::new(),
        ops: Vec::new(),
    };

    pub fn new() -> Self {
        Backdrop::default()
    }

    /// A backdrop holding the given cgroups.
    pub fn with_cgroups(cgroups: impl IntoIterator<Item = CgroupDef>) -> Self {
        Backdrop {
            cgroups: cgroups.into_iter().collect(),
            ops: Vec::new(),
        }
    }

    pub fn push_cgroup(mut self, cgroup: CgroupDef) -> Self {
        self.cgroups.push(cgroup);
        self
    }

    pub fn extend_cgroups(mut self, cgroups: impl IntoIterator<Item = CgroupDef>) -> Self {
        self.cgroups.extend(cgroups);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.cgroups.is_empty() && self.ops.is_empty()
    }
}

impl super::WithOps for Backdrop {
    fn ops_mut(&mut self) -> &mut Vec<Op> {
        &mut self.ops
    }
}
