//! `CgroupManager` against the guest's real cgroup v2 cpuset controller (the host has none): cpuset read
//! back and clear, nested inheritance, subtree control, and draining beside a populated sibling. Each rule
//! works under its own scratch parent beside the trial's, removed pass or fail.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use ktstr::cgroup::{CgroupManager, CgroupOps, Controllers};
use ktstr::prelude::*;

/// A manager under a fresh parent below the guest's cgroup2 root; drop removes it.
struct Scratch {
    manager: CgroupManager,
}

impl Scratch {
    fn new(rule: &str) -> Result<Scratch> {
        let manager = CgroupManager::new(format!("/sys/fs/cgroup/ktstr-rule-{rule}"));
        manager.setup(Controllers::CPUSET_AND_CPU)?;
        Ok(Scratch { manager })
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.manager.parent().join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = self.manager.cleanup_all() {
            eprintln!("removing {}: {e}", self.manager.parent().display());
        }
    }
}

/// A forked child that only sleeps; killed and reaped on drop.
struct Sleeper(libc::pid_t);

impl Sleeper {
    fn spawn() -> Result<Sleeper> {
        // SAFETY: the child only sleeps until it is killed.
        match unsafe { libc::fork() } {
            -1 => Err(std::io::Error::last_os_error()).context("forking a sleeper"),
            0 => loop {
                std::thread::sleep(Duration::from_secs(60));
            },
            pid => Ok(Sleeper(pid)),
        }
    }

    fn pid(&self) -> i32 {
        self.0
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        // SAFETY: kills and reaps our own child.
        unsafe {
            libc::kill(self.0, libc::SIGKILL);
            libc::waitpid(self.0, std::ptr::null_mut(), 0);
        }
    }
}

fn procs_of(dir: &Path) -> Result<Vec<i32>> {
    let text = std::fs::read_to_string(dir.join("cgroup.procs"))?;
    Ok(text.lines().filter_map(|l| l.trim().parse().ok()).collect())
}

fn parent_effective_cpus(cg: &CgroupManager) -> Result<CpuSet> {
    let text = std::fs::read_to_string(cg.parent().join("cpuset.cpus.effective"))?;
    Ok(CpuSet::parse(&text)?)
}

fn subtree_control(dir: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(dir.join("cgroup.subtree_control"))?;
    Ok(text.split_whitespace().map(String::from).collect())
}

fn cpuset_set_read_back_and_clear() -> Result<()> {
    let scratch = Scratch::new("read-back")?;
    let cg = &scratch.manager;
    let all = parent_effective_cpus(cg)?;
    let first = CpuSet::from_iter(all.first());
    cg.create_cgroup("a")?;
    ensure!(
        cg.cpuset("a")?.is_empty(),
        "a new cgroup has an empty cpuset.cpus"
    );
    cg.set_cpuset("a", &first)?;
    ensure!(
        cg.cpuset("a")? == first,
        "cpuset.cpus reads back what was written"
    );
    ensure!(cg.effective_cpuset("a")? == first, "and takes effect");
    cg.clear_cpuset("a")?;
    ensure!(cg.cpuset("a")?.is_empty());
    ensure!(
        cg.effective_cpuset("a")? == all,
        "a cleared cpuset falls back to the parent's CPUs"
    );
    Ok(())
}

fn nested_cgroups_inherit_the_cpuset() -> Result<()> {
    let scratch = Scratch::new("nested")?;
    let cg = &scratch.manager;
    let first = CpuSet::from_iter(parent_effective_cpus(cg)?.first());
    let sleeper = Sleeper::spawn()?;
    cg.create_cgroup("a")?;
    cg.set_cpuset("a", &first)?;
    cg.create_cgroup("a/b")?;
    ensure!(
        subtree_control(&scratch.dir("a"))? == ["cpuset", "cpu"],
        "the intermediate cgroup delegates"
    );
    ensure!(cg.cpuset("a/b")?.is_empty());
    ensure!(cg.effective_cpuset("a/b")? == first, "a/b runs on a's CPUs");
    cg.move_task("a/b", sleeper.pid())?;
    ensure!(cg.tasks("a/b")? == [sleeper.pid()]);
    cg.remove_cgroup("a")?;
    ensure!(
        procs_of(Path::new("/sys/fs/cgroup"))?.contains(&sleeper.pid()),
        "drained to the cgroup2 root: the parent enables controllers, so it may not hold tasks"
    );
    Ok(())
}

fn clear_subtree_control_disables_the_controllers() -> Result<()> {
    let scratch = Scratch::new("subtree")?;
    let cg = &scratch.manager;
    cg.create_cgroup("a/b")?;
    ensure!(!subtree_control(&scratch.dir("a"))?.is_empty());
    cg.remove_cgroup("a/b")?;
    cg.clear_subtree_control("a")?;
    ensure!(subtree_control(&scratch.dir("a"))?.is_empty());
    Ok(())
}

fn remove_drains_while_a_sibling_is_populated() -> Result<()> {
    let scratch = Scratch::new("siblings")?;
    let cg = &scratch.manager;
    let (stays, goes) = (Sleeper::spawn()?, Sleeper::spawn()?);
    cg.create_cgroup("b")?;
    cg.create_cgroup("c")?;
    cg.move_task("b", stays.pid())?;
    cg.move_task("c", goes.pid())?;
    cg.remove_cgroup("c")?;
    ensure!(!scratch.dir("c").exists());
    ensure!(
        cg.tasks("b")? == [stays.pid()],
        "the sibling keeps its task"
    );
    ensure!(
        procs_of(Path::new("/sys/fs/cgroup"))?.contains(&goes.pid()),
        "drained to the cgroup2 root"
    );
    Ok(())
}

type Rule = fn() -> Result<()>;

/// Every rule; each failure is one failing detail naming the rule.
pub fn cgroup_manager_rules(_ctx: &Ctx) -> Result<AssertResult> {
    let rules: [(&str, Rule); 4] = [
        (
            "cpuset set, read back and clear",
            cpuset_set_read_back_and_clear,
        ),
        (
            "nested cgroups inherit the cpuset",
            nested_cgroups_inherit_the_cpuset,
        ),
        (
            "clearing subtree control disables the controllers",
            clear_subtree_control_disables_the_controllers,
        ),
        (
            "remove drains while a sibling is populated",
            remove_drains_while_a_sibling_is_populated,
        ),
    ];
    let mut verdict = AssertResult::pass();
    for (name, rule) in rules {
        if let Err(e) = rule() {
            verdict = verdict.merge(AssertResult::fail_msg(format!("{name}: {e:#}")));
        }
    }
    Ok(verdict)
}
