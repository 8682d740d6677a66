//! `#[ktstr_test]` registers each test with what its attribute says, without a list.

use ktstr::prelude::*;

#[ktstr_test(
    topology = "2n4l1c1t",
    expect = ChecksFailed,
    expect_detail = Unfair,
    expect_reason = "unfair",
    max_spread_pct = 12.5,
    isolation = true
)]
fn registered_with_attributes(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(ctx, vec![CgroupDef::named("cg_0")])?)
}

#[ktstr_test(llcs = 2, cores = 2)]
fn registered_by_dimensions(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(ctx, vec![CgroupDef::named("cg_0")])?)
}

/// A scheduler declared from its flags, as a test author would over an in-tree scheduler.
#[derive(Scheduler)]
#[scheduler(
    binary = "scx_flatcg",
    topology(1, 2, 2, 1),
    min_llcs = 2,
    max_gap_ms = 4000
)]
pub enum FlatFlags {
    #[flag(args = ["-s", "5000"])]
    ShortSlice,
    #[flag(args = ["-f"], excludes = [ShortSlice])]
    Fifo,
}

#[ktstr_test(scheduler = FLAT, profile = "fifo", extra_sched_args = ["-i", "1"])]
fn registered_with_a_profile(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(ctx, vec![CgroupDef::named("cg_0")])?)
}

#[ktstr_test(scheduler = FLAT, gauntlet = true, excluded_flags = ["fifo"], max_cpus = 4)]
fn registered_for_the_gauntlet(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(ctx, vec![CgroupDef::named("cg_0")])?)
}

#[ktstr_test(host_only = true, min_cpus = 2, requires_smt = true)]
fn registered_on_the_host(_ctx: &Ctx) -> Result<AssertResult> {
    Ok(AssertResult::pass())
}

mod nested {
    use ktstr::prelude::*;

    #[ktstr_test]
    pub fn registered_in_a_module(_ctx: &Ctx) -> Result<AssertResult> {
        Ok(AssertResult::pass())
    }
}

#[test]
fn every_ktstr_test_is_registered_with_its_attributes() {
    let tests = ktstr::pipeline::registered_tests();
    let names: Vec<&str> = tests.iter().map(|t| t.name()).collect();
    assert_eq!(
        names,
        [
            "registered_by_dimensions",
            "registered_for_the_gauntlet",
            "registered_in_a_module",
            "registered_on_the_host",
            "registered_with_a_profile",
            "registered_with_attributes"
        ]
    );
    let declared = &tests[5];
    assert_eq!(declared.vm_topology().to_string(), "2n4l1c1t");
    assert_eq!(declared.expected(), OutcomeKind::ChecksFailed);
    let failed = OutcomeKind::ChecksFailed;
    assert!(declared.accepts(
        failed,
        "checks failed: unfair cgroup",
        &[DetailKind::Unfair]
    ));
    assert!(!declared.accepts(failed, "checks failed: unfair cgroup", &[DetailKind::Stuck]));
    assert!(!declared.accepts(failed, "checks failed: stuck", &[DetailKind::Unfair]));
    assert_eq!(declared.checks().max_spread_pct, Some(12.5));
    assert_eq!(declared.checks().isolation, Some(true));
    assert_eq!(tests[0].vm_topology().to_string(), "1n2l2c1t");
    assert_eq!(tests[2].vm_topology().to_string(), "1n1l2c1t");
    assert_eq!(tests[2].expected(), OutcomeKind::Passed);
}

#[test]
fn a_declared_scheduler_gives_its_topology_profile_and_checks() {
    let tests = ktstr::pipeline::registered_tests();
    let profiled = tests
        .iter()
        .find(|t| t.name() == "registered_with_a_profile")
        .unwrap();
    assert_eq!(
        profiled.trial_name(),
        "registered_with_a_profile/scx_flatcg/1n2l2c1t/fifo"
    );
    let resolved = profiled.resolved().unwrap();
    assert_eq!(resolved.sched().spec().args, ["-f", "-i", "1"]);
    assert_eq!(resolved.sched().assert_overrides().max_gap_ms, Some(4000));
    let host = tests
        .iter()
        .find(|t| t.name() == "registered_on_the_host")
        .unwrap();
    assert!(host.is_host_only());
    assert_eq!(host.trial_name(), "registered_on_the_host/host");
    assert_eq!(host.topology_constraints().min_cpus, Some(2));
    assert!(host.topology_constraints().requires_smt);
    let names: Vec<String> = FLAT.profiles().iter().map(|p| p.name()).collect();
    assert_eq!(names, ["default", "short-slice", "fifo"]);
    assert_eq!(
        (FlatFlags::FIFO, FlatFlags::ShortSlice.flag_name()),
        ("fifo", "short-slice")
    );
}

#[test]
fn declaration_mistakes_are_errors_before_a_vm_boots() {
    fn nothing(_: &Ctx) -> Result<AssertResult> {
        Ok(AssertResult::pass())
    }
    let err = |test: VmTest| {
        test.resolved()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        err(VmTest::new("t", nothing).scheduler(FLAT).profile("fifo+short-slice")),
        "scheduler scx_flatcg: profile \"fifo+short-slice\": flags fifo and short-slice exclude each other"
    );
    assert!(
        err(VmTest::new("t", nothing).scheduler(FLAT).profile("fifi"))
            .contains("no flag named \"fifi\"; its flags are short-slice, fifo")
    );
    assert_eq!(
        err(VmTest::new("t", nothing).scheduler(FLAT).topology("1n1l4c1t".parse().unwrap())),
        "scheduler scx_flatcg cannot run on this topology: 1n1l4c1t has 1 LLCs; at least 2 needed; \
         pick a topology its constraints allow"
    );
    assert!(err(VmTest::new("t", nothing).profile("x")).contains("only `default` exists"));
}

#[test]
fn a_gauntlet_test_fans_out_within_its_bounds_and_flags() {
    use ktstr::pipeline::gauntlet::{expand, HostCapacity};
    use ktstr::vm::Accel;
    let tests = ktstr::pipeline::registered_tests();
    let test = tests
        .iter()
        .find(|t| t.name() == "registered_for_the_gauntlet")
        .unwrap();
    assert!(test.is_gauntlet());
    let host = HostCapacity {
        accel: Accel::Tcg,
        cpus: 2,
    };
    let names: Vec<String> = expand(test, &host, &[])
        .unwrap()
        .iter()
        .map(|v| v.test.trial_name())
        .collect();
    // presets with at most 4 CPUs and at least the declaration's 2 LLCs, each with and without short-slice
    assert_eq!(
        names,
        [
            "gauntlet/registered_for_the_gauntlet/tiny-2llc/default",
            "gauntlet/registered_for_the_gauntlet/tiny-2llc/short-slice",
            "gauntlet/registered_for_the_gauntlet/numa2-2llc/default",
            "gauntlet/registered_for_the_gauntlet/numa2-2llc/short-slice",
            "gauntlet/registered_for_the_gauntlet/numa4-4llc/default",
            "gauntlet/registered_for_the_gauntlet/numa4-4llc/short-slice",
        ]
    );
}
