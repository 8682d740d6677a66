//! The `const` builder of `Scheduler`: a declaration's binary, flags, sysctls, kernel arguments, topology
//! and check overrides. A mistake in a `const` declaration is a compile error.

use std::borrow::Cow;

use super::declare::{check_flags, str_eq, FlagDecl, Sysctl, TopologyConstraints};
use super::name::first_bad_char;
use super::scheduler::{Kind, Scheduler, IN_TREE_SCHEDULERS};
use crate::assert::Assert;
use crate::topology::Topology;

impl Scheduler {
    /// Declares a scheduler by its binary: one of `IN_TREE_SCHEDULERS`, a path (anything with a `/`), or
    /// a name found when a trial starts — installed with `ktstr scheduler install`, else the newest build
    /// in a cargo target directory, else on `PATH`. A bad name is a compile error in a `const`.
    pub const fn new(binary: &'static str) -> Scheduler {
        let mut i = 0;
        while i < IN_TREE_SCHEDULERS.len() {
            if str_eq(IN_TREE_SCHEDULERS[i], binary) {
                return Scheduler::with_kind(Kind::InTree(IN_TREE_SCHEDULERS[i]));
            }
            i += 1;
        }
        let bytes = binary.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'/' {
                return Scheduler::with_kind(Kind::DeclaredPath(binary));
            }
            i += 1;
        }
        if first_bad_char(binary).is_some() {
            panic!("a scheduler binary name uses only letters, digits, '_', '-' and '.', and does not start with '.' or '-'");
        }
        Scheduler::with_kind(Kind::Named(Cow::Borrowed(binary)))
    }

    /// The name reports and test names use, instead of the binary's.
    pub const fn named(mut self, name: &'static str) -> Scheduler {
        if first_bad_char(name).is_some() {
            panic!("a scheduler name uses only letters, digits, '_', '-' and '.', and does not start with '.' or '-'");
        }
        self.label = Some(name);
        self
    }

    /// Arguments every run passes, before any flag's.
    pub const fn sched_args(mut self, args: &'static [&'static str]) -> Scheduler {
        self.sched_args = args;
        self
    }

    /// The scheduler's flags; its profiles are every subset that respects their `requires` and
    /// `excludes`. A malformed list is a compile error in a `const`.
    pub const fn flags(mut self, flags: &'static [FlagDecl]) -> Scheduler {
        check_flags(flags);
        self.flags = flags;
        self
    }

    /// `/proc/sys` writes the guest makes before starting the scheduler, before the test's own.
    pub const fn sysctls(mut self, sysctls: &'static [Sysctl]) -> Scheduler {
        self.sysctls = sysctls;
        self
    }

    /// Kernel command-line arguments (`key=value` or `flag`) the guest boots with.
    pub const fn kargs(mut self, kargs: &'static [&'static str]) -> Scheduler {
        self.kargs = kargs;
        self
    }

    /// The topology tests of this scheduler boot with when they name none. Invalid dimensions are a
    /// compile error in a `const`.
    pub const fn topology(
        mut self,
        numa_nodes: u32,
        llcs: u32,
        cores: u32,
        threads: u32,
    ) -> Scheduler {
        self.topology = Some(Topology::declare(numa_nodes, llcs, cores, threads));
        self
    }

    /// The topologies the scheduler can run on at all.
    pub const fn constraints(mut self, constraints: TopologyConstraints) -> Scheduler {
        self.constraints = constraints;
        self
    }

    pub const fn min_cpus(mut self, n: u32) -> Scheduler {
        self.constraints.min_cpus = Some(n);
        self
    }

    pub const fn max_cpus(mut self, n: u32) -> Scheduler {
        self.constraints.max_cpus = Some(n);
        self
    }

    pub const fn min_llcs(mut self, n: u32) -> Scheduler {
        self.constraints.min_llcs = Some(n);
        self
    }

    pub const fn max_llcs(mut self, n: u32) -> Scheduler {
        self.constraints.max_llcs = Some(n);
        self
    }

    pub const fn min_numa_nodes(mut self, n: u32) -> Scheduler {
        self.constraints.min_numa_nodes = Some(n);
        self
    }

    pub const fn max_numa_nodes(mut self, n: u32) -> Scheduler {
        self.constraints.max_numa_nodes = Some(n);
        self
    }

    pub const fn requires_smt(mut self) -> Scheduler {
        self.constraints.requires_smt = true;
        self
    }

    /// Check overrides of this scheduler, merged as defaults → scheduler → test.
    pub const fn assert(mut self, assert: Assert) -> Scheduler {
        self.assert = assert;
        self
    }
}
