//! Names, guest and host paths, argument handling and the wire form of `Scheduler`.

use super::*;

#[test]
fn in_tree_schedulers_map_to_guest_and_cache_paths() {
    for name in IN_TREE_SCHEDULERS {
        let sched = Scheduler::in_tree(name).expect(name);
        assert_eq!(sched.name(), name);
        assert_eq!(sched.binary_name(), Some(name));
        assert_eq!(sched.guest_path(), Some(format!("/bin/{name}")));
        assert_eq!(
            sched.host_binary(Path::new("/cache/k1")),
            Some(PathBuf::from(format!("/cache/k1/sched/{name}")))
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
    assert_eq!(eevdf.host_binary(Path::new("/k")), None);
    let spec = eevdf.spec();
    assert!(spec.is_eevdf());
    assert_eq!(
        spec,
        SchedulerSpec {
            name: "eevdf".into(),
            guest_binary: None,
            args: vec![],
        }
    );
    assert_eq!(
        Scheduler::EEVDF.args(["-v"]).unwrap_err(),
        SchedulerError::ArgsForEevdf
    );
}

#[test]
fn binary_uses_its_name_in_the_guest_and_its_path_on_the_host() {
    let sched = Scheduler::binary("scx_rusty", "/opt/scx/bin/scx_rusty-1.0").expect("valid");
    assert_eq!(sched.guest_path().as_deref(), Some("/bin/scx_rusty"));
    assert_eq!(
        sched.host_binary(Path::new("/ignored")),
        Some(PathBuf::from("/opt/scx/bin/scx_rusty-1.0"))
    );
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
    assert_eq!(sched.sched_args(), ["-t", "10", "-b", "8"]);
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
    assert!(std::ptr::eq(base.sched_args(), strict.sched_args()));
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
        r#"{"name":"scx_central","guest_binary":"/bin/scx_central","args":["-s","20000"]}"#
    );
    let back: SchedulerSpec = serde_json::from_str(&text).expect("parses");
    assert_eq!(back, spec);
}
