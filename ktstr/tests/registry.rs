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

mod nested {
    use ktstr::prelude::*;

    #[ktstr_test]
    pub fn registered_in_a_module(_ctx: &Ctx) -> Result<AssertResult> {
        Ok(AssertResult::pass())
    }
}

#[test]
fn every_ktstr_test_is_registered_with_its_attributes() {
    let tests = ktstr::harness::registered_tests();
    let names: Vec<&str> = tests.iter().map(|t| t.name()).collect();
    assert_eq!(
        names,
        [
            "registered_by_dimensions",
            "registered_in_a_module",
            "registered_with_attributes"
        ]
    );
    let declared = &tests[2];
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
    assert_eq!(tests[1].vm_topology().to_string(), "1n1l2c1t");
    assert_eq!(tests[1].expected(), OutcomeKind::Passed);
}
