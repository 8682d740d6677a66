use super::*;
use crate::assert::AssertResult;
use crate::scenario::Ctx;
use crate::sched::{FlagDecl, Scheduler};
use crate::topology::presets::PRESETS;

fn nothing(_: &Ctx) -> anyhow::Result<AssertResult> {
    Ok(AssertResult::pass())
}

const TWO_FLAGS: Scheduler = Scheduler::new("scx_qmap").flags(&[
    FlagDecl::new("batch").args(&["-b", "8"]),
    FlagDecl::new("boost").args(&["-H"]).requires(&["batch"]),
]);

const TCG2: HostCapacity = HostCapacity {
    accel: Accel::Tcg,
    cpus: 2,
};

fn names(variants: &[Variant]) -> Vec<String> {
    variants.iter().map(|v| v.test.trial_name()).collect()
}

#[test]
fn a_test_fans_out_over_every_preset_and_profile() {
    let test = VmTest::new("t", nothing).scheduler(TWO_FLAGS).gauntlet();
    let variants = expand(&test, &TCG2, &[]).unwrap();
    assert_eq!(variants.len(), PRESETS.len() * 3);
    let names = names(&variants);
    assert_eq!(names[0], "gauntlet/t/single-cpu/default");
    assert_eq!(names[2], "gauntlet/t/single-cpu/batch+boost");
    assert!(names.contains(&"gauntlet/t/odd-3llc/batch".to_string()));
    let odd = variants
        .iter()
        .find(|v| v.preset.name == "odd-3llc")
        .unwrap();
    assert_eq!(odd.test.vm_topology().to_string(), "1n3l3c1t");
    assert!(odd.test.resolved().is_ok());
}

#[test]
fn wider_than_the_host_is_skipped_with_the_reason_not_dropped() {
    let test = VmTest::new("t", nothing).gauntlet();
    let variants = expand(&test, &TCG2, &[]).unwrap();
    assert_eq!(variants.len(), PRESETS.len());
    let skipped: Vec<&Variant> = variants.iter().filter(|v| v.skip.is_some()).collect();
    assert_eq!(
        skipped.iter().map(|v| v.preset.name).collect::<Vec<_>>(),
        ["medium-4llc", "numa4-8llc"]
    );
    assert!(
        skipped[0].skip.as_deref().unwrap().contains("32 vCPUs"),
        "{:?}",
        skipped[0].skip
    );
    let big = HostCapacity {
        accel: Accel::Kvm,
        cpus: 64,
    };
    assert!(expand(&test, &big, &[])
        .unwrap()
        .iter()
        .all(|v| v.skip.is_none()));
}

#[test]
fn constraints_and_flag_choices_narrow_the_variants() {
    let test = VmTest::new("t", nothing)
        .scheduler(TWO_FLAGS)
        .gauntlet()
        .required_flags(["batch"])
        .constraints(crate::sched::TopologyConstraints {
            requires_smt: true,
            ..crate::sched::TopologyConstraints::NONE
        });
    let names = names(&expand(&test, &TCG2, &[]).unwrap());
    assert!(names.iter().all(|n| n.contains("batch")), "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.contains("smt") || n.contains("max-tcg") || n.contains("medium-4llc")),
        "{names:?}"
    );
    let unknown = VmTest::new("t", nothing)
        .scheduler(TWO_FLAGS)
        .gauntlet()
        .excluded_flags(["nope"]);
    assert!(expand(&unknown, &TCG2, &[])
        .unwrap_err()
        .to_string()
        .contains("no flag named \"nope\""));
}

#[test]
fn the_mode_comes_from_one_switch() {
    assert_eq!(GauntletMode::parse(None), Ok(GauntletMode::Listed));
    assert_eq!(GauntletMode::parse(Some("1")), Ok(GauntletMode::Marked));
    assert_eq!(GauntletMode::parse(Some("all")), Ok(GauntletMode::All));
    assert!(GauntletMode::parse(Some("yes"))
        .unwrap_err()
        .contains("use 0"));
    let plain = VmTest::new("t", nothing);
    assert!(!GauntletMode::Marked.expands(&plain));
    assert!(GauntletMode::All.expands(&plain));
    assert!(!GauntletMode::All.expands(&plain.clone().host_only()));
}

#[test]
fn several_kernels_multiply_the_variants_and_name_themselves() {
    use crate::kernel::KernelFlavor;
    let test = VmTest::new("t", nothing).gauntlet();
    let both = [KernelFlavor::Default, KernelFlavor::Debug];
    let variants = expand(&test, &TCG2, &both).unwrap();
    assert_eq!(variants.len(), PRESETS.len() * 2);
    assert_eq!(
        variants[0].test.trial_name(),
        "gauntlet/t/single-cpu/default/default"
    );
    assert_eq!(
        variants[1].test.trial_name(),
        "gauntlet/t/single-cpu/default/debug"
    );
    let one = expand(&test, &TCG2, &[KernelFlavor::Debug]).unwrap();
    assert_eq!(one[0].test.trial_name(), "gauntlet/t/single-cpu/default");
    assert_eq!(
        parse_kernels(Some("debug, default,debug")),
        Ok(vec![KernelFlavor::Debug, KernelFlavor::Default])
    );
    assert!(parse_kernels(Some("fast"))
        .unwrap_err()
        .starts_with("KTSTR_GAUNTLET_KERNELS: "));
    assert_eq!(parse_kernels(None), Ok(vec![]));
}
