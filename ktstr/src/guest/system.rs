//! PID-1 chores: mounting the filesystems a trial needs, kernel knobs, and powering off.

use std::path::Path;

use nix::mount::{mount, MsFlags};

use crate::sys::ProcStat;

/// Filesystems mounted before anything else runs: (source, target, type).
const MOUNTS: &[(&str, &str, &str)] = &[
    ("proc", "/proc", "proc"),
    ("sysfs", "/sys", "sysfs"),
    ("devtmpfs", "/dev", "devtmpfs"),
    ("tmpfs", "/tmp", "tmpfs"),
    ("tmpfs", "/run", "tmpfs"),
    ("cgroup2", "/sys/fs/cgroup", "cgroup2"),
    ("debugfs", "/sys/kernel/debug", "debugfs"),
];

/// Mounts every filesystem; returns a description of each that failed (debugfs is optional). A tmpfs
/// mount point the initramfs already filled is left as it is.
pub(crate) fn mount_all() -> Vec<String> {
    let mut failures = Vec::new();
    for (source, target, fstype) in MOUNTS {
        if let Err(e) = std::fs::create_dir_all(target) {
            failures.push(format!("mkdir {target}: {e}"));
            continue;
        }
        // The root is already in memory: a tmpfs over files the initramfs carried there (`ktstr shell
        // --include /tmp/...`) would only hide them.
        let filled = std::fs::read_dir(target).is_ok_and(|mut d| d.next().is_some());
        if *fstype == "tmpfs" && filled {
            continue;
        }
        let result = mount(
            Some(*source),
            *target,
            Some(*fstype),
            MsFlags::empty(),
            None::<&str>,
        );
        match result {
            Ok(()) | Err(nix::errno::Errno::EBUSY) => {}
            Err(e) => failures.push(format!("mount {fstype} on {target}: {e}")),
        }
    }
    failures
}

/// Writes `value` to `/proc/sys/<key>` (key like `kernel/sched_schedstats`).
pub(crate) fn sysctl(key: &str, value: &str) -> Result<(), String> {
    if key
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(format!("sysctl key {key:?} is not a plain path below /proc/sys (e.g. kernel/sched_rt_runtime_us)"));
    }
    let path = Path::new("/proc/sys").join(key);
    std::fs::write(&path, value)
        .map_err(|e| format!("writing {value:?} to {}: {e}", path.display()))
}

/// Flushes filesystems and powers the VM off; never returns.
pub(crate) fn power_off() -> ! {
    nix::unistd::sync();
    let _ = nix::sys::reboot::reboot(nix::sys::reboot::RebootMode::RB_POWER_OFF);
    // reboot only returns on failure; PID 1 must not exit, so wait for the host's deadline.
    loop {
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

/// Children of `parent` as (pid, command name), read from /proc.
pub(crate) fn children_of(parent: u32) -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = ProcStat::read(pid)?;
            (stat.ppid == parent).then_some((pid, stat.comm))
        })
        .collect()
}
