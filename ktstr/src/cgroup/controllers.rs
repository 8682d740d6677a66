//! `Controllers`: which cgroup v2 controllers the manager enables for its cgroups.

/// Controllers to enable in `cgroup.subtree_control` from the cgroup2 root down to the managed parent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Controllers {
    /// `cpuset`: needed for `set_cpuset`, `clear_cpuset` and `cpuset`.
    pub cpuset: bool,
    /// `cpu`: weights and bandwidth limits.
    pub cpu: bool,
}

impl Controllers {
    pub const NONE: Controllers = Controllers {
        cpuset: false,
        cpu: false,
    };
    pub const CPUSET: Controllers = Controllers {
        cpuset: true,
        cpu: false,
    };
    pub const CPUSET_AND_CPU: Controllers = Controllers {
        cpuset: true,
        cpu: true,
    };

    /// Kernel names of the selected controllers, in the order they are enabled.
    pub fn names(self) -> Vec<&'static str> {
        [("cpuset", self.cpuset), ("cpu", self.cpu)]
            .into_iter()
            .filter_map(|(name, on)| on.then_some(name))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_flags() {
        assert!(Controllers::NONE.names().is_empty());
        assert_eq!(Controllers::CPUSET.names(), ["cpuset"]);
        assert_eq!(Controllers::CPUSET_AND_CPU.names(), ["cpuset", "cpu"]);
        assert_eq!(
            Controllers {
                cpuset: false,
                cpu: true
            }
            .names(),
            ["cpu"]
        );
    }
}
