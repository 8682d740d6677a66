//! ktstr: a test harness for Linux process schedulers.
//!
//! A test declares a scenario as data (cgroups, cpusets, workloads, steps); the engine creates the cgroups,
//! forks workers, runs the steps and judges what the workers measured.

// The derive macros name `::ktstr::...`; this lets ktstr use them on its own declarations.
extern crate self as ktstr;

pub mod assert;
pub mod cgroup;
pub mod compare;
pub mod guest;
pub mod harness;
pub mod host;
pub mod kernel;
pub mod outcome;
pub mod pipeline;
pub mod scenario;
pub mod sched;
pub mod scx;
pub mod sys;
pub mod topology;
pub mod vm;
pub mod workload;

/// The schedulers ktstr declares for every test (`ktstr::schedulers::SCX_QMAP`, ...).
pub use sched::schedulers;

pub mod prelude;
pub mod protocol;
pub mod runs;

/// Declares a VM test on `fn name(ctx: &Ctx) -> Result<AssertResult>` and registers it for
/// [`main!`]; mistakes in the attribute are compile errors.
///
/// Attributes: `topology = "1n2l2c1t"` or `numa_nodes`/`llcs`/`cores`/`threads` (default: the
/// scheduler's declared topology, else 1n1l2c1t); `scheduler = EXPR` (a `Scheduler`, usually a declared
/// `const` such as `ktstr::schedulers::SCX_QMAP`), `profile = "batch+short-slice"` (a flag profile of it)
/// and `extra_sched_args = ["-v"]`; `duration_s`, `workers_per_cgroup`, `memory_mb`, `timeout_s`;
/// `sysctls = ["kernel/sched_rt_runtime_us=-1"]`; `host_only = true` (run on this host, no VM);
/// `gauntlet = true` with `required_flags = [..]` / `excluded_flags = [..]` (docs/gauntlet.md); the
/// topology bounds `min_cpus`, `max_cpus`, `min_llcs`, `max_llcs`, `min_numa_nodes`, `max_numa_nodes`,
/// `requires_smt`; the expected outcome `expect = ChecksFailed`, `expect_reason = "..."`, `expect_detail =
/// Unfair`; and the check thresholds of `Assert` (`not_starved`, `isolation`, `max_gap_ms`,
/// `max_spread_pct`, `max_throughput_cv`, `min_work_rate`, `max_p99_wake_latency_ns`,
/// `max_wake_latency_cv`, `min_iteration_rate`, `max_migration_ratio`).
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

/// Declares a scheduler from an enum whose unit variants are its flags, as a `const` `Scheduler` named
/// after the enum without its `Flags` suffix (`QmapFlags` → `QMAP`).
///
/// On the enum, `#[scheduler(...)]`: `binary = "scx_qmap"` (required: an in-tree name, a path, or a name
/// found installed, in a cargo target dir or on `PATH`), `name`, `sched_args = [..]`, `sysctls = ["k=v"]`,
/// `kargs = [..]`, `topology(N, L, C, T)` or `topology = "1n2l2c1t"`, the topology bounds (`min_cpus`,
/// ..., `requires_smt`) and check thresholds as on `#[ktstr_test]`. On each variant, `#[flag(args = [..],
/// requires = [Other], excludes = [Other])]`; the flag's name is the variant's in kebab case.
///
/// ```
/// use ktstr::prelude::*;
///
/// #[derive(Scheduler)]
/// #[scheduler(binary = "scx_qmap", topology(1, 2, 2, 1), max_gap_ms = 3000)]
/// pub enum QmapFlags {
///     #[flag(args = ["-s", "5000"])]
///     ShortSlice,
///     #[flag(args = ["-b", "8"])]
///     Batch,
///     #[flag(args = ["-H"], requires = [Batch])]
///     BoostNice,
/// }
///
/// assert_eq!(QmapFlags::BOOST_NICE, "boost-nice");
/// assert_eq!(QMAP.profiles().len(), 6);
/// assert_eq!(QMAP.with_profile("boost-nice+batch")?.spec().args, ["-b", "8", "-H"]);
/// # Ok::<(), ktstr::sched::SchedulerError>(())
/// ```
pub use ktstr_macros::Scheduler;

/// The `main` of a `harness = false` test binary: runs every `#[ktstr_test]` in it (and, given a
/// `Vec<VmTest>` expression, those hand-built tests too), on the host or as the guest's `/init`.
#[macro_export]
macro_rules! main {
    () => {
        fn main() {
            $crate::pipeline::main($crate::pipeline::registered_tests())
        }
    };
    ($extra:expr) => {
        fn main() {
            let mut tests = $crate::pipeline::registered_tests();
            tests.extend($extra);
            $crate::pipeline::main(tests)
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
