//! The scenario engine over real cgroup v2 cpusets, where the kernel enforces them: run inside the ktstr VM
//! guest (`--include-ignored`), with the cgroup2 root from `KTSTR_CGROUP_ROOT` (default `/sys/fs/cgroup`).

use std::path::PathBuf;
use std::time::Duration;

use ktstr::cgroup::{CgroupManager, Controllers};
use ktstr::prelude::*;

/// A managed parent with cpuset and cpu enabled; removed with everything below it on drop.
struct Parent(CgroupManager);

impl Parent {
    fn new(tag: &str) -> Parent {
        let root = std::env::var_os("KTSTR_CGROUP_ROOT")
            .map_or_else(|| PathBuf::from("/sys/fs/cgroup"), PathBuf::from);
        let manager =
            CgroupManager::new(root.join(format!("ktstr-scn-{tag}-{}", std::process::id())));
        manager
            .setup(Controllers::CPUSET_AND_CPU)
            .expect("cgroup v2 with the cpuset controller (run inside the ktstr VM)");
        Parent(manager)
    }
}

impl Drop for Parent {
    fn drop(&mut self) {
        if let Err(e) = self.0.cleanup_all() {
            eprintln!("cleanup of {}: {e}", self.0.parent().display());
        }
    }
}

fn run(
    tag: &str,
    steps: impl FnOnce(&Ctx) -> anyhow::Result<AssertResult>,
) -> (AssertResult, PathBuf) {
    let _serial = crate::serial();
    let parent = Parent::new(tag);
    let topo = TestTopology::from_sysfs().unwrap();
    let ctx = Ctx::builder(&parent.0, &topo)
        .duration(Duration::from_secs(1))
        .workers_per_cgroup(2)
        .assert(Assert::default_checks().check_isolation())
        .build();
    let result = steps(&ctx).unwrap();
    let path = parent.0.parent().to_path_buf();
    let leftovers: Vec<_> = std::fs::read_dir(&path)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .collect();
    assert!(
        leftovers.is_empty(),
        "cgroups left under {}: {leftovers:?}",
        path.display()
    );
    (result, path)
}

#[test]
#[ignore = "needs cgroup v2 with the cpuset controller; runs inside the ktstr VM guest"]
fn disjoint_cpusets_are_isolated() {
    let (result, _) = run("disjoint", |ctx| {
        execute_defs(
            ctx,
            vec![
                CgroupDef::named("cg_0").with_cpuset(CpusetSpec::disjoint(0, 2)),
                CgroupDef::named("cg_1").with_cpuset(CpusetSpec::disjoint(1, 2)),
            ],
        )
    });
    assert!(result.passed, "{:?}", result.details);
}

#[test]
#[ignore = "needs cgroup v2 with the cpuset controller; runs inside the ktstr VM guest"]
fn cross_cgroup_affinity_is_still_confined_by_the_kernel() {
    let (result, _) = run("cross", |ctx| {
        let def = CgroupDef::named("narrow")
            .with_cpuset(CpusetSpec::exact([0]))
            .affinity(AffinityIntent::CrossCgroup);
        execute_defs(ctx, vec![def])
    });
    assert!(result.passed, "{:?}", result.details);
}

#[test]
#[ignore = "needs cgroup v2 with the cpuset controller; runs inside the ktstr VM guest"]
fn swapped_and_cleared_cpusets_keep_the_verdict_honest() {
    let (result, _) = run("swap", |ctx| {
        let backdrop = Backdrop::with_cgroups([
            CgroupDef::named("a").with_cpuset(CpusetSpec::disjoint(0, 2)),
            CgroupDef::named("b").with_cpuset(CpusetSpec::disjoint(1, 2)),
        ]);
        let steps = vec![
            Step::new(vec![Op::swap_cpusets("a", "b")], HoldSpec::Frac(0.5)),
            Step::new(
                vec![Op::clear_cpuset("a"), Op::move_all_tasks("b", "a")],
                HoldSpec::Frac(0.5),
            ),
        ];
        execute_scenario(ctx, &backdrop, steps)
    });
    assert!(result.passed, "{:?}", result.details);
}
