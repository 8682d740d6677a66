//! Runs the test function in a child of PID 1, so a test that exhausts memory, aborts or is killed takes
//! only itself down; PID 1 survives to say how it ended. (PID 1 itself is exempt from the OOM killer, so a
//! test running in it would deadlock the guest instead.)

use std::fs::File;
use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use crate::protocol::TestEnd;
use crate::scenario::{Ctx, ScenarioFn};
use crate::sys::{oom_killed, read_kmsg, KMSG_PATH};

/// Kernel log records searched for the OOM killer's verdict.
const OOM_SEARCH_RECORDS: usize = 500;

/// Runs `func` in a forked child and returns how it ended.
pub(crate) fn run_test(func: ScenarioFn, ctx: &Ctx) -> TestEnd {
    let (read_end, write_end) = match nix::unistd::pipe() {
        Ok(pipe) => pipe,
        Err(e) => return failed(format!("creating the test's result pipe: {e}")),
    };
    // SAFETY: the child only runs the test function, writes its result and ends in `_exit`.
    match unsafe { libc::fork() } {
        -1 => failed(format!(
            "forking the test process: {}",
            std::io::Error::last_os_error()
        )),
        0 => {
            drop(read_end);
            let end = call(func, ctx);
            let bytes = serde_json::to_vec(&end).unwrap_or_default();
            let _ = File::from(write_end).write_all(&bytes);
            // SAFETY: ends the child without running PID 1's exit handlers.
            unsafe { libc::_exit(0) }
        }
        pid => {
            drop(write_end);
            let mut bytes = Vec::new();
            let read = File::from(read_end).read_to_end(&mut bytes);
            let end = match wait(Pid::from_raw(pid)) {
                Ok(status) => judge(pid, status, &bytes),
                Err(e) => failed(format!("waiting for the test process {pid}: {e}")),
            };
            match (read, end) {
                (Err(e), TestEnd::NotRun) => failed(format!("reading the test's result: {e}")),
                (_, end) => end,
            }
        }
    }
}

/// The test function, with its `Err` and panic turned into a `TestEnd`.
fn call(func: ScenarioFn, ctx: &Ctx) -> TestEnd {
    match catch_unwind(AssertUnwindSafe(|| func(ctx))) {
        Ok(Ok(result)) => TestEnd::Returned { result },
        Ok(Err(error)) => TestEnd::failed_with(&error),
        Err(panic) => TestEnd::Panicked {
            message: panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic with a non-string payload".to_string()),
        },
    }
}

fn wait(pid: Pid) -> nix::Result<WaitStatus> {
    loop {
        match waitpid(pid, None) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// How the test ended, from its wait status and what it wrote before ending.
fn judge(pid: i32, status: WaitStatus, bytes: &[u8]) -> TestEnd {
    match status {
        WaitStatus::Exited(_, 0) => serde_json::from_slice(bytes).unwrap_or_else(|e| {
            failed(format!(
                "the test process ended without a readable result ({} bytes: {e})",
                bytes.len()
            ))
        }),
        WaitStatus::Exited(_, code) => failed(format!(
            "the test process exited with status {code} before returning a verdict"
        )),
        WaitStatus::Signaled(_, signal, _) => killed(pid, signal),
        other => failed(format!("the test process ended unexpectedly: {other:?}")),
    }
}

fn killed(pid: i32, signal: Signal) -> TestEnd {
    let log: Vec<String> = read_kmsg(Path::new(KMSG_PATH), OOM_SEARCH_RECORDS)
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.text)
        .collect();
    TestEnd::Killed {
        signal: signal as i32,
        signal_name: signal.as_str().to_string(),
        oom: oom_killed(&log, pid),
    }
}

fn failed(error: String) -> TestEnd {
    TestEnd::Failed { error }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::AssertResult;
    use crate::cgroup::MemCgroups;
    use crate::topology::{TestTopology, Topology};

    fn passes(_: &Ctx) -> anyhow::Result<AssertResult> {
        Ok(AssertResult::pass())
    }

    fn errs(_: &Ctx) -> anyhow::Result<AssertResult> {
        Err(anyhow::anyhow!("no such cgroup").context("step 0"))
    }

    fn panics(_: &Ctx) -> anyhow::Result<AssertResult> {
        panic!("on purpose")
    }

    fn aborts(_: &Ctx) -> anyhow::Result<AssertResult> {
        std::process::abort()
    }

    fn exits(_: &Ctx) -> anyhow::Result<AssertResult> {
        std::process::exit(7)
    }

    /// The real fork: each way a test function can end reaches the parent as its `TestEnd`.
    #[test]
    fn every_way_a_test_ends_crosses_the_process_boundary() {
        let topo = TestTopology::from_topology(&"1n1l2c1t".parse::<Topology>().expect("topology"));
        let cgroups = MemCgroups::new();
        let ctx = Ctx::builder(&cgroups, &topo).build();
        assert_eq!(
            run_test(passes, &ctx),
            TestEnd::Returned {
                result: AssertResult::pass()
            }
        );
        assert_eq!(
            run_test(errs, &ctx),
            TestEnd::Failed {
                error: "step 0: no such cgroup".into()
            }
        );
        assert_eq!(
            run_test(panics, &ctx),
            TestEnd::Panicked {
                message: "on purpose".into()
            }
        );
        assert!(
            matches!(
                run_test(aborts, &ctx),
                TestEnd::Killed { signal: 6, ref signal_name, .. } if signal_name == "SIGABRT"
            ),
            "abort is SIGABRT"
        );
        assert_eq!(
            run_test(exits, &ctx),
            failed("the test process exited with status 7 before returning a verdict".into())
        );
    }

    #[test]
    fn wait_statuses_become_test_ends() {
        let pid = Pid::from_raw(4242);
        let passed = serde_json::to_vec(&TestEnd::Returned {
            result: AssertResult::pass(),
        })
        .expect("serializes");
        let cases = [
            (WaitStatus::Exited(pid, 0), passed.clone(), "returned"),
            (WaitStatus::Exited(pid, 0), b"{trunc".to_vec(), "failed"),
            (WaitStatus::Exited(pid, 3), Vec::new(), "failed"),
            (
                WaitStatus::Signaled(pid, Signal::SIGABRT, true),
                Vec::new(),
                "killed",
            ),
        ];
        for (status, bytes, want) in cases {
            let end = judge(4242, status, &bytes);
            let got = match &end {
                TestEnd::Returned { .. } => "returned",
                TestEnd::Failed { .. } => "failed",
                TestEnd::Killed { signal_name, .. } => {
                    assert_eq!(signal_name, "SIGABRT");
                    "killed"
                }
                _ => "other",
            };
            assert_eq!(got, want, "{status:?}: {end:?}");
        }
        let exited = judge(1, WaitStatus::Exited(pid, 3), &[]);
        assert_eq!(
            exited,
            failed("the test process exited with status 3 before returning a verdict".into())
        );
    }
}
