//! A `host_only` test: its function runs on this host, under the host's own scheduler and cgroups
//! (real cgroup v2 cpusets where the host offers the controller, the in-memory double otherwise), with
//! no VM. The outcome classes are the ones a VM trial can reach without a guest.

use std::time::Instant;

use super::VmTest;
use crate::assert::{Assert, AssertResult, ReportHeader};
use crate::host::HostCgroups;
use crate::outcome::OutcomeKind;
use crate::topology::TestTopology;

/// What one host-only run of a test produced.
#[derive(Debug)]
pub struct HostOutcome {
    pub kind: OutcomeKind,
    pub reason: String,
    /// The verdict block to print.
    pub text: String,
    pub result: Option<AssertResult>,
    pub wall_ms: u64,
}

/// Runs `test` on this host and classifies it: passed, skipped, checks failed, test error or test
/// panicked. Setting up (the host's topology, its cgroups) failing is an `Err`: nothing was run.
pub fn run_host_test(test: &VmTest) -> Result<HostOutcome, String> {
    let topo =
        TestTopology::from_sysfs().map_err(|e| format!("reading this host's topology: {e}"))?;
    let cgroups = HostCgroups::open(test.host_cgroups).map_err(|e| e.to_string())?;
    let assert = Assert::default_checks().merge(&test.assert);
    assert.validate().map_err(|e| e.to_string())?;
    let ctx = crate::scenario::Ctx::builder(cgroups.ops(), &topo)
        .duration(test.duration)
        .workers_per_cgroup(test.workers_per_cgroup)
        .settle(test.settle)
        .assert(assert)
        .build();
    // The test's workers run on this host's CPUs: hold every CPU token, so no VM tests beside them.
    let gate = crate::vm::CpuGate::host();
    let cpus = gate.take(gate.tokens()).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (test.func)(&ctx)));
    drop(cpus);
    let (kind, reason, result) = classify(ran);
    let mut text = format!(
        "=== ktstr {}: {kind:?} (expected {:?})\nhost | cgroups: {} | {:.1} s\nreason: {reason}\n",
        test.trial_name(),
        test.expect,
        cgroups.description,
        started.elapsed().as_secs_f64()
    );
    if let Some(result) = &result {
        let header = ReportHeader {
            test: test.trial_name(),
            scheduler: None,
            topology: None,
        };
        text += &result.format_human(&header);
    }
    Ok(HostOutcome {
        kind,
        reason,
        text,
        result,
        wall_ms: started.elapsed().as_millis() as u64,
    })
}

/// The class, reason and verdict of a host run from how the test function ended.
fn classify(
    ran: std::thread::Result<anyhow::Result<AssertResult>>,
) -> (OutcomeKind, String, Option<AssertResult>) {
    match ran {
        Ok(Ok(result)) if result.passed && result.skipped => (
            OutcomeKind::Skipped,
            super::classify::skip_reason(&result),
            Some(result),
        ),
        Ok(Ok(result)) if result.passed => (
            OutcomeKind::Passed,
            "the checks passed".into(),
            Some(result),
        ),
        Ok(Ok(result)) => (
            OutcomeKind::ChecksFailed,
            "the checks failed".into(),
            Some(result),
        ),
        Ok(Err(e)) => (
            OutcomeKind::TestError,
            format!(
                "the test returned an error: {}",
                crate::protocol::error_chain(&e)
            ),
            None,
        ),
        Err(panic) => (
            OutcomeKind::TestPanicked,
            format!("the test panicked: {}", panic_text(&*panic)),
            None,
        ),
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-text panic payload".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Ctx;

    fn passes(_: &Ctx) -> anyhow::Result<AssertResult> {
        Ok(AssertResult::pass())
    }

    fn fails(_: &Ctx) -> anyhow::Result<AssertResult> {
        Ok(AssertResult::fail_msg("deliberately unfair"))
    }

    fn skips(_: &Ctx) -> anyhow::Result<AssertResult> {
        Ok(AssertResult::skip("needs 2 LLCs"))
    }

    fn errs(_: &Ctx) -> anyhow::Result<AssertResult> {
        anyhow::bail!("no such cgroup")
    }

    fn panics(_: &Ctx) -> anyhow::Result<AssertResult> {
        panic!("deliberate host panic")
    }

    #[test]
    fn each_way_a_host_test_ends_is_its_own_class() {
        let run = |f: crate::scenario::ScenarioFn| {
            let outcome = run_host_test(&VmTest::new("h", f).host_only()).unwrap();
            (outcome.kind, outcome.reason)
        };
        assert_eq!(run(passes).0, OutcomeKind::Passed);
        assert_eq!(run(fails).0, OutcomeKind::ChecksFailed);
        assert_eq!(
            run(skips),
            (OutcomeKind::Skipped, "skipped: needs 2 LLCs".into())
        );
        assert_eq!(
            run(errs),
            (
                OutcomeKind::TestError,
                "the test returned an error: no such cgroup".into()
            )
        );
        assert_eq!(
            run(panics),
            (
                OutcomeKind::TestPanicked,
                "the test panicked: deliberate host panic".into()
            )
        );
    }
}
