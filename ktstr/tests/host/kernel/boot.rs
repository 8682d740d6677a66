//! Boots the real cached kernel under QEMU with a busybox initramfs and checks scx_simple attaches.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ktstr::kernel::resolve_kernel;

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
    let console = boot(kernel.image(), &initrd);
    let lines: Vec<&str> = console.lines().collect();
    let tail = lines[lines.len().saturating_sub(40)..].join("\n");
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

/// Boots `image` with `initrd` under QEMU and waits for the guest to power off; the console output.
fn boot(image: &Path, initrd: &Path) -> String {
    let mut qemu = Qemu(
        qemu_command(image, initrd)
            .spawn()
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
    console
}

/// Two CPUs, 512 MiB, the serial console on stdout, and no reboot: a panic ends QEMU.
fn qemu_command(image: &Path, initrd: &Path) -> Command {
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
    .arg(image)
    .arg("-initrd")
    .arg(initrd)
    .args(["-append", "console=ttyS0 panic=-1 rdinit=/init"])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    cmd
}
