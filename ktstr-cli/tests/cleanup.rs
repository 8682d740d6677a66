//! `ktstr cleanup` after a harness killed with SIGKILL mid-trial: the dead run's trial directory goes (and
//! its QEMU, were it still running), a live run's directory and anything not ktstr's stay. Boots a VM
//! (needs `ktstr kernel build`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const KTSTR: &str = env!("CARGO_BIN_EXE_ktstr");

fn trial_dirs_of(temp: &Path, pid: u32) -> Vec<PathBuf> {
    std::fs::read_dir(temp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("ktstr-{pid}-")))
        })
        .collect()
}

/// Pids of processes whose command line mentions `dir`.
fn users_of(dir: &Path) -> Vec<u32> {
    let needle = dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle))
        })
        .collect()
}

#[test]
fn cleanup_removes_what_a_killed_harness_left_and_nothing_else() {
    let temp = tempfile::tempdir().unwrap();
    let dir = kill_a_run_once_its_vm_boots(temp.path());
    let live = temp
        .path()
        .join(format!("ktstr-{}-live", std::process::id()));
    let unrelated = temp.path().join("someone-elses-dir");
    std::fs::create_dir(&live).unwrap();
    std::fs::create_dir(&unrelated).unwrap();
    assert!(dir.is_dir(), "the killed harness left its trial directory");

    let text = cleanup(temp.path());
    assert!(!dir.exists(), "{text}");
    assert!(
        text.contains(&format!("removed {}", dir.display())),
        "{text}"
    );
    assert!(live.is_dir() && unrelated.is_dir(), "{text}");
    assert!(
        text.contains("1 trial dir(s) of live runs left alone"),
        "{text}"
    );
    // Whether QEMU died with its harness or was killed by cleanup, none runs from that directory now.
    std::thread::sleep(Duration::from_millis(200));
    assert!(users_of(&dir).is_empty(), "{text}");
    let again = cleanup(temp.path());
    assert!(again.contains("0 trial dir(s) removed"), "{again}");
}

/// Starts `ktstr run --vm` with `temp` as its temp dir, waits until the trial's QEMU writes to its console
/// log, then kills the run with SIGKILL so no destructor runs; the trial directory it leaves.
fn kill_a_run_once_its_vm_boots(temp: &Path) -> PathBuf {
    let mut harness = Command::new(KTSTR)
        .args(["run", "--vm", "--duration", "30", "steady"])
        .env("TMPDIR", temp)
        .env("KTSTR_RUNS_DIR", temp.join("runs"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = harness.id();
    let deadline = Instant::now() + Duration::from_secs(120);
    let dir = loop {
        let booted = trial_dirs_of(temp, pid)
            .into_iter()
            .find(|d| std::fs::metadata(d.join("console.log")).is_ok_and(|m| m.len() > 0));
        if let Some(dir) = booted {
            break dir;
        }
        assert!(Instant::now() < deadline, "no trial booted within 120 s");
        assert!(
            harness.try_wait().unwrap().is_none(),
            "the harness ended before its VM booted"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    harness.kill().unwrap();
    harness.wait().unwrap();
    dir
}

/// The output of a successful `ktstr cleanup` over `temp`.
fn cleanup(temp: &Path) -> String {
    let out = Command::new(KTSTR)
        .arg("cleanup")
        .env("TMPDIR", temp)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}
