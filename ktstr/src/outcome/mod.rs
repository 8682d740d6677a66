//! What one trial came to, as named parts: the trial it was, the verdict, the scheduler's run, the VM it
//! ran in, the guest's report, the host's evidence and the timings. The harness assembles a
//! `TrialOutcome`; the verdict text, the JSON line, run records and comparisons read it. This module
//! imports nothing that reads it back.

mod render;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::assert::{AssertResult, DetailKind};
use crate::protocol::GuestReport;
use crate::sched::{LoadDiagnosis, LocatedBinary};
use crate::vm::Accel;

/// The classes a trial's outcome falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum OutcomeKind {
    Passed,
    /// The test returned a verdict that judged nothing (`AssertResult::skip`); the reason says why. A
    /// test that expects a pass reports it as skipped (libtest's "ignored"), neither passed nor failed.
    Skipped,
    ChecksFailed,
    SchedulerFailedToStart,
    SchedulerDied,
    TopologyMismatch,
    GuestKernelPanic,
    TestPanicked,
    TestError,
    /// The test's process was killed by a signal (the OOM killer among them).
    TestKilled,
    TimedOut,
    NoReport,
}

/// Everything the host learned from one trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialOutcome {
    pub trial: TrialId,
    pub verdict: Verdict,
    pub scheduler: SchedulerRun,
    pub vm: VmRun,
    /// What the guest reported; `None` when it sent no report.
    pub report: Option<GuestReport>,
    pub evidence: Evidence,
    pub timings: Timings,
}

/// Which trial this was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialId {
    /// The trial's name (`fn/scheduler/topology/profile`, `gauntlet/fn/preset/profile`).
    pub name: String,
    /// The test function's name.
    pub function: String,
    /// The topology requested (`1n2l2c1t`).
    pub topology: String,
    /// The gauntlet preset, for a gauntlet variant.
    pub preset: Option<String>,
    /// How long the scenario was asked to run.
    pub duration_ms: u64,
}

/// The outcome class, why, and whether it is what the test expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub kind: OutcomeKind,
    /// One line: the first cause, then its symptoms.
    pub reason: String,
    pub expected: OutcomeKind,
    /// The expected class with its pinned reason and detail, when the test pins them.
    pub as_expected: bool,
}

/// The scheduler as the trial ran it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulerRun {
    /// `eevdf` for the kernel's own scheduler.
    pub name: String,
    /// The flag profile (`default` when no flag is on).
    pub profile: String,
    /// Every argument it was started with (declared, the profile's, the test's).
    pub args: Vec<String>,
    /// Where its binary came from on the host; `None` for EEVDF.
    pub binary: Option<LocatedBinary>,
    /// SHA-256 of the binary the guest ran; `None` for EEVDF.
    pub sha256: Option<String>,
    /// The sched_ext ops name it attached as.
    pub ops_name: Option<String>,
    /// What it printed when it failed to start or died.
    pub failed_output: Option<String>,
    /// What it printed when started again with its diagnostic arguments.
    pub diagnostic_output: Option<String>,
    /// Why it could not load, when its output shows it.
    pub load_diagnosis: Option<LoadDiagnosis>,
}

impl SchedulerRun {
    pub fn is_eevdf(&self) -> bool {
        self.name == "eevdf"
    }
}

/// The VM the trial ran in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmRun {
    pub accel: Accel,
    pub memory_mb: u32,
    /// The kernel image booted.
    pub kernel: PathBuf,
    pub kernel_stamp: KernelStamp,
}

/// The kernel a trial booted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct KernelStamp {
    /// The cache key (`6.12.117-kcc8fa3a7ec293`), when it came from the cache.
    pub key: Option<String>,
    pub version: Option<String>,
    pub config_hash: Option<String>,
    pub image_sha256: String,
}

/// What the host saw beside the report: the tails of the console, the kernel log, QEMU's stderr, and
/// the guest's own log lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub console_tail: Vec<String>,
    /// The last kernel log records the guest streamed while it ran.
    pub kmsg_tail: Vec<String>,
    /// QEMU's own stderr (its last lines): the evidence when the VM itself failed.
    pub qemu_stderr_tail: Vec<String>,
    pub guest_log: Vec<String>,
}

/// Where a trial's time went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timings {
    /// From the trial's start to QEMU's: kernel, initramfs, VM spec, and a free host CPU to boot on.
    pub prep_ms: u64,
    /// From QEMU start to the guest's first message.
    pub boot_ms: Option<u64>,
    /// How long the booted guest waited for host CPUs other guests were busy on.
    pub start_wait_ms: u64,
    /// The whole trial.
    pub wall_ms: u64,
}

impl TrialOutcome {
    /// The test's verdict, when the guest reported one.
    pub fn result(&self) -> Option<&AssertResult> {
        self.report.as_ref().and_then(|r| r.test.result())
    }

    /// The kinds of the failure details in the test's verdict, in order.
    pub fn detail_kinds(&self) -> Vec<DetailKind> {
        self.result()
            .map(|r| r.details.iter().map(|d| d.kind).collect())
            .unwrap_or_default()
    }

    /// The human verdict block: header, failures, stats, scheduler log tail, evidence when unexpected.
    pub fn render(&self) -> String {
        render::render(self)
    }
}

/// A complete outcome of kind `kind` for tests: every part filled, a report with one cgroup's stats.
#[cfg(test)]
pub(crate) fn sample(kind: OutcomeKind) -> TrialOutcome {
    use crate::assert::{CgroupStats, ScenarioStats};
    let result = AssertResult {
        stats: ScenarioStats {
            cgroups: vec![CgroupStats {
                name: "cg_0".into(),
                spread: 4.5,
                total_iterations: 1000,
                ..CgroupStats::default()
            }],
            ..ScenarioStats::default()
        },
        ..AssertResult::pass()
    };
    TrialOutcome {
        trial: TrialId {
            name: "t/eevdf/1n1l2c1t/default".into(),
            function: "t".into(),
            topology: "1n1l2c1t".into(),
            preset: None,
            duration_ms: 2000,
        },
        verdict: Verdict {
            kind,
            reason: format!("{kind:?}"),
            expected: OutcomeKind::Passed,
            as_expected: kind == OutcomeKind::Passed,
        },
        scheduler: SchedulerRun {
            name: "eevdf".into(),
            profile: "default".into(),
            args: vec![],
            binary: None,
            sha256: None,
            ops_name: None,
            failed_output: None,
            diagnostic_output: None,
            load_diagnosis: None,
        },
        vm: VmRun {
            accel: Accel::Tcg,
            memory_mb: 2048,
            kernel: "/cache/bzImage".into(),
            kernel_stamp: KernelStamp::default(),
        },
        report: Some(GuestReport {
            test: crate::protocol::TestEnd::Returned { result },
            ..GuestReport::default()
        }),
        evidence: Evidence::default(),
        timings: Timings {
            prep_ms: 100,
            boot_ms: Some(900),
            start_wait_ms: 0,
            wall_ms: 4000,
        },
    }
}
