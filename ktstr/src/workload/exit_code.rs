//! Exit codes of a worker that ends without sending a report; sentinel reports carry them in `ExitInfo`.

/// The worker panicked; the panic message is not printed (see `fork`).
pub const PANICKED: i32 = 70;
/// The start gate stayed closed for 30 s.
pub const START_TIMEOUT: i32 = 71;
/// The handle was dropped before `start`.
pub const NOT_STARTED: i32 = 72;
/// `sched_setaffinity` to the configured CPUs failed.
pub const AFFINITY_FAILED: i32 = 73;
/// `sched_setscheduler` or `setpriority` to the configured policy or nice value failed (RT policies and
/// negative nice values need CAP_SYS_NICE).
pub const POLICY_FAILED: i32 = 74;
/// The work type's own setup (temporary file, memory region) failed.
pub const SETUP_FAILED: i32 = 75;
/// The report could not be encoded or written.
pub const REPORT_FAILED: i32 = 76;

/// What a worker exit code means, if it is one of ours.
pub(crate) fn meaning(code: i32) -> Option<&'static str> {
    Some(match code {
        PANICKED => "the worker panicked",
        START_TIMEOUT => "the worker was never started (30 s start-gate timeout)",
        NOT_STARTED => "the handle was dropped before start",
        AFFINITY_FAILED => "the worker could not apply its CPU affinity",
        POLICY_FAILED => "the worker could not apply its scheduling policy or nice value (RT and negative nice need CAP_SYS_NICE)",
        SETUP_FAILED => "the work type's setup failed (temporary file or memory)",
        REPORT_FAILED => "the worker could not write its report",
        _ => return None,
    })
}
