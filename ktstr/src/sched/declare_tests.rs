use super::*;

const LLC: FlagDecl = FlagDecl::new("llc").args(&["--llc"]);
const STEAL: FlagDecl = FlagDecl::new("steal").args(&["--steal"]).requires(&["llc"]);
const FIFO: FlagDecl = FlagDecl::new("fifo").args(&["-f"]).excludes(&["steal"]);
const FLAGS: [FlagDecl; 3] = [LLC, STEAL, FIFO];

fn names(profiles: &[Profile]) -> Vec<String> {
    profiles.iter().map(Profile::name).collect()
}

#[test]
fn profiles_are_the_subsets_that_respect_requires_and_excludes() {
    assert_eq!(
        names(&profiles(&FLAGS, &[], &[])),
        ["default", "llc", "fifo", "llc+steal", "llc+fifo"]
    );
}

#[test]
fn required_and_excluded_flags_narrow_the_profiles() {
    assert_eq!(
        names(&profiles(&FLAGS, &["llc"], &[])),
        ["llc", "llc+steal", "llc+fifo"]
    );
    assert_eq!(names(&profiles(&FLAGS, &[], &["llc"])), ["default", "fifo"]);
    assert_eq!(names(&profiles(&[], &[], &[])), ["default"]);
}

#[test]
fn a_profile_name_is_read_in_any_order_and_checked() {
    let p = parse_profile(&FLAGS, "steal+llc").unwrap();
    assert_eq!(
        (p.name(), p.args().collect::<Vec<_>>()),
        ("llc+steal".into(), vec!["--llc", "--steal"])
    );
    assert!(parse_profile(&FLAGS, "default").unwrap().is_default());
    let err = |name| parse_profile(&FLAGS, name).unwrap_err();
    assert_eq!(err("steal"), "flag steal requires llc");
    assert_eq!(
        err("llc+steal+fifo"),
        "flags fifo and steal exclude each other"
    );
    assert_eq!(err("llc+llc"), "llc is named twice");
    assert_eq!(
        err("nope"),
        "no flag named \"nope\"; its flags are llc, steal, fifo"
    );
    assert_eq!(err("llc+"), "a flag name is empty; join flags with '+'");
    assert_eq!(
        parse_profile(&[], "x").unwrap_err(),
        "no flag named \"x\"; it declares no flags, so only `default` exists"
    );
}

#[test]
fn constraints_name_the_bound_a_topology_misses() {
    let t = |s: &str| s.parse::<Topology>().unwrap();
    let c = TopologyConstraints {
        min_llcs: Some(2),
        max_cpus: Some(8),
        ..TopologyConstraints::NONE
    };
    assert_eq!(c.check(&t("1n2l2c1t")), Ok(()));
    assert_eq!(
        c.check(&t("1n1l2c1t")).unwrap_err(),
        "1n1l2c1t has 1 LLCs; at least 2 needed"
    );
    assert_eq!(
        c.check(&t("1n4l4c1t")).unwrap_err(),
        "1n4l4c1t has 16 CPUs; at most 8 allowed"
    );
    let smt = TopologyConstraints {
        requires_smt: true,
        ..TopologyConstraints::NONE
    };
    assert!(smt.check(&t("1n2l2c1t")).unwrap_err().contains("SMT"));
    assert_eq!(smt.check(&t("1n1l2c2t")), Ok(()));
    let both = c.and(&TopologyConstraints {
        min_llcs: Some(4),
        max_cpus: Some(16),
        ..smt
    });
    assert_eq!(
        (both.min_llcs, both.max_cpus, both.requires_smt),
        (Some(4), Some(8), true)
    );
}

#[test]
fn dotted_sysctl_keys_become_paths() {
    assert_eq!(
        Sysctl::new("kernel.sched_rt_runtime_us", "-1").path(),
        "kernel/sched_rt_runtime_us"
    );
    assert_eq!(
        Sysctl::new("kernel/sched_rt_runtime_us", "-1").path(),
        "kernel/sched_rt_runtime_us"
    );
}

#[test]
fn const_flag_checks_catch_malformed_lists() {
    let caught = |flags: &[FlagDecl]| std::panic::catch_unwind(|| check_flags(flags)).is_err();
    assert!(!caught(&FLAGS));
    assert!(caught(&[FlagDecl::new("Bad_Name")]));
    assert!(caught(&[LLC, LLC]));
    assert!(caught(&[STEAL]));
    assert!(caught(&[FlagDecl::new("a").excludes(&["b"])]));
}
