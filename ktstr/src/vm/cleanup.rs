//! What dead runs leave behind, and its removal: trial directories (`ktstr-<pid>-*` in the temp dir) whose
//! owner is gone, and QEMU processes of this user still running from such a directory — found by the
//! trial directory on their command line, never by name. Anything whose owner is alive is left alone.

use std::path::{Path, PathBuf};

/// What one cleanup removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupReport {
    pub trial_dirs: Vec<PathBuf>,
    /// `(pid, trial directory)` of each QEMU killed.
    pub qemu_killed: Vec<(u32, PathBuf)>,
    /// Trial directories of live owners, left alone.
    pub alive: Vec<PathBuf>,
}

/// The owner pid of a trial directory name (`ktstr-<pid>-<random>`).
fn owner(name: &str) -> Option<u32> {
    name.strip_prefix("ktstr-")?
        .split_once('-')
        .and_then(|(pid, _)| pid.parse().ok())
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Processes of this user whose command line mentions `dir`: `(pid, command line)`.
fn processes_using(dir: &Path) -> Vec<(u32, String)> {
    // SAFETY: getuid has no preconditions and cannot fail.
    let me = unsafe { libc::getuid() };
    let needle = dir.to_string_lossy().into_owned();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::metadata(format!("/proc/{pid}"))
                .is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == me)
        })
        .filter_map(|pid| {
            let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
            cmdline.contains(&needle).then_some((pid, cmdline))
        })
        .collect()
}

/// Removes the leftovers of dead runs under `temp`.
pub fn cleanup(temp: &Path) -> std::io::Result<CleanupReport> {
    let mut report = CleanupReport::default();
    for entry in std::fs::read_dir(temp)?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(owner) else {
            continue;
        };
        let dir = entry.path();
        if alive(pid) {
            report.alive.push(dir);
            continue;
        }
        for (qemu, _) in processes_using(&dir)
            .into_iter()
            .filter(|(_, cmd)| cmd.contains("qemu"))
        {
            let target = nix::unistd::Pid::from_raw(qemu as i32);
            if nix::sys::signal::kill(target, nix::sys::signal::Signal::SIGKILL).is_ok() {
                // Wait for it to go, so its files can be removed.
                for _ in 0..50 {
                    if !alive(qemu) || zombie(qemu) {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                report.qemu_killed.push((qemu, dir.clone()));
            }
        }
        std::fs::remove_dir_all(&dir)?;
        report.trial_dirs.push(dir);
    }
    Ok(report)
}

fn zombie(pid: u32) -> bool {
    crate::sys::ProcStat::read(pid).is_some_and(|stat| stat.is_zombie())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_owners_lose_their_dirs_and_live_ones_keep_them() {
        let temp = tempfile::tempdir().unwrap();
        // A pid that cannot be running: above the kernel's pid_max ceiling.
        let dead = temp.path().join("ktstr-4194305-abc");
        let live = temp
            .path()
            .join(format!("ktstr-{}-def", std::process::id()));
        let other = temp.path().join("not-ktstr-1-x");
        for d in [&dead, &live, &other] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("console.log"), b"x").unwrap();
        }
        let report = cleanup(temp.path()).unwrap();
        assert_eq!(report.trial_dirs, std::slice::from_ref(&dead));
        assert_eq!(report.alive, std::slice::from_ref(&live));
        assert!(report.qemu_killed.is_empty());
        assert!(!dead.exists() && live.exists() && other.exists());
    }

    #[test]
    fn a_process_is_found_by_the_directory_on_its_command_line() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("ktstr-4194305-q");
        std::fs::create_dir(&dir).unwrap();
        // The shell keeps running (a command follows the sleep) with the directory as its $0.
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg("sleep 30; :")
            .arg(&dir)
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        let found = processes_using(&dir);
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.iter().any(|(pid, _)| *pid == child.id()), "{found:?}");
        assert!(processes_using(&temp.path().join("ktstr-4194305-none")).is_empty());
    }
}
