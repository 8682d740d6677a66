//! ktstr: a test harness for Linux process schedulers.
//!
//! A test declares a scenario as data (cgroups, cpusets, workloads, steps); the engine creates the cgroups,
//! forks workers, runs the steps and judges what the workers measured.

pub mod assert;
pub mod cgroup;
pub mod guest;
pub mod harness;
pub mod host;
pub mod kernel;
pub mod scenario;
pub mod sched;
pub mod topology;
pub mod vm;
pub mod workload;

pub mod prelude;
pub mod protocol;

/// Declares a VM test on `fn name(ctx: &Ctx) -> Result<AssertResult>` and registers it for
/// [`main!`]; mistakes in the attribute are compile errors.
///
/// Attributes: `topology = "1n2l2c1t"` or `numa_nodes`/`llcs`/`cores`/`threads` (default 1n1l2c1t);
/// `scheduler = EXPR` (a `Scheduler`) and `extra_sched_args = ["-v"]`; `duration_s`, `workers_per_cgroup`,
/// `memory_mb`, `timeout_s`; `sysctls = ["kernel/sched_rt_runtime_us=-1"]`; the expected outcome `expect =
/// ChecksFailed`, `expect_reason = "..."`, `expect_detail = Unfair`; and the check thresholds of `Assert`
/// (`not_starved`, `isolation`, `max_gap_ms`, `max_spread_pct`, `max_throughput_cv`, `min_work_rate`,
/// `max_p99_wake_latency_ns`, `max_wake_latency_cv`, `min_iteration_rate`, `max_migration_ratio`).
///
/// ```no_run
/// use ktstr::prelude::*;
///
/// #[ktstr_test(topology = "1n2l2c1t", duration_s = 2, max_spread_pct = 20.0)]
/// fn two_cgroups(ctx: &Ctx) -> Result<AssertResult> {
///     Ok(execute_defs(ctx, vec![CgroupDef::named("cg_0"), CgroupDef::named("cg_1")])?)
/// }
///
/// ktstr::main!();
/// ```
pub use ktstr_macros::ktstr_test;

/// The `main` of a `harness = false` test binary: runs every `#[ktstr_test]` in it (and, given a
/// `Vec<VmTest>` expression, those hand-built tests too), on the host or as the guest's `/init`.
#[macro_export]
macro_rules! main {
    () => {
        fn main() {
            $crate::harness::main($crate::harness::registered_tests())
        }
    };
    ($extra:expr) => {
        fn main() {
            let mut tests = $crate::harness::registered_tests();
            tests.extend($extra);
            $crate::harness::main(tests)
        }
    };
}

/// What `#[ktstr_test]` expands to refers to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use linkme;

    /// Every `#[ktstr_test]` of the binary, as a builder of its `VmTest`. A static slice the linker
    /// assembles, so host and guest see the same tests whatever the environment.
    #[linkme::distributed_slice]
    pub static KTSTR_TESTS: [fn() -> crate::harness::VmTest];
}
