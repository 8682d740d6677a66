//! Names, guest and host paths, argument handling and the wire form of `Scheduler`.

use std::path::PathBuf;

use super::*;
use crate::sched::{BinarySource, LocatedBinary, SchedulerStore};
use crate::scx::SchedulerSpec;

#[test]
fn in_tree_schedulers_map_to_guest_and_cache_paths() {
    for name in IN_TREE_SCHEDULERS {
        let sched = Scheduler::in_tree(name).expect(name);
        assert_eq!(sched.name(), name);
        assert_eq!(sched.binary_name(), Some(name));
        assert_eq!(sched.guest_path(), Some(format!("/bin/{name}")));
        let located = sched
            .locate(|n| Some(PathBuf::from(format!("/cache/k1/sched/{n}"))))
            .unwrap();
        assert_eq!(
            located,
            Some(LocatedBinary {
                path: PathBuf::from(format!("/cache/k1/sched/{name}")),
                source: BinarySource::KernelTree
            })
        );
        assert_eq!(
            sched.locate(|_| None).unwrap_err(),
            SchedulerError::InTreeNotBuilt { name: name.into() }
        );
        assert!(!sched.is_eevdf());
    }
}

#[test]
fn unknown_in_tree_name_lists_the_known_ones() {
    for name in ["scx_rusty", "qmap", "", "SCX_QMAP"] {
        let err = Scheduler::in_tree(name).unwrap_err();
        assert!(
            matches!(err, SchedulerError::UnknownInTree { .. }),
            "{name}"
        );
        let text = err.to_string();
        for known in IN_TREE_SCHEDULERS {
            assert!(text.contains(known), "{text}");
        }
    }
}

#[test]
fn eevdf_has_no_binary_and_takes_no_args() {
    let eevdf = Scheduler::EEVDF;
    assert!(eevdf.is_eevdf());
    assert_eq!(eevdf.name(), "eevdf");
    assert_eq!(eevdf.binary_name(), None);
    assert_eq!(eevdf.locate(|_| None), Ok(None));
    let spec = eevdf.spec();
    assert!(spec.is_eevdf());
    assert_eq!(
        spec,
        SchedulerSpec {
            name: "eevdf".into(),
            guest_binary: None,
            args: vec![],
            diagnostic_args: vec![],
        }
    );
    assert_eq!(
        Scheduler::EEVDF.args(["-v"]).unwrap_err(),
        SchedulerError::ArgsForEevdf
    );
}

#[test]
fn binary_uses_its_name_in_the_guest_and_its_path_on_the_host() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scx_rusty-1.0");
    std::fs::write(&path, b"not an ELF").unwrap();
    let sched = Scheduler::binary("scx_rusty", &path).expect("valid");
    let err = sched.locate(|_| None).unwrap_err();
    assert!(err.to_string().contains("not an ELF executable"), "{err}");
    std::fs::write(&path, b"\x7fELF rest").unwrap();
    let err = sched.locate(|_| None).unwrap_err();
    assert!(err.to_string().contains("chmod +x"), "{err}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let sched = Scheduler::binary("scx_rusty", &path).expect("valid");
    assert_eq!(sched.guest_path().as_deref(), Some("/bin/scx_rusty"));
    assert_eq!(
        sched.locate(|_| None).unwrap().map(|l| (l.path, l.source)),
        Some((path.clone(), BinarySource::Given))
    );
    assert!(
        sched.spec().diagnostic_args.is_empty(),
        "a given binary's flags are unknown"
    );
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(
        sched.locate(|_| None),
        Err(SchedulerError::NoSuchFile { .. })
    ));
}

#[test]
fn bad_binary_declarations_are_typed_errors() {
    let cases: [(&str, &str, SchedulerError); 6] = [
        ("", "/x", SchedulerError::EmptyName),
        ("a/b", "/x", bad_name("a/b", '/')),
        ("a b", "/x", bad_name("a b", ' ')),
        ("..", "/x", bad_name("..", '.')),
        ("-v", "/x", bad_name("-v", '-')),
        ("ok", "", SchedulerError::EmptyPath { name: "ok".into() }),
    ];
    for (name, path, want) in cases {
        assert_eq!(Scheduler::binary(name, path).unwrap_err(), want, "{name:?}");
    }
}

fn bad_name(name: &str, bad: char) -> SchedulerError {
    SchedulerError::BadName {
        name: name.into(),
        bad,
    }
}

#[test]
fn args_append_in_order_and_reject_nul() {
    let sched = Scheduler::in_tree("scx_qmap")
        .and_then(|s| s.args(["-t", "10"]))
        .and_then(|s| s.args(vec![String::from("-b"), "8".into()]))
        .expect("valid args");
    assert_eq!(sched.extra_args(), ["-t", "10", "-b", "8"]);
    let err = sched.args(["ok", "bad\0arg"]).unwrap_err();
    assert_eq!(
        err,
        SchedulerError::ArgWithNul {
            name: "scx_qmap".into(),
            index: 5,
            arg: "bad\0arg".into(),
        }
    );
}

#[test]
fn clones_share_arguments_and_assert_overrides_stay_per_value() {
    let base = Scheduler::in_tree("scx_simple")
        .and_then(|s| s.args(["-v"]))
        .expect("valid");
    let strict = base.clone().assert(Assert::NO_OVERRIDES.max_gap_ms(100));
    assert_eq!(base.assert_overrides(), Assert::NO_OVERRIDES);
    assert_eq!(strict.assert_overrides().max_gap_ms, Some(100));
    assert!(std::ptr::eq(base.extra_args(), strict.extra_args()));
}

#[test]
fn spec_round_trips_through_json() {
    let spec = Scheduler::in_tree("scx_central")
        .and_then(|s| s.args(["-s", "20000"]))
        .expect("valid")
        .spec();
    let text = serde_json::to_string(&spec).expect("serializes");
    assert_eq!(
        text,
        r#"{"name":"scx_central","guest_binary":"/bin/scx_central","args":["-s","20000"],"diagnostic_args":["-v"]}"#
    );
    let back: SchedulerSpec = serde_json::from_str(&text).expect("parses");
    assert_eq!(back, spec);
}

#[test]
fn by_name_sorts_a_typed_name_into_its_kind() {
    assert_eq!(
        Scheduler::by_name("scx_qmap").unwrap(),
        Scheduler::in_tree("scx_qmap").unwrap()
    );
    assert_eq!(
        Scheduler::by_name("scx_rusty@1.1.4").unwrap(),
        Scheduler::installed("scx_rusty@1.1.4").unwrap()
    );
    assert!(matches!(
        Scheduler::by_name("/no/such/scx_x"),
        Err(SchedulerError::NoSuchFile { .. })
    ));
    assert!(matches!(
        Scheduler::installed("scx_rusty@"),
        Err(SchedulerError::EmptyVersion { .. })
    ));
    assert!(matches!(
        Scheduler::by_name("bad name"),
        Err(SchedulerError::BadName { .. })
    ));
    let named = Scheduler::by_name("scx_mine").unwrap();
    assert_eq!(named.guest_path().as_deref(), Some("/bin/scx_mine"));
    assert_eq!(named.spec().diagnostic_args, ["-v"]);
}

#[test]
fn installed_and_named_schedulers_are_found_in_the_store_target_dirs_and_path() {
    let cache = tempfile::tempdir().unwrap();
    let store = SchedulerStore::at(cache.path());
    let missing = Scheduler::installed("scx_demo@0.1.0").unwrap();
    let err = missing.locate_in(|_| None, &store).unwrap_err();
    assert!(
        err.to_string()
            .contains("ktstr scheduler install scx_demo@0.1.0"),
        "{err}"
    );
    let binary = crate::sched::store::tests::fake_install(&store, "scx_demo", "0.1.0");
    let located = missing.locate_in(|_| None, &store).unwrap().unwrap();
    assert_eq!(
        (located.path, located.source),
        (
            binary.clone(),
            BinarySource::Installed {
                version: "0.1.0".into()
            }
        )
    );
    let named = Scheduler::by_name("scx_demo").unwrap();
    assert_eq!(
        named.locate_in(|_| None, &store).unwrap().unwrap().path,
        binary
    );
    let on_path = Scheduler::by_name("sh")
        .unwrap()
        .locate_in(|_| None, &store)
        .unwrap()
        .unwrap();
    assert_eq!(on_path.source, BinarySource::Path);
    let nowhere = Scheduler::by_name("scx_nowhere_to_be_found")
        .unwrap()
        .locate_in(|_| None, &store)
        .unwrap_err();
    assert!(
        matches!(nowhere, SchedulerError::NotFound { .. })
            && nowhere
                .to_string()
                .contains("ktstr scheduler install scx_nowhere_to_be_found"),
        "{nowhere}"
    );
}
