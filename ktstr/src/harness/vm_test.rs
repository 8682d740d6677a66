//! `VmTest`: one test function declared with the VM it runs in, and the outcome it expects.

use std::time::Duration;

use crate::assert::{Assert, DetailKind};
use crate::kernel::KernelFlavor;
use crate::outcome::OutcomeKind;
use crate::scenario::ScenarioFn;
use crate::sched::{Scheduler, SchedulerError, TopologyConstraints};
use crate::topology::Topology;

/// What one trial's outcome means for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The class the test expects, with its pinned reason and detail.
    AsExpected,
    /// A skip where a pass was expected: reported with its reason, counted as neither.
    Skipped,
    Unexpected,
}

/// A test run in a VM: topology, scheduler, duration, checks, and the expected outcome.
///
/// ```no_run
/// use ktstr::prelude::*;
/// fn two_cgroups(ctx: &Ctx) -> Result<AssertResult> {
///     Ok(execute_defs(ctx, vec![CgroupDef::named("cg_0"), CgroupDef::named("cg_1")])?)
/// }
/// let test = VmTest::new("two_cgroups", two_cgroups)
///     .topology("1n2l2c1t".parse().unwrap())
///     .scheduler(Scheduler::in_tree("scx_simple").unwrap());
/// ```
#[derive(Clone)]
pub struct VmTest {
    pub(crate) name: String,
    pub(crate) func: ScenarioFn,
    /// `None`: the scheduler's default topology, else `Topology::DEFAULT`.
    pub(crate) topology: Option<Topology>,
    pub(crate) scheduler: Scheduler,
    /// The scheduler flag profile (`a+b` or `default`); `None` is `default`.
    pub(crate) profile: Option<String>,
    pub(crate) host_only: bool,
    /// The test's own topology bounds (the scheduler's apply as well).
    pub(crate) constraints: TopologyConstraints,
    /// Whether the test fans out over the gauntlet's presets × profiles.
    pub(crate) gauntlet: bool,
    /// Flags every gauntlet profile of the test has on.
    pub(crate) required_flags: Vec<String>,
    /// Flags no gauntlet profile of the test has on.
    pub(crate) excluded_flags: Vec<String>,
    /// The gauntlet preset this is a variant on, if it is one.
    pub(crate) preset: Option<&'static str>,
    /// Whether the variant's name ends with its kernel flavor (a gauntlet over several kernels).
    pub(crate) kernel_in_name: bool,
    /// How many times the trial runs; each run is a record of its own.
    pub(crate) repeat: u32,
    pub(crate) duration: Duration,
    pub(crate) workers_per_cgroup: usize,
    pub(crate) settle: Duration,
    pub(crate) assert: Assert,
    pub(crate) expect: OutcomeKind,
    pub(crate) timeout: Option<Duration>,
    pub(crate) sysctls: Vec<(String, String)>,
    pub(crate) kernel_flavor: Option<KernelFlavor>,
    pub(crate) expect_reason: Option<String>,
    pub(crate) expect_detail: Option<DetailKind>,
    pub(crate) memory_mb: Option<u32>,
    /// The cgroups a `host_only` run uses.
    pub(crate) host_cgroups: crate::host::CgroupMode,
    /// Whether `resolved` made this (resolving again changes nothing).
    pub(crate) resolved: bool,
}

impl VmTest {
    /// A test on the default topology (1n1l2c1t) under the kernel's own scheduler, 2 s, expecting a pass.
    pub fn new(name: impl Into<String>, func: ScenarioFn) -> VmTest {
        VmTest {
            name: name.into(),
            func,
            topology: None,
            scheduler: Scheduler::EEVDF,
            profile: None,
            host_only: false,
            constraints: TopologyConstraints::NONE,
            gauntlet: false,
            required_flags: Vec::new(),
            excluded_flags: Vec::new(),
            preset: None,
            kernel_in_name: false,
            repeat: 1,
            duration: Duration::from_secs(2),
            workers_per_cgroup: 2,
            settle: Duration::ZERO,
            assert: Assert::NO_OVERRIDES,
            expect: OutcomeKind::Passed,
            timeout: None,
            sysctls: Vec::new(),
            kernel_flavor: None,
            expect_reason: None,
            expect_detail: None,
            memory_mb: None,
            host_cgroups: crate::host::CgroupMode::Auto,
            resolved: false,
        }
    }

    /// The function's name; unique in a test binary.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name a test runner lists: `fn/scheduler/topology/profile`, stable across runs, so a filter
    /// selects by any part (`/scx_qmap/`, `/2n4l1c1t/`, `/batch`).
    pub fn trial_name(&self) -> String {
        if let Some(preset) = self.preset {
            let kernel = match (self.kernel_in_name, self.kernel_flavor) {
                (true, Some(flavor)) => format!("/{flavor}"),
                _ => String::new(),
            };
            return format!(
                "gauntlet/{}/{preset}/{}{kernel}",
                self.name,
                self.profile_name()
            );
        }
        match self.host_only {
            true => format!("{}/host", self.name),
            false => format!(
                "{}/{}/{}/{}",
                self.name,
                self.scheduler.name(),
                self.vm_topology(),
                self.profile_name()
            ),
        }
    }

    /// The profile's name as `resolved` normalises it (flags in declaration order), else as given.
    pub fn profile_name(&self) -> String {
        match &self.profile {
            None => crate::sched::Profile::DEFAULT_NAME.to_string(),
            Some(name) => self
                .scheduler
                .with_profile(name)
                .map(|s| s.profile().name())
                .unwrap_or_else(|_| name.clone()),
        }
    }

    /// The scheduler the test runs under.
    pub fn sched(&self) -> &Scheduler {
        &self.scheduler
    }

    /// Whether the test runs on the host, without a VM.
    pub fn is_host_only(&self) -> bool {
        self.host_only
    }

    /// The test's topology bounds, with its scheduler's.
    pub fn topology_constraints(&self) -> TopologyConstraints {
        self.constraints.and(&self.scheduler.topology_constraints())
    }

    /// The test as it runs: its profile turned on in its scheduler, its topology settled (the test's, else
    /// the scheduler's, else the default) and within both sets of constraints, and the scheduler's
    /// sysctls ahead of the test's. Every declaration mistake is an error here, before a VM boots.
    pub fn resolved(&self) -> Result<VmTest, SchedulerError> {
        let mut test = self.clone();
        if self.resolved {
            return Ok(test);
        }
        test.resolved = true;
        if let Some(name) = &self.profile {
            test.scheduler = self.scheduler.with_profile(name)?;
        }
        let topology = self.vm_topology();
        if !self.host_only {
            self.topology_constraints()
                .check(&topology)
                .map_err(|why| SchedulerError::TopologyOutsideConstraints {
                    scheduler: self.scheduler.name().to_string(),
                    why,
                })?;
        }
        test.topology = Some(topology);
        test.sysctls = self
            .scheduler
            .declared_sysctls()
            .iter()
            .map(|s| (s.path(), s.value.to_string()))
            .chain(self.sysctls.iter().cloned())
            .collect();
        Ok(test)
    }

    /// The outcome that counts as success.
    pub fn expected(&self) -> OutcomeKind {
        self.expect
    }

    /// The topology the test's VM boots with: its own, else its scheduler's default, else 1n1l2c1t.
    pub fn vm_topology(&self) -> Topology {
        self.topology
            .or(self.scheduler.default_topology())
            .unwrap_or(Topology::DEFAULT)
    }

    /// The merged check overrides the test declares (over the scheduler's and the defaults).
    pub fn checks(&self) -> Assert {
        self.assert
    }

    pub fn topology(mut self, topology: Topology) -> Self {
        self.topology = Some(topology);
        self
    }

    pub fn scheduler(mut self, scheduler: Scheduler) -> Self {
        self.scheduler = scheduler;
        self
    }

    /// Runs under this flag profile of the scheduler (`a+b`, or `default`); checked by `resolved`.
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// Runs the function on this host, without a VM or a scheduler (the host's own).
    pub fn host_only(mut self) -> Self {
        self.host_only = true;
        self
    }

    /// Fans the test out over the gauntlet: every topology preset its constraints allow × every profile of
    /// its scheduler (narrowed by `required_flags` / `excluded_flags`), as `gauntlet/fn/preset/profile`.
    pub fn gauntlet(mut self) -> Self {
        self.gauntlet = true;
        self
    }

    /// Flags every gauntlet profile has on.
    pub fn required_flags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, flags: I) -> Self {
        self.required_flags = flags.into_iter().map(Into::into).collect();
        self
    }

    /// Flags no gauntlet profile has on.
    pub fn excluded_flags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, flags: I) -> Self {
        self.excluded_flags = flags.into_iter().map(Into::into).collect();
        self
    }

    /// Runs the trial `times` times (at least once); each run writes its own record, and the trial passes
    /// only when every run ends as expected. `KTSTR_REPEAT` overrides it for a whole binary.
    pub fn repeat(mut self, times: u32) -> Self {
        self.repeat = times.max(1);
        self
    }

    /// How many times the trial runs.
    pub fn repeats(&self) -> u32 {
        self.repeat
    }

    /// Whether the test fans out over the gauntlet.
    pub fn is_gauntlet(&self) -> bool {
        self.gauntlet
    }

    /// The test's own topology bounds, over its scheduler's.
    pub fn constraints(mut self, constraints: TopologyConstraints) -> Self {
        self.constraints = constraints;
        self
    }

    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    pub fn workers_per_cgroup(mut self, workers: usize) -> Self {
        self.workers_per_cgroup = workers;
        self
    }

    /// A pause between creating the scenario's first cgroups and spawning its workers, for schedulers
    /// that notice new cgroups asynchronously. sched_ext's own cgroup callbacks run inside the mkdir, so
    /// the default is none.
    pub fn settle(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }

    /// Test-level check overrides, merged over the defaults and the scheduler's.
    pub fn assert(mut self, assert: Assert) -> Self {
        self.assert = assert;
        self
    }

    /// The outcome that counts as success; a true-positive fixture expects a failure class.
    pub fn expect(mut self, outcome: OutcomeKind) -> Self {
        self.expect = outcome;
        self
    }

    /// Text the outcome's reason must contain as well, so a fixture pins what failed and not only the
    /// class (for example `"verifier rejected"` for a scheduler that cannot load).
    pub fn expect_reason(mut self, text: impl Into<String>) -> Self {
        self.expect_reason = Some(text.into());
        self
    }

    /// A kind of failure detail the verdict must contain as well, so a starvation fixture fails when the
    /// starved worker is reported only as dead, or an unfairness fixture when it is reported only as stuck.
    pub fn expect_detail(mut self, kind: DetailKind) -> Self {
        self.expect_detail = Some(kind);
        self
    }

    /// Guest memory in MiB (default: enough for the topology and the initramfs).
    pub fn memory_mb(mut self, memory_mb: u32) -> Self {
        self.memory_mb = Some(memory_mb);
        self
    }

    /// Whether `outcome` is what this test expects: its class and, when set, its reason text and a failure
    /// detail of the pinned kind.
    pub fn accepts(&self, kind: OutcomeKind, reason: &str, details: &[DetailKind]) -> bool {
        kind == self.expect
            && self
                .expect_reason
                .as_deref()
                .is_none_or(|want| reason.contains(want))
            && self
                .expect_detail
                .is_none_or(|want| details.contains(&want))
    }

    /// What an outcome means for the run: as expected; a skip where this test expects a pass (reported as
    /// skipped, neither passed nor failed); or unexpected. A failure fixture that skips proved nothing.
    pub fn standing(&self, kind: OutcomeKind, reason: &str, details: &[DetailKind]) -> Standing {
        if self.accepts(kind, reason, details) {
            Standing::AsExpected
        } else if kind == OutcomeKind::Skipped && self.expect == OutcomeKind::Passed {
            Standing::Skipped
        } else {
            Standing::Unexpected
        }
    }

    /// What `accepts` wants beyond the class, for a message when only the class matched.
    pub fn expectation(&self) -> String {
        let mut parts = Vec::new();
        if let Some(reason) = &self.expect_reason {
            parts.push(format!("a reason containing {reason:?}"));
        }
        if let Some(kind) = self.expect_detail {
            parts.push(format!("a {kind:?} detail"));
        }
        parts.join(" and ")
    }

    /// The cgroups a `host_only` run uses: real cgroup v2 where the host offers it (the default), or
    /// either one by choice.
    pub fn host_cgroups(mut self, mode: crate::host::CgroupMode) -> Self {
        self.host_cgroups = mode;
        self
    }

    /// Replaces the run allowance (the time after boot before the trial is killed).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Appends a `/proc/sys` write (path below `/proc/sys`) made in the guest before the scheduler starts.
    pub fn push_sysctl(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.sysctls.push((key.into(), value.into()));
        self
    }

    /// Boots the cached kernel of this flavor (for example `KernelFlavor::Debug` for lockdep) instead
    /// of the one `KTSTR_KERNEL_FLAVOR` names.
    pub fn kernel_flavor(mut self, flavor: KernelFlavor) -> Self {
        self.kernel_flavor = Some(flavor);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::AssertResult;
    use crate::scenario::Ctx;

    fn nothing(_: &Ctx) -> anyhow::Result<AssertResult> {
        Ok(AssertResult::pass())
    }

    #[test]
    fn an_expected_reason_must_appear_in_the_outcome_as_well_as_the_class() {
        let loose = VmTest::new("t", nothing).expect(OutcomeKind::SchedulerFailedToStart);
        let pinned = loose.clone().expect_reason("verifier rejected");
        let rejected = "the scheduler could not load: the verifier rejected program \"x\"";
        assert!(loose.accepts(OutcomeKind::SchedulerFailedToStart, "anything", &[]));
        assert!(pinned.accepts(OutcomeKind::SchedulerFailedToStart, rejected, &[]));
        assert!(!pinned.accepts(OutcomeKind::SchedulerFailedToStart, "it exited", &[]));
        assert!(!pinned.accepts(OutcomeKind::SchedulerDied, rejected, &[]));
    }

    #[test]
    fn a_skip_stands_apart_only_where_a_pass_was_expected() {
        let plain = VmTest::new("t", nothing);
        let fixture = plain.clone().expect(OutcomeKind::ChecksFailed);
        let skips = plain.clone().expect(OutcomeKind::Skipped);
        let skipped = OutcomeKind::Skipped;
        let why = "skipped: needs 2 LLCs";
        assert_eq!(plain.standing(skipped, why, &[]), Standing::Skipped);
        assert_eq!(
            plain.standing(OutcomeKind::Passed, "passed", &[]),
            Standing::AsExpected
        );
        assert_eq!(
            plain.standing(OutcomeKind::ChecksFailed, "x", &[]),
            Standing::Unexpected
        );
        assert_eq!(fixture.standing(skipped, why, &[]), Standing::Unexpected);
        assert_eq!(skips.standing(skipped, why, &[]), Standing::AsExpected);
    }

    #[test]
    fn resolving_twice_is_resolving_once() {
        use crate::sched::Sysctl;
        const RT: Scheduler = Scheduler::new("scx_simple")
            .sysctls(&[Sysctl::new("kernel.sched_rt_runtime_us", "900000")]);
        let test = VmTest::new("t", nothing)
            .scheduler(RT)
            .push_sysctl("kernel/sched_rt_runtime_us", "-1");
        let once = test.resolved().unwrap();
        let twice = once.resolved().unwrap();
        assert_eq!(once.sysctls.len(), 2);
        assert_eq!(twice.sysctls, once.sysctls);
    }

    #[test]
    fn a_pinned_detail_kind_must_be_among_the_failures() {
        let starved = VmTest::new("t", nothing)
            .expect(OutcomeKind::ChecksFailed)
            .expect_detail(DetailKind::Starved);
        let failed = OutcomeKind::ChecksFailed;
        assert!(starved.accepts(failed, "x", &[DetailKind::Stuck, DetailKind::Starved]));
        assert!(!starved.accepts(failed, "x", &[DetailKind::WorkerDied]));
        assert!(!starved.accepts(failed, "x", &[]));
        assert_eq!(starved.expectation(), "a Starved detail");
    }
}
