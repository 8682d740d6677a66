//! The scenario engine end to end on the host: real forked workers, cgroups through the in-memory double.

use std::time::Duration;

use ktstr::cgroup::{CgroupEvent, MemCgroups};
use ktstr::prelude::*;
use ktstr::scenario::{catalog, CpusetError, ScenarioError};

fn topo() -> TestTopology {
    TestTopology::from_topology(&"1n2l2c1t".parse::<Topology>().unwrap())
}

fn ctx<'a>(cgroups: &'a MemCgroups, topo: &'a TestTopology) -> Ctx<'a> {
    Ctx::builder(cgroups, topo)
        .duration(Duration::from_millis(600))
        .workers_per_cgroup(2)
        .build()
}

/// Fails on any verdict detail the engine is responsible for. Timing verdicts (gap, spread) judge this
/// host's scheduler under whatever else the machine runs, so they are printed, not asserted; the VM suite
/// asserts them on an otherwise idle guest.
fn assert_engine_ok(name: &str, result: &AssertResult) {
    let timing = |d: &&AssertDetail| {
        matches!(
            d.kind,
            DetailKind::Unfair | DetailKind::Stuck | DetailKind::Skip
        )
    };
    let (timing, engine): (Vec<_>, Vec<_>) = result.details.iter().partition(timing);
    assert!(engine.is_empty(), "{name}: {engine:?}");
    if !timing.is_empty() {
        eprintln!("{name}: not asserted on the host: {timing:?}");
    }
}

fn scenario_error(result: Result<AssertResult, ScenarioError>) -> ScenarioError {
    match result {
        Ok(r) => panic!("expected a ScenarioError, got a verdict: {r:?}"),
        Err(e) => e,
    }
}

#[test]
fn two_cgroups_pass_and_leave_no_cgroup_behind() {
    let _serial = crate::serial();
    let (cgroups, topo) = (MemCgroups::new(), topo());
    let ctx = ctx(&cgroups, &topo);
    let result = execute_defs(
        &ctx,
        vec![
            CgroupDef::named("cg_0"),
            CgroupDef::named("cg_1").with_cpuset(CpusetSpec::llc(1)),
        ],
    )
    .unwrap();
    assert_engine_ok("", &result);
    assert_eq!(result.stats.cgroups.len(), 2);
    assert_eq!(result.stats.total_workers, 4);
    assert!(result.stats.total_iterations > 0);
    assert!(
        !cgroups.exists("cg_1"),
        "cg_1 must be removed after the run"
    );
    assert!(
        cgroups.names().is_empty(),
        "left behind: {:?}",
        cgroups.names()
    );
}

/// A declaration, the error it must be, and the fix its message must name.
type BadCase = (Vec<Step>, fn(&ScenarioError) -> bool, &'static str);

/// One step holding `defs` for the whole run.
fn holding(defs: Vec<CgroupDef>) -> Vec<Step> {
    vec![Step::with_defs(defs, HoldSpec::FULL)]
}

/// The cpuset error inside `err`, if it is one.
fn cpuset_error(err: &ScenarioError) -> Option<&CpusetError> {
    match err {
        ScenarioError::Cpuset { source, .. } => Some(source),
        _ => None,
    }
}

/// Each case is its typed error naming its fix, and validation rejects all of them before touching a cgroup.
fn assert_rejected_naming_the_fix(cases: Vec<BadCase>) {
    let _serial = crate::serial();
    let (cgroups, topo) = (MemCgroups::new(), topo());
    let ctx = ctx(&cgroups, &topo);
    for (steps, is_expected, fix) in cases {
        let err = scenario_error(execute_steps(&ctx, steps));
        assert!(is_expected(&err), "unexpected error: {err:?}");
        assert!(
            err.to_string().contains(fix),
            "message {err} does not name the fix {fix:?}"
        );
    }
    assert!(
        cgroups.log().is_empty(),
        "validation must reject before touching cgroups: {:?}",
        cgroups.log()
    );
}

#[test]
fn bad_cgroup_definitions_are_typed_errors_naming_the_fix() {
    assert_rejected_naming_the_fix(vec![
        (
            holding(vec![CgroupDef::named("a").workers(0)]),
            |e| matches!(e, ScenarioError::ZeroWorkers { .. }),
            "at least 1 worker",
        ),
        (
            holding(vec![CgroupDef::named("a").with_cpuset(CpusetSpec::llc(7))]),
            |e| matches!(cpuset_error(e), Some(CpusetError::LlcOutOfRange { .. })),
            "use a smaller index",
        ),
        (
            holding(vec![
                CgroupDef::named("a").with_cpuset(CpusetSpec::exact([]))
            ]),
            |e| matches!(cpuset_error(e), Some(CpusetError::EmptyExact)),
            "name at least one CPU",
        ),
        (
            holding(vec![
                CgroupDef::named("a").with_cpuset(CpusetSpec::disjoint(0, 0))
            ]),
            |e| matches!(cpuset_error(e), Some(CpusetError::ZeroPartitions)),
            "at least one partition",
        ),
        (
            holding(vec![CgroupDef::named("a")
                .with_cpuset(CpusetSpec::exact([0, 1]))
                .affinity(AffinityIntent::exact([2, 3]))]),
            |e| matches!(e, ScenarioError::Affinity { .. }),
            "pick CPUs inside the cpuset",
        ),
    ]);
}

#[test]
fn bad_steps_and_cgroup_names_are_typed_errors_naming_the_fix() {
    assert_rejected_naming_the_fix(vec![
        (
            vec![Step::with_defs(
                vec![CgroupDef::named("a")],
                HoldSpec::Fixed(Duration::ZERO),
            )],
            |e| matches!(e, ScenarioError::BadHold { .. }),
            "positive duration",
        ),
        (
            holding(vec![CgroupDef::named("a"), CgroupDef::named("a")]),
            |e| matches!(e, ScenarioError::DuplicateCgroup { .. }),
            "unique name",
        ),
        (
            vec![Step::new(vec![Op::stop_cgroup("ghost")], HoldSpec::FULL)],
            |e| matches!(e, ScenarioError::UnknownCgroup { .. }),
            "add it first",
        ),
        (
            holding(vec![CgroupDef::named("a/../../escape")]),
            |e| matches!(e, ScenarioError::Cgroup { .. }),
            "leave the managed parent",
        ),
        (
            vec![Step::new(
                vec![Op::add_cgroup("cpuset.cpus")],
                HoldSpec::FULL,
            )],
            |e| matches!(e, ScenarioError::Cgroup { .. }),
            "interface-file prefix",
        ),
    ]);
}

/// Thresholds out of range are a typed error before anything runs, not a failing verdict.
#[test]
fn bad_thresholds_are_a_scenario_error() {
    let _serial = crate::serial();
    let (cgroups, topo) = (MemCgroups::new(), topo());
    let ctx = ctx(&cgroups, &topo);
    let checks = Assert::default_checks().max_spread_pct(f64::NAN);
    let steps = holding(vec![CgroupDef::named("cg_0")]);
    let err = scenario_error(execute_steps_with(&ctx, steps, Some(&checks)));
    assert!(matches!(err, ScenarioError::Checks(_)), "{err:?}");
    assert!(err.to_string().contains("max_spread_pct"), "{err}");
    assert!(cgroups.log().is_empty(), "{:?}", cgroups.log());
}

#[test]
fn backdrop_cgroups_are_protected_from_steps() {
    let _serial = crate::serial();
    let (cgroups, topo) = (MemCgroups::new(), topo());
    let ctx = ctx(&cgroups, &topo);
    let backdrop = Backdrop::with_cgroups([CgroupDef::named("bg")]);
    for op in [Op::remove_cgroup("bg"), Op::stop_cgroup("bg")] {
        let err = scenario_error(execute_scenario(
            &ctx,
            &backdrop,
            vec![Step::new(vec![op], HoldSpec::FULL)],
        ));
        assert!(
            matches!(err, ScenarioError::BackdropProtected { .. }),
            "{err:?}"
        );
    }
    let shadow = holding(vec![CgroupDef::named("bg")]);
    let err = scenario_error(execute_scenario(&ctx, &backdrop, shadow));
    assert!(
        matches!(err, ScenarioError::ShadowsBackdrop { .. }),
        "{err:?}"
    );
}

#[test]
fn ops_change_cgroups_in_order() {
    let _serial = crate::serial();
    let (cgroups, topo) = (MemCgroups::new(), topo());
    let ctx = ctx(&cgroups, &topo);
    let backdrop = Backdrop::with_cgroups([
        CgroupDef::named("a").with_cpuset(CpusetSpec::llc(0)),
        CgroupDef::named("b").with_cpuset(CpusetSpec::llc(1)),
    ]);
    let steps = vec![
        Step::new(vec![Op::swap_cpusets("a", "b")], HoldSpec::Frac(0.3)),
        Step::new(
            vec![
                Op::add_cgroup("c"),
                Op::spawn("c", Work::default().workers(1)),
                Op::clear_cpuset("a"),
            ],
            HoldSpec::Frac(0.3),
        ),
    ];
    let result = execute_scenario(&ctx, &backdrop, steps).unwrap();
    assert_engine_ok("", &result);
    let names: Vec<&str> = result
        .stats
        .cgroups
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    for name in ["a", "b", "c"] {
        assert!(names.contains(&name), "{name} was not judged: {names:?}");
    }
    let log = cgroups.log();
    let position = |wanted: &CgroupEvent| {
        log.iter()
            .position(|e| e == wanted)
            .unwrap_or_else(|| panic!("{wanted:?} not in {log:?}"))
    };
    let swap_b = position(&CgroupEvent::SetCpuset {
        name: "b".into(),
        cpus: CpuSet::parse("0-1").unwrap(),
    });
    let clear_a = position(&CgroupEvent::ClearCpuset { name: "a".into() });
    let create_c = position(&CgroupEvent::Create { name: "c".into() });
    assert!(swap_b < create_c && create_c < clear_a, "{log:?}");
    assert!(
        cgroups.names().is_empty(),
        "left behind: {:?}",
        cgroups.names()
    );
}

#[test]
fn scheduler_death_fails_the_scenario() {
    let _serial = crate::serial();
    let (cgroups, topo) = (MemCgroups::new(), topo());
    let mut sched = std::process::Command::new("sleep")
        .arg("0.3")
        .spawn()
        .unwrap();
    let ctx = Ctx::builder(&cgroups, &topo)
        .duration(Duration::from_millis(1500))
        .sched_pid(Some(sched.id() as i32))
        .build();
    let started = std::time::Instant::now();
    let result = execute_defs(&ctx, vec![CgroupDef::named("cg_0")]).unwrap();
    sched.wait().unwrap();
    assert!(!result.passed);
    assert!(
        result
            .details
            .iter()
            .any(|d| d.kind == DetailKind::SchedulerDied),
        "{:?}",
        result.details
    );
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "the hold should end early on death"
    );
}

/// Every canned scenario runs to a verdict without an engine failure (see `assert_engine_ok`).
#[test]
fn every_canned_scenario_runs_by_name() {
    let _serial = crate::serial();
    // Real affinities are applied, so the topology must be this host's.
    let topo = TestTopology::from_sysfs().unwrap();
    for canned in catalog::catalog() {
        let cgroups = MemCgroups::new();
        let ctx = Ctx::builder(&cgroups, &topo)
            .duration(Duration::from_secs(1))
            .build();
        let found = catalog::find(canned.name).unwrap();
        let result = (found.run)(&ctx).unwrap_or_else(|e| panic!("{}: {e:#}", canned.name));
        assert_engine_ok(canned.name, &result);
        assert!(
            result.skipped || result.stats.total_workers > 0,
            "{} measured nothing",
            canned.name
        );
        assert!(
            cgroups.names().is_empty(),
            "{} left {:?}",
            canned.name,
            cgroups.names()
        );
    }
}

/// The in-memory double does not confine workers, so a cpuset scenario says isolation was not judged
/// rather than failing or passing it.
#[test]
fn isolation_over_the_in_memory_double_is_not_judged() {
    let _serial = crate::serial();
    let topo = TestTopology::from_sysfs().unwrap();
    let cgroups = MemCgroups::new();
    let ctx = Ctx::builder(&cgroups, &topo)
        .duration(Duration::from_millis(600))
        .build();
    let result = catalog::cpuset_swap(&ctx).unwrap();
    assert!(
        !result
            .details
            .iter()
            .any(|d| d.kind == DetailKind::Isolation),
        "{:?}",
        result.details
    );
    assert!(
        result
            .not_judged
            .iter()
            .any(|n| n.check == "isolation" && n.reason.contains("in-memory cgroup double")),
        "{:?}",
        result.not_judged
    );
}
