//! The canned scenarios: ready-made scenario functions, each runnable by name.

mod basic;
mod cpuset;
mod dynamic;
mod stress;

use crate::assert::Assert;
use crate::scenario::{Ctx, ScenarioFn};

pub use basic::{
    affinity_pinned, mixed_workloads, oversubscribed, sched_policies, steady, steady_llc,
};
pub use cpuset::{cpuset_apply, cpuset_clear, cpuset_resize, cpuset_swap};
pub use dynamic::{affinity_change, cgroup_add, cgroup_remove, nested_steady, nested_task_move};
pub use stress::{cgroup_rapid_churn, cpuset_flip_race, host_contention, workload_variety};

/// A named entry of the catalog.
#[derive(Clone, Copy)]
pub struct CannedScenario {
    pub name: &'static str,
    pub category: &'static str,
    pub description: &'static str,
    pub run: ScenarioFn,
}

macro_rules! canned {
    ($($category:literal => $name:ident: $description:literal,)*) => {
        &[$(CannedScenario { name: stringify!($name), category: $category, description: $description, run: $name },)*]
    };
}

static CATALOG: &[CannedScenario] = canned! {
    "basic" => steady: "two cgroups of spinning workers, no cpusets",
    "basic" => steady_llc: "two cgroups pinned to LLC 0 and LLC 1 (skipped with fewer than 2 LLCs)",
    "basic" => oversubscribed: "two cgroups of 16 mixed spin/yield workers each",
    "basic" => affinity_pinned: "two cgroups whose workers all share one two-CPU affinity mask",
    "basic" => mixed_workloads: "heavy, bursty and IO-bound cgroups side by side",
    "basic" => sched_policies: "bursty normal and batch cgroups beside a spinning SCHED_IDLE cgroup",
    "cpuset" => cpuset_apply: "disjoint cpusets applied to running cgroups halfway through",
    "cpuset" => cpuset_clear: "disjoint cpusets cleared from running cgroups halfway through",
    "cpuset" => cpuset_resize: "three phases: even split, uneven split, reversed split",
    "cpuset" => cpuset_swap: "two cgroups with disjoint cpusets swap them twice",
    "dynamic" => cgroup_add: "start with two cgroups and add two more halfway through",
    "dynamic" => cgroup_remove: "start with four cgroups and remove two halfway through",
    "dynamic" => affinity_change: "worker affinities re-randomised four times",
    "dynamic" => nested_steady: "workers in nested cgroups two levels deep",
    "dynamic" => nested_task_move: "every worker moved between nested cgroups halfway through",
    "stress" => host_contention: "two cgroups plus one worker per CPU left in the parent cgroup",
    "stress" => cgroup_rapid_churn: "a cgroup created, filled, and removed every 100 ms beside steady load",
    "stress" => cpuset_flip_race: "two busy cgroups whose cpusets swap every 50 ms",
    "stress" => workload_variety: "five cgroups, each with a different work type",
};

/// `ctx.assert` with a scenario's own spread threshold, unless the scheduler or test already set one.
fn spread_unless_set(ctx: &Ctx, pct: f64) -> Assert {
    match ctx.assert.max_spread_pct {
        Some(_) => ctx.assert,
        None => ctx.assert.merge(&Assert::NO_OVERRIDES.max_spread_pct(pct)),
    }
}

/// `ctx.assert` with cpuset isolation judged, unless the scheduler or test already decided: the
/// scenarios that give cgroups cpusets exist to see them kept.
fn isolation_unless_set(ctx: &Ctx) -> Assert {
    match ctx.assert.isolation {
        Some(_) => ctx.assert,
        None => ctx.assert.merge(&Assert::NO_OVERRIDES.check_isolation()),
    }
}

/// Every canned scenario, in catalog order.
pub fn catalog() -> &'static [CannedScenario] {
    CATALOG
}

/// Looks a scenario up by name.
pub fn find(name: &str) -> Result<&'static CannedScenario, UnknownScenario> {
    CATALOG
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| UnknownScenario {
            name: name.to_string(),
            suggestion: suggest(name),
        })
}

/// A name that is not in the catalog, with the closest known name when there is one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown scenario {name:?}{}; `ktstr list` shows every canned scenario", .suggestion.map(|s| format!(" (did you mean {s:?}?)")).unwrap_or_default())]
pub struct UnknownScenario {
    pub name: String,
    pub suggestion: Option<&'static str>,
}

fn suggest(name: &str) -> Option<&'static str> {
    CATALOG
        .iter()
        .map(|s| (strsim::levenshtein(name, s.name), s.name))
        .filter(|(d, n)| *d <= n.len() / 3 + 1)
        .min()
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_categories_covered() {
        let mut names: Vec<_> = catalog().iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), catalog().len());
        assert!(catalog().len() >= 12);
        for category in ["basic", "cpuset", "dynamic", "stress"] {
            assert!(
                catalog().iter().any(|s| s.category == category),
                "{category}"
            );
        }
    }

    #[test]
    fn a_scenario_spread_threshold_never_overrides_one_that_was_set() {
        let (cgroups, topo) = (
            crate::cgroup::MemCgroups::new(),
            crate::topology::TestTopology::from_topology(&crate::topology::Topology::DEFAULT),
        );
        let unset = Ctx::builder(&cgroups, &topo).build();
        assert_eq!(spread_unless_set(&unset, 40.0).max_spread_pct, Some(40.0));
        let set = Ctx::builder(&cgroups, &topo)
            .assert(Assert::default_checks().max_spread_pct(10.0))
            .build();
        assert_eq!(spread_unless_set(&set, 40.0).max_spread_pct, Some(10.0));
    }

    #[test]
    fn cpuset_scenarios_judge_isolation_unless_a_layer_turned_it_off() {
        let (cgroups, topo) = (
            crate::cgroup::MemCgroups::new(),
            crate::topology::TestTopology::from_topology(&crate::topology::Topology::DEFAULT),
        );
        let unset = Ctx::builder(&cgroups, &topo).build();
        assert_eq!(isolation_unless_set(&unset).isolation, Some(true));
        let off = Ctx::builder(&cgroups, &topo)
            .assert(Assert::default_checks().no_isolation_check())
            .build();
        assert_eq!(isolation_unless_set(&off).isolation, Some(false));
    }

    #[test]
    fn unknown_names_get_a_suggestion() {
        assert_eq!(find("steady").map(|s| s.name), Ok("steady"));
        let err = find("stedy").err().unwrap();
        assert_eq!(err.suggestion, Some("steady"));
        assert!(err.to_string().contains("did you mean \"steady\""), "{err}");
        assert_eq!(find("zzzzzzzzzzzz").err().unwrap().suggestion, None);
    }
}
