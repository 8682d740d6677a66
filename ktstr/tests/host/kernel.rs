//! Kernel build, cache and resolution: the whole pipeline against a fake kernel source (fast), the
//! bad-input errors, and a boot of the real cached kernel under QEMU with scx_simple attached.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ktstr::kernel::{
    build_kernel, resolve_kernel, resolve_kernel_in, BuildOutcome, BuildRequest, Cache, Fragment,
    KernelError, KernelOrigin, KernelSource, Metadata, SourceId,
};

/// Writes a bzImage-shaped file: the boot flag at 0x1fe and "HdrS" at 0x202 (octal escapes for printf).
const FAKE_BZIMAGE_SH: &str = r"mkdir -p $(O)/arch/x86/boot && head -c 510 /dev/zero > $(O)/arch/x86/boot/bzImage && printf '\125\252\0\0HdrS' >> $(O)/arch/x86/boot/bzImage && echo elf > $(O)/vmlinux";

/// How the fake kernel tree's make targets behave.
struct FakeKernel {
    olddefconfig: &'static str,
    bzimage: &'static str,
}

const WORKING: FakeKernel = FakeKernel {
    olddefconfig: "true",
    bzimage: "",
};

/// Writes a kernel-shaped source tree whose make targets fake each build step in milliseconds.
fn fake_tree(dir: &Path, fake: &FakeKernel) {
    let bz = if fake.bzimage.is_empty() {
        FAKE_BZIMAGE_SH
    } else {
        fake.bzimage
    };
    let makefile = format!(
        "VERSION = 6\nPATCHLEVEL = 99\nSUBLEVEL = 0\nEXTRAVERSION = -fake\n\
         tinyconfig:\n\tmkdir -p $(O) && echo CONFIG_BASE=y > $(O)/.config\n\
         olddefconfig:\n\t{}\n\
         bzImage:\n\t{bz}\n",
        fake.olddefconfig
    );
    let sched = "scx_simple scx_qmap scx_central scx_flatcg:\n\tmkdir -p $(O)/build/bin && cp /bin/true $(O)/build/bin/$@\n";
    for (path, text) in [
        ("Makefile", makefile.as_str()),
        ("Kconfig", "mainmenu \"fake\"\n"),
        ("kernel/sched/ext.c", ""),
        ("arch/x86/Kconfig", ""),
        ("tools/sched_ext/Makefile", sched),
    ] {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// Packs a fake tree as `<dir>/linux.tar.xz` with a `linux/` top directory.
fn fake_tarball(dir: &Path, fake: &FakeKernel) -> PathBuf {
    fake_tree(&dir.join("linux"), fake);
    let tarball = dir.join("linux.tar.xz");
    let ok = Command::new("tar")
        .arg("-cJf")
        .arg(&tarball)
        .arg("-C")
        .arg(dir)
        .arg("linux")
        .status()
        .unwrap()
        .success();
    assert!(ok, "tar -cJf failed");
    tarball
}

fn request(source: KernelSource) -> BuildRequest {
    BuildRequest {
        source,
        jobs: None,
        force: false,
    }
}

#[test]
fn a_build_is_cached_hit_on_repeat_and_resolved() {
    let scratch = tempfile::tempdir().unwrap();
    let cache = Cache::at(scratch.path().join("cache"));
    let req = request(KernelSource::tarball(&fake_tarball(scratch.path(), &WORKING)).unwrap());
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

    assert!(matches!(
        build_kernel(&cache, &req, &mut |_| {}).unwrap(),
        BuildOutcome::Hit(_)
    ));
    let forced = BuildRequest {
        force: true,
        ..req.clone()
    };
    assert!(matches!(
        build_kernel(&cache, &forced, &mut |_| {}).unwrap(),
        BuildOutcome::Built(_)
    ));
    assert_eq!(
        cache.entries().unwrap().len(),
        1,
        "a rebuild replaces the entry"
    );
    assert!(
        !cache.root().join(".tmp").read_dir().unwrap().any(|_| true),
        "no scratch left behind"
    );

    let resolved = resolve_kernel_in(None, &cache).unwrap();
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
            "is not a Linux source tree (it has no Kconfig)",
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

/// Writes a cache entry by hand, as the build would lay it out.
fn fake_entry(cache: &Cache, key: &str, built_at_unix: u64, config_hash: &str) -> PathBuf {
    let dir = cache.root().join(key);
    std::fs::create_dir_all(dir.join("sched")).unwrap();
    let meta = Metadata {
        key: key.into(),
        version: "6.12.117".into(),
        config_hash: config_hash.into(),
        source: SourceId::Tree {
            path: "/src".into(),
        },
        built_at_unix,
        build_secs: 1.0,
        schedulers: vec![],
    };
    std::fs::write(
        dir.join("metadata.json"),
        serde_json::to_string(&meta).unwrap(),
    )
    .unwrap();
    let mut image = vec![0u8; 1024];
    image[0x1fe..0x200].copy_from_slice(&[0x55, 0xaa]);
    image[0x202..0x206].copy_from_slice(b"HdrS");
    std::fs::write(dir.join("bzImage"), image).unwrap();
    std::fs::write(dir.join("config"), "").unwrap();
    dir
}

#[test]
fn resolution_order_is_env_then_newest_fit_entry_then_an_error() {
    let scratch = tempfile::tempdir().unwrap();
    let cache = Cache::at(scratch.path());
    let hash = Fragment::ktstr().hash();
    let no_kernel = resolve_kernel_in(None, &cache).unwrap_err();
    assert!(
        matches!(no_kernel, KernelError::NoKernel { .. })
            && no_kernel.to_string().contains("run `ktstr kernel build`")
    );

    fake_entry(&cache, "stale", 50, "0ld");
    let stale = resolve_kernel_in(None, &cache).unwrap_err();
    assert!(
        matches!(stale, KernelError::OnlyStaleKernels { count: 1, .. }),
        "{stale}"
    );

    let old = fake_entry(&cache, "old", 10, &hash);
    fake_entry(&cache, "new", 20, &hash);
    assert_eq!(
        resolve_kernel_in(None, &cache).unwrap().origin(),
        &KernelOrigin::Cache("new".into())
    );
    assert_eq!(
        resolve_kernel_in(Some("old".as_ref()), &cache)
            .unwrap()
            .origin(),
        &KernelOrigin::Cache("old".into())
    );
    let image = resolve_kernel_in(Some(old.join("bzImage").as_os_str()), &cache).unwrap();
    assert_eq!(
        (image.origin(), image.image()),
        (&KernelOrigin::Image, old.join("bzImage").as_path())
    );
    assert_eq!(
        resolve_kernel_in(Some(old.as_os_str()), &cache)
            .unwrap()
            .origin(),
        &KernelOrigin::Cache("old".into())
    );

    let tree = scratch.path().join("linux");
    fake_tree(&tree, &WORKING);
    assert!(matches!(
        resolve_kernel_in(Some(tree.as_os_str()), &cache),
        Err(KernelError::TreeNotBuilt { .. })
    ));
    std::fs::create_dir_all(tree.join("arch/x86/boot")).unwrap();
    std::fs::copy(old.join("bzImage"), tree.join("arch/x86/boot/bzImage")).unwrap();
    assert_eq!(
        resolve_kernel_in(Some(tree.as_os_str()), &cache)
            .unwrap()
            .origin(),
        &KernelOrigin::Tree(tree.clone())
    );
    assert!(matches!(
        resolve_kernel_in(Some("nope".as_ref()), &cache),
        Err(KernelError::UnknownKernel { .. })
    ));
}

#[test]
fn ktstr_kernel_pointing_at_a_non_kernel_file_names_the_fix() {
    let scratch = tempfile::tempdir().unwrap();
    let junk = scratch.path().join("bzImage");
    std::fs::write(&junk, vec![7u8; 4096]).unwrap();
    let err = resolve_kernel_in(Some(junk.as_os_str()), &Cache::at(scratch.path())).unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, KernelError::NotAKernelImage { .. }),
        "{err:?}"
    );
    assert!(
        message.starts_with("KTSTR_KERNEL=")
            && message.contains("point it at arch/x86/boot/bzImage"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1);
}

/// Kills and reaps QEMU however the test ends.
struct Qemu(Child);

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// KVM only where it opens and the CPU advertises hardware virtualisation; TCG otherwise.
fn accel() -> &'static str {
    let kvm = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let hw = cpuinfo
        .lines()
        .any(|l| l.starts_with("flags") && l.split_whitespace().any(|f| f == "vmx" || f == "svm"));
    if kvm && hw {
        "kvm"
    } else {
        "tcg,thread=multi"
    }
}

const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo KTSTR_INIT_STARTED
/bin/scx_simple > /tmp/sched.log 2>&1 &
i=0
while [ "$(cat /sys/kernel/sched_ext/state)" != enabled ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done
echo "KTSTR_STATE=$(cat /sys/kernel/sched_ext/state)"
echo "KTSTR_OPS=$(cat /sys/kernel/sched_ext/root/ops 2>&1)"
head -5 /tmp/sched.log
poweroff -f
"#;

/// Copies `binary` and every shared library `ldd` lists for it into `root` at the same paths.
fn install_with_libs(root: &Path, binary: &Path, dest: &str) {
    std::fs::copy(binary, root.join(dest)).unwrap();
    let out = Command::new("ldd")
        .arg(binary)
        .output()
        .expect("ldd runs (Debian package libc-bin)");
    for lib in String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter(|t| t.starts_with('/'))
    {
        let target = root.join(lib.trim_start_matches('/'));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(lib, target).unwrap();
    }
}

/// Builds a newc initramfs: busybox as the shell, the init script above, scx_simple and its libraries.
fn initramfs(dir: &Path, scx_simple: &Path) -> PathBuf {
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", root.join("bin/busybox"))
        .expect("/bin/busybox (Debian package busybox-static)");
    install_with_libs(&root, scx_simple, "bin/scx_simple");
    std::fs::write(root.join("init"), INIT).unwrap();
    std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
    Command::new("chmod")
        .arg("755")
        .arg(root.join("init"))
        .status()
        .unwrap();
    let image = dir.join("initramfs.cpio");
    let script = format!(
        "cd '{}' && find . | cpio -o -H newc --quiet > '{}'",
        root.display(),
        image.display()
    );
    assert!(
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .status()
            .unwrap()
            .success(),
        "cpio (Debian package cpio) failed"
    );
    image
}

#[test]
fn the_cached_kernel_boots_with_scx_simple_enabled() {
    let kernel = resolve_kernel().unwrap_or_else(|e| panic!("no kernel to boot: {e}"));
    let scx_simple = kernel.scheduler("scx_simple").unwrap_or_else(|| {
        panic!(
            "{} has no scx_simple beside it; use a cache entry from `ktstr kernel build`",
            kernel.image().display()
        )
    });
    let scratch = tempfile::tempdir().unwrap();
    let initrd = initramfs(scratch.path(), &scx_simple);
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args([
        "-accel",
        accel(),
        "-smp",
        "2",
        "-m",
        "512",
        "-nographic",
        "-no-reboot",
    ])
    .arg("-kernel")
    .arg(kernel.image())
    .arg("-initrd")
    .arg(&initrd)
    .args(["-append", "console=ttyS0 panic=-1 rdinit=/init"])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let mut qemu = Qemu(
        cmd.spawn()
            .expect("qemu-system-x86_64 runs (Debian package qemu-system-x86)"),
    );
    let mut stdout = qemu.0.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut console = Vec::new();
        let _ = stdout.read_to_end(&mut console);
        String::from_utf8_lossy(&console).into_owned()
    });
    let deadline = Instant::now() + Duration::from_secs(240);
    while qemu.0.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let timed_out = qemu.0.try_wait().unwrap().is_none();
    drop(qemu);
    let console = reader.join().unwrap();
    assert!(
        !timed_out,
        "the guest did not power off within 240 s; console:\n{console}"
    );
    let tail: String = console
        .lines()
        .rev()
        .take(40)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    println!("{tail}");
    assert!(
        console.contains("KTSTR_STATE=enabled"),
        "sched_ext was not enabled; console tail:\n{tail}"
    );
    assert!(
        console.contains("KTSTR_OPS=simple"),
        "scx_simple was not the loaded scheduler; console tail:\n{tail}"
    );
}
