//! `ktstr shell` end to end: one command's output and exit status, files carried in with their
//! libraries, a scheduler started first, bad input refused before booting, and an interactive session
//! driven under tmux the way a person types (a prompt, a command, Ctrl-C, `exit`).

use std::process::{Command, Output};
use std::time::{Duration, Instant};

const KTSTR: &str = env!("CARGO_BIN_EXE_ktstr");

fn shell(args: &[&str]) -> Output {
    Command::new(KTSTR)
        .arg("shell")
        .args(args)
        .output()
        .expect("ktstr runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_command_prints_in_the_guest_and_its_status_is_ktstrs() {
    let out = shell(&[
        "--topology",
        "1n1l2c1t",
        "--exec",
        "grep -c ^processor /proc/cpuinfo",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout(&out).lines().any(|l| l.trim() == "2"),
        "{}",
        stdout(&out)
    );
    let out = shell(&["--exec", "echo failing; exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(stdout(&out).contains("failing"), "{}", stdout(&out));
}

#[test]
fn included_programs_run_with_their_libraries_and_files_keep_their_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let note = dir.path().join("note.txt");
    std::fs::write(&note, "carried across\n").unwrap();
    let nproc = "/usr/bin/nproc";
    let command = format!("{nproc}; cat {}", note.display());
    let out = shell(&[
        "--topology",
        "1n2l2c1t",
        "--include",
        nproc,
        "--include",
        note.to_str().unwrap(),
        "--exec",
        &command,
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    assert!(text.lines().any(|l| l.trim() == "4"), "{text}");
    assert!(text.contains("carried across"), "{text}");
}

#[test]
fn a_scheduler_is_attached_before_the_command_runs() {
    let out = shell(&[
        "--scheduler",
        "scx_simple",
        "--exec",
        "cat /sys/kernel/sched_ext/root/ops",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("scx_simple attached"), "{text}");
    assert!(text.lines().any(|l| l.trim() == "simple"), "{text}");
}

#[test]
fn a_missing_include_is_refused_before_booting() {
    let started = Instant::now();
    let out = shell(&["--include", "/nonexistent/tool", "--exec", "true"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--include /nonexistent/tool"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// A tmux session running `ktstr shell`, read and typed into as a person would.
struct Pane(String);

impl Pane {
    fn start(name: &str) -> Pane {
        let command = format!("{KTSTR} shell --topology 1n1l2c1t; echo ktstr-exited=$?; sleep 600");
        let status = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                "120",
                "-y",
                "40",
                &command,
            ])
            .status()
            .expect("tmux runs");
        assert!(status.success());
        Pane(name.to_string())
    }

    fn text(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-S", "-200", "-t", &self.0])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.0])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    /// Waits until the pane shows `count` lines holding `text`.
    fn wait_for(&self, text: &str, count: usize) {
        let until = Instant::now() + Duration::from_secs(120);
        while Instant::now() < until {
            if self.text().lines().filter(|l| l.contains(text)).count() >= count {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "the pane never showed {text:?} {count} time(s):\n{}",
            self.text()
        );
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}

#[test]
fn an_interactive_shell_answers_keys_takes_ctrl_c_and_exits() {
    let pane = Pane::start(&format!("ktstr-shell-{}", std::process::id()));
    pane.wait_for("ktstr#", 1);
    pane.keys(&["echo $((6 * 7))-answered", "Enter"]);
    pane.wait_for("42-answered", 1);
    pane.keys(&["sleep 600", "Enter"]);
    std::thread::sleep(Duration::from_secs(1));
    pane.keys(&["C-c"]);
    pane.keys(&["echo still-$((1 + 1))", "Enter"]);
    pane.wait_for("still-2", 1);
    pane.keys(&["exit", "Enter"]);
    pane.wait_for("ktstr-exited=0", 1);
}
