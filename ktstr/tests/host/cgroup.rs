//! `CgroupManager` on this host's real cgroup2 mount. The rules that need a cgroup v2 cpuset controller run
//! inside the guest instead: `guest_cgroup_manager_rules` in tests/vm.rs (tests/guest/cgroup_rules.rs).
//!
//! Every test works under its own parent `ktstr-test-<pid>-<n>` and removes it through a guard, pass or fail.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{ensure, Context, Result};
use ktstr::cgroup::{find_cgroup2_mount, CgroupError, CgroupManager, CgroupOps, Controllers};
use ktstr::topology::CpuSet;

/// A manager under a fresh parent; drop removes the parent and everything below it.
struct Scratch {
    manager: CgroupManager,
}

impl Scratch {
    fn under(root: &Path) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let parent = root.join(format!("ktstr-test-{}-{n}", std::process::id()));
        Scratch {
            manager: CgroupManager::new(parent),
        }
    }

    /// A scratch parent on this host's cgroup2 mount, created with no controllers.
    fn on_host() -> Result<Scratch> {
        require_root();
        let scratch = Scratch::under(&find_cgroup2_mount()?);
        scratch.manager.setup(Controllers::NONE)?;
        Ok(scratch)
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.manager.parent().join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(err) = self.manager.cleanup_all() {
            eprintln!(
                "cleanup of {} failed: {err}",
                self.manager.parent().display()
            );
        }
    }
}

/// A `sleep` child process, killed and reaped on drop.
struct Sleeper(Child);

impl Sleeper {
    fn spawn() -> Result<Sleeper> {
        let child = Command::new("sleep")
            .arg("600")
            .spawn()
            .context("spawning `sleep 600`")?;
        Ok(Sleeper(child))
    }

    fn pid(&self) -> i32 {
        i32::try_from(self.0.id()).unwrap_or(i32::MAX)
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn require_root() {
    assert!(
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() } == 0,
        "cgroup host tests write to cgroupfs and need root: run them as root (e.g. sudo -E cargo test --test host)"
    );
}

fn procs_of(dir: &Path) -> Result<Vec<i32>> {
    let text = std::fs::read_to_string(dir.join("cgroup.procs"))?;
    Ok(text.lines().map(str::parse).collect::<Result<_, _>>()?)
}

#[test]
fn create_is_nested_and_idempotent() -> Result<()> {
    let scratch = Scratch::on_host()?;
    let cg = &scratch.manager;
    ensure!(cg.parent().is_dir(), "setup must create the parent");
    cg.create_cgroup("a/b")?;
    cg.create_cgroup("a/b")?;
    cg.create_cgroup("a")?;
    ensure!(
        scratch.dir("a/b").is_dir(),
        "nested create makes the ancestors"
    );
    ensure!(cg.tasks("a/b")?.is_empty());
    Ok(())
}

#[test]
fn bad_input_is_refused_and_touches_nothing() -> Result<()> {
    let scratch = Scratch::on_host()?;
    let cg = &scratch.manager;
    let root = find_cgroup2_mount()?;
    for name in ["../ktstr-escape", "/abs", "a//b", "cgroup.procs", ""] {
        let err = cg.create_cgroup(name).expect_err(name);
        ensure!(
            matches!(err, CgroupError::InvalidName { .. }),
            "{name:?}: {err:?}"
        );
    }
    ensure!(
        !root.join("ktstr-escape").exists(),
        "an escaping name created a cgroup beside the parent"
    );
    cg.create_cgroup("a")?;
    let empty = cg
        .set_cpuset("a", &CpuSet::new())
        .expect_err("empty cpuset");
    ensure!(
        matches!(empty, CgroupError::EmptyCpuset { .. }),
        "{empty:?}"
    );
    Ok(())
}

#[test]
fn create_before_setup_says_to_call_setup() -> Result<()> {
    require_root();
    let scratch = Scratch::under(&find_cgroup2_mount()?);
    let err = scratch
        .manager
        .create_cgroup("a")
        .expect_err("the parent does not exist yet");
    ensure!(matches!(err, CgroupError::BadParent { .. }), "{err:?}");
    ensure!(err.to_string().contains("setup"), "{err}");
    Ok(())
}

#[test]
fn tasks_move_in_and_out() -> Result<()> {
    let scratch = Scratch::on_host()?;
    let cg = &scratch.manager;
    let sleeper = Sleeper::spawn()?;
    cg.create_cgroup("a/b")?;
    cg.move_task("a/b", sleeper.pid())?;
    ensure!(cg.tasks("a/b")? == [sleeper.pid()]);
    cg.move_task("a", sleeper.pid())?;
    ensure!(cg.tasks("a/b")?.is_empty(), "the task left a/b");
    ensure!(cg.tasks("a")? == [sleeper.pid()]);
    cg.drain_tasks("a")?;
    ensure!(cg.tasks("a")?.is_empty());
    ensure!(
        procs_of(cg.parent())?.contains(&sleeper.pid()),
        "drained to the managed parent"
    );
    Ok(())
}

#[test]
fn moving_an_exited_task_is_fine_and_pid_zero_is_refused() -> Result<()> {
    let scratch = Scratch::on_host()?;
    let cg = &scratch.manager;
    cg.create_cgroup("a")?;
    let mut gone = Sleeper::spawn()?;
    let pid = gone.pid();
    gone.0.kill()?;
    gone.0.wait()?;
    cg.move_task("a", pid)?;
    ensure!(cg.tasks("a")?.is_empty());
    let err = cg
        .move_task("a", 0)
        .expect_err("pid 0 would move the test itself");
    ensure!(matches!(err, CgroupError::InvalidPid { pid: 0 }), "{err:?}");
    Ok(())
}

#[test]
fn remove_drains_a_busy_cgroup_instead_of_failing() -> Result<()> {
    let scratch = Scratch::on_host()?;
    let cg = &scratch.manager;
    let sleeper = Sleeper::spawn()?;
    cg.create_cgroup("a/b")?;
    cg.create_cgroup("a/c")?;
    cg.move_task("a/b", sleeper.pid())?;
    cg.remove_cgroup("a")?;
    ensure!(!scratch.dir("a").exists(), "a and its children are gone");
    ensure!(
        procs_of(cg.parent())?.contains(&sleeper.pid()),
        "the task was drained to the parent"
    );
    let again = cg.remove_cgroup("a").expect_err("already removed");
    ensure!(matches!(again, CgroupError::NotFound { .. }), "{again:?}");
    Ok(())
}

#[test]
fn operations_on_a_missing_cgroup_are_not_found() -> Result<()> {
    let scratch = Scratch::on_host()?;
    let cg = &scratch.manager;
    let results = [
        cg.set_cpuset("nope", &CpuSet::from_range(0..1)),
        cg.clear_cpuset("nope"),
        cg.move_task("nope", std::process::id() as i32),
        cg.tasks("nope").map(drop),
        cg.cpuset("nope").map(drop),
        cg.clear_subtree_control("nope"),
    ];
    for result in results {
        ensure!(
            result.as_ref().is_err_and(CgroupError::is_not_found),
            "{result:?}"
        );
    }
    Ok(())
}

#[test]
fn cleanup_all_leaves_nothing() -> Result<()> {
    let scratch = Scratch::on_host()?;
    let cg = &scratch.manager;
    let sleeper = Sleeper::spawn()?;
    for name in ["a/b/c", "a/d", "e"] {
        cg.create_cgroup(name)?;
    }
    cg.move_task("a/b/c", sleeper.pid())?;
    cg.cleanup_all()?;
    ensure!(!cg.parent().exists(), "the parent itself is removed");
    let outside = cg.parent().parent().context("parent has a parent")?;
    ensure!(
        procs_of(outside)?.contains(&sleeper.pid()),
        "tasks drained out of the parent"
    );
    cg.cleanup_all()?;
    Ok(())
}

#[test]
fn cleanup_all_refuses_paths_that_are_not_a_managed_parent() -> Result<()> {
    require_root();
    let root = find_cgroup2_mount()?;
    let outside = std::env::temp_dir().join(format!("ktstr-not-a-cgroup-{}", std::process::id()));
    std::fs::create_dir_all(outside.join("child"))?;
    let results = [
        CgroupManager::new(&root).cleanup_all(),
        CgroupManager::new(&outside).cleanup_all(),
    ];
    let children_survived = outside.join("child").is_dir();
    std::fs::remove_dir_all(&outside)?;
    for result in results {
        ensure!(
            matches!(result, Err(CgroupError::OutsideCgroup2 { .. })),
            "{result:?}"
        );
    }
    ensure!(
        children_survived,
        "cleanup_all touched a directory outside cgroupfs"
    );
    Ok(())
}

#[test]
fn cpuset_files_without_the_controller_are_reported_as_such() -> Result<()> {
    let scratch = Scratch::on_host()?;
    let cg = &scratch.manager;
    cg.create_cgroup("a")?;
    let err = cg
        .set_cpuset("a", &CpuSet::from_range(0..1))
        .expect_err("no cpuset controller below the parent");
    ensure!(
        matches!(
            err,
            CgroupError::ControllerNotEnabled {
                controller: "cpuset",
                ..
            }
        ),
        "{err:?}"
    );
    ensure!(
        !err.is_not_found(),
        "the cgroup exists; only the controller is missing"
    );
    cg.clear_subtree_control("a")?;
    Ok(())
}

/// On the hybrid project host the unified root lacks cpuset; on a pure v2 host setup must succeed instead.
#[test]
fn setup_with_cpuset_matches_what_the_root_offers() -> Result<()> {
    require_root();
    let root = find_cgroup2_mount()?;
    let offered = std::fs::read_to_string(root.join("cgroup.controllers"))?;
    let scratch = Scratch::under(&root);
    let result = scratch.manager.setup(Controllers::CPUSET);
    if offered.split_whitespace().any(|c| c == "cpuset") {
        result?;
        ensure!(scratch
            .manager
            .parent()
            .join("cgroup.subtree_control")
            .is_file());
        return Ok(());
    }
    let err = result.expect_err("the cpuset controller is not on this cgroup2 mount");
    match &err {
        CgroupError::ControllerUnavailable {
            controller, path, ..
        } => {
            ensure!(*controller == "cpuset" && path == &root, "{err:?}");
        }
        other => anyhow::bail!("expected ControllerUnavailable, got {other:?}"),
    }
    ensure!(
        err.to_string().contains("ktstr VM"),
        "the message names the fix: {err}"
    );
    ensure!(
        !scratch.manager.parent().exists(),
        "a failed setup creates nothing"
    );
    Ok(())
}
