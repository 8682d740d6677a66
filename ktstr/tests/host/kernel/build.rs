//! The build pipeline against fake sources: caching, out-of-tree builds and every bad-input error.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ktstr::kernel::{
    build_kernel, resolve_kernel_in, BuildOutcome, BuildRequest, Cache, Fragment, KernelError,
    KernelFlavor, KernelOrigin, KernelSource, SourceId,
};

use super::fake::{fake_tarball, fake_tree, request, FakeKernel, WORKING};

/// A cache under `scratch` and a request to build the working fake tarball into it.
fn tarball_request(scratch: &Path) -> (Cache, BuildRequest) {
    let cache = Cache::at(scratch.join("cache"));
    let req = request(KernelSource::tarball(&fake_tarball(scratch, &WORKING)).unwrap());
    (cache, req)
}

#[test]
fn a_build_runs_five_steps_into_a_complete_entry() {
    let scratch = tempfile::tempdir().unwrap();
    let (cache, req) = tarball_request(scratch.path());
    let mut steps = Vec::new();
    let built = build_kernel(&cache, &req, &mut |e| {
        if let ktstr::kernel::BuildEvent::StepStarted { index, total, .. } = e {
            steps.push((index, total));
        }
    })
    .unwrap();
    assert!(matches!(built, BuildOutcome::Built(_)));
    assert_eq!(steps, [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]);
    let entry = built.entry();
    assert_eq!(
        entry.key(),
        format!("6.99.0-fake-kc{}", Fragment::ktstr().hash())
    );
    for file in [
        "bzImage",
        "vmlinux",
        "config",
        "metadata.json",
        "sched/scx_simple",
        "sched/scx_flatcg",
    ] {
        assert!(
            entry.dir().join(file).is_file(),
            "{file} missing from the entry"
        );
    }
    let config = std::fs::read_to_string(entry.config()).unwrap();
    assert!(
        config.contains("CONFIG_SCHED_CLASS_EXT=y"),
        "the fragment was applied"
    );
    assert!(matches!(&entry.metadata().source, SourceId::Tarball { .. }));
}

#[test]
fn a_repeat_build_is_a_hit_and_a_forced_one_replaces_the_entry() {
    let scratch = tempfile::tempdir().unwrap();
    let (cache, req) = tarball_request(scratch.path());
    let build = |req: &BuildRequest| build_kernel(&cache, req, &mut |_| {}).unwrap();
    assert!(matches!(build(&req), BuildOutcome::Built(_)));
    assert!(matches!(build(&req), BuildOutcome::Hit(_)));
    let forced = BuildRequest {
        force: true,
        ..req.clone()
    };
    assert!(matches!(build(&forced), BuildOutcome::Built(_)));
    assert_eq!(
        cache.entries().unwrap().len(),
        1,
        "a rebuild replaces the entry"
    );
    assert!(
        !cache.root().join(".tmp").read_dir().unwrap().any(|_| true),
        "no scratch left behind"
    );
}

#[test]
fn a_built_kernel_resolves_with_its_schedulers_and_is_not_cleaned_while_resolved() {
    let scratch = tempfile::tempdir().unwrap();
    let (cache, req) = tarball_request(scratch.path());
    let built = build_kernel(&cache, &req, &mut |_| {}).unwrap();
    let entry = built.entry();
    let resolved = resolve_kernel_in(None, KernelFlavor::Default, &cache).unwrap();
    assert_eq!(
        resolved.origin(),
        &KernelOrigin::Cache(entry.key().to_string())
    );
    assert_eq!(
        resolved.scheduler("scx_simple"),
        Some(entry.dir().join("sched/scx_simple"))
    );
    assert!(
        cache
            .clean(0)
            .unwrap()
            .busy
            .contains(&entry.key().to_string()),
        "a resolved kernel is not cleaned"
    );
}

#[test]
fn a_source_tree_builds_out_of_tree_without_touching_it() {
    let scratch = tempfile::tempdir().unwrap();
    let tree = scratch.path().join("linux");
    fake_tree(&tree, &WORKING);
    let cache = Cache::at(scratch.path().join("cache"));
    let built = build_kernel(
        &cache,
        &request(KernelSource::tree(&tree).unwrap()),
        &mut |_| {},
    )
    .unwrap();
    assert!(matches!(
        built.entry().metadata().source,
        SourceId::Tree { .. }
    ));
    assert!(!tree.join(".config").exists() && !tree.join("tools/sched_ext/build").exists());
}

#[test]
fn an_option_olddefconfig_drops_fails_the_build_by_name() {
    let scratch = tempfile::tempdir().unwrap();
    let fake = FakeKernel {
        olddefconfig: "sed -i '/SCHED_CLASS_EXT/d' $(O)/.config",
        bzimage: "",
    };
    let tarball = fake_tarball(scratch.path(), &fake);
    let cache = Cache::at(scratch.path().join("cache"));
    match build_kernel(
        &cache,
        &request(KernelSource::tarball(&tarball).unwrap()),
        &mut |_| {},
    ) {
        Err(KernelError::MissingOptions { missing }) => {
            assert_eq!(missing, ["CONFIG_SCHED_CLASS_EXT (wanted y, got unset)"])
        }
        other => panic!("expected MissingOptions, got {other:?}"),
    }
    assert!(
        cache.entries().unwrap().is_empty(),
        "a failed build leaves no entry"
    );
}

#[test]
fn a_failing_step_reports_the_log_tail_and_path() {
    let scratch = tempfile::tempdir().unwrap();
    let fake = FakeKernel {
        olddefconfig: "true",
        bzimage: "seq 1 100; echo 'ld: undefined symbol scx_foo'; exit 2",
    };
    let cache = Cache::at(scratch.path().join("cache"));
    let source = KernelSource::tarball(&fake_tarball(scratch.path(), &fake)).unwrap();
    match build_kernel(&cache, &request(source), &mut |_| {}) {
        Err(KernelError::StepFailed {
            tail, log, step, ..
        }) => {
            assert!(step.contains("build the kernel"), "{step}");
            assert_eq!(tail.lines().count(), 40);
            assert!(
                tail.lines().any(|l| l.contains("undefined symbol scx_foo")),
                "{tail}"
            );
            assert!(
                std::fs::read_to_string(&log).unwrap().contains("\n1\n"),
                "the log has every line"
            );
        }
        other => panic!("expected StepFailed, got {other:?}"),
    }
    assert!(cache.entries().unwrap().is_empty());
}

#[test]
fn bad_sources_fail_with_one_line_naming_the_fix() {
    let scratch = tempfile::tempdir().unwrap();
    let not_kernel = scratch.path().join("notes");
    std::fs::create_dir(&not_kernel).unwrap();
    std::fs::write(not_kernel.join("Makefile"), "all:\n").unwrap();
    let built_tree = scratch.path().join("built");
    fake_tree(&built_tree, &WORKING);
    std::fs::write(built_tree.join(".config"), "").unwrap();
    let junk = scratch.path().join("junk.tar.xz");
    std::fs::write(&junk, "this is not a tarball").unwrap();

    let cases: [(Result<KernelSource, KernelError>, &str); 4] = [
        (
            KernelSource::tree(&scratch.path().join("absent")),
            "pass --source with the top of a Linux source tree",
        ),
        (
            KernelSource::tree(&not_kernel),
            "is not a Linux 6.12+ source tree (it has no Kconfig)",
        ),
        (KernelSource::tree(&built_tree), "run `make mrproper` there"),
        (
            KernelSource::tarball(&scratch.path().join("absent.tar.xz")),
            "pass --tarball",
        ),
    ];
    for (result, want) in cases {
        let message = result.unwrap_err().to_string();
        assert!(message.contains(want), "{message:?} lacks {want:?}");
        assert_eq!(message.lines().count(), 1, "{message}");
    }
    let message = KernelSource::tarball(&junk)
        .unwrap()
        .version()
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("not a readable kernel source tarball")
            && message.contains("--reinstall linux-source-6.12"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[test]
fn a_tarball_truncated_after_its_makefile_fails_extraction_as_corrupt() {
    let scratch = tempfile::tempdir().unwrap();
    let tree = scratch.path().join("linux");
    fake_tree(&tree, &WORKING);
    let noise: Vec<u8> = (0..400_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(tree.join("zz-large.bin"), noise).unwrap();
    let tarball = scratch.path().join("linux.tar.xz");
    let members = [
        "linux/Makefile",
        "linux/Kconfig",
        "linux/kernel",
        "linux/arch",
        "linux/tools",
        "linux/zz-large.bin",
    ];
    assert!(Command::new("tar")
        .arg("-cJf")
        .arg(&tarball)
        .arg("-C")
        .arg(scratch.path())
        .args(members)
        .status()
        .unwrap()
        .success());
    let full = std::fs::read(&tarball).unwrap();
    std::fs::write(&tarball, &full[..full.len() * 3 / 4]).unwrap();

    let cache = Cache::at(scratch.path().join("cache"));
    match build_kernel(
        &cache,
        &request(KernelSource::tarball(&tarball).unwrap()),
        &mut |_| {},
    ) {
        Err(e @ KernelError::CorruptTarball { .. }) => {
            assert_eq!(e.to_string().lines().count(), 1, "{e}")
        }
        other => panic!("expected CorruptTarball, got {other:?}"),
    }
    let key = format!("6.99.0-fake-kc{}", Fragment::ktstr().hash());
    assert!(
        cache.log_path(&key).is_file(),
        "the version was read and extraction itself failed"
    );
    assert!(cache.entries().unwrap().is_empty());
}

#[test]
fn concurrent_builds_of_one_key_build_it_once() {
    let scratch = tempfile::tempdir().unwrap();
    let (cache, req) = tarball_request(scratch.path());
    // Each output line takes 20 ms, so the two builds overlap for the whole fake build.
    let build = || {
        build_kernel(&cache, &req, &mut |_| {
            std::thread::sleep(Duration::from_millis(20))
        })
        .unwrap()
    };
    let outcomes: Vec<BuildOutcome> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2).map(|_| s.spawn(build)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let built = outcomes
        .iter()
        .filter(|o| matches!(o, BuildOutcome::Built(_)))
        .count();
    assert_eq!(
        built, 1,
        "the second build waits for the lock, then finds the first one's entry"
    );
    assert_eq!(cache.entries().unwrap().len(), 1);
}
