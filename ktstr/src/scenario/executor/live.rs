//! `LiveScope`: the cgroups and worker handles of one scope (the backdrop or a step) while it runs.

use std::collections::BTreeMap;

use crate::assert::{allowed_union, Assert, AssertResult, CpusetPhase};
use crate::cgroup::{CgroupError, CgroupGroup, CgroupOps};
use crate::topology::CpuSet;
use crate::workload::{CpuTimes, WorkerReport, WorkloadHandle};

/// Why isolation is not judged over the in-memory cgroup double.
const UNCONFINED: &str = "the in-memory cgroup double does not confine workers to their cpusets; \
     judge isolation with real cgroup v2 cpusets (in a VM, or `--cgroups real`)";

/// Pseudo-cgroup name under which workers left in the managed parent are judged.
pub(crate) const HOST: &str = "<host>";

/// One live cgroup: its cpuset, the cpusets its workers ran under, and its workers.
#[derive(Default)]
pub(crate) struct LiveCgroup {
    pub cpuset: Option<CpuSet>,
    /// Every cpuset the cgroup had while it held its current workers, oldest first; empty is unrestricted.
    pub phases: Vec<CpusetPhase>,
    pub handles: Vec<WorkloadHandle>,
    /// Indices into `handles` where workers moved in from another cgroup begin.
    pub cohorts: Vec<usize>,
    /// The machine's CPU times when its first workers started.
    pub started: Option<CpuTimes>,
}

impl LiveCgroup {
    /// Adds started workers; the first ones stamp the CPU times the cgroup is later judged against.
    pub fn push(&mut self, handle: WorkloadHandle) {
        if self.started.is_none() {
            self.started = CpuTimes::now();
        }
        self.handles.push(handle);
    }

    /// Records a cpuset written between `since_ns` and `settled_ns` (CLOCK_MONOTONIC); without workers
    /// it is simply the cpuset the next ones start under.
    pub fn set_cpuset(&mut self, cpuset: Option<CpuSet>, since_ns: u64, settled_ns: u64) {
        if self.handles.is_empty() {
            self.phases = vec![CpusetPhase::from_start(cpuset.clone())];
        } else {
            let phase = CpusetPhase::changed(since_ns, settled_ns, cpuset.clone());
            self.phases.push(phase);
        }
        self.cpuset = cpuset;
    }

    /// Absorbs the workers of another cgroup moved into this one between `since_ns` and `settled_ns`:
    /// before the move either cgroup's cpusets held, after it this one's.
    pub fn absorb(&mut self, other: LiveCgroup, since_ns: u64, settled_ns: u64) {
        if other.handles.is_empty() {
            return;
        }
        let mut earlier = std::mem::take(&mut self.phases);
        earlier.extend(other.phases);
        self.phases = vec![
            CpusetPhase::from_start(allowed_union(&earlier)),
            CpusetPhase::changed(since_ns, settled_ns, self.cpuset.clone()),
        ];
        let offset = self.handles.len();
        if offset > 0 {
            self.cohorts.push(offset);
        }
        self.cohorts
            .extend(other.cohorts.iter().map(|i| i + offset));
        self.handles.extend(other.handles);
        self.started = self.started.take().or(other.started);
    }

    /// Takes the workers with what is known of their run, leaving the cgroup empty with its cpuset.
    pub fn take_workers(&mut self) -> LiveCgroup {
        let empty = LiveCgroup {
            cpuset: self.cpuset.clone(),
            phases: vec![CpusetPhase::from_start(self.cpuset.clone())],
            ..LiveCgroup::default()
        };
        std::mem::replace(self, empty)
    }
}

/// The verdict over some stopped workers, and how many there were.
pub(crate) struct Judged {
    pub verdict: AssertResult,
    pub workers: usize,
}

impl Default for Judged {
    fn default() -> Self {
        Judged {
            verdict: AssertResult::pass(),
            workers: 0,
        }
    }
}

impl Judged {
    fn merge(self, other: Judged) -> Judged {
        Judged {
            verdict: self.verdict.merge(other.verdict),
            workers: self.workers + other.workers,
        }
    }
}

/// The cgroups one scope created, removed in reverse order when the scope ends.
pub(crate) struct LiveScope<'c> {
    ops: &'c dyn CgroupOps,
    group: CgroupGroup<'c>,
    pub cgroups: BTreeMap<String, LiveCgroup>,
}

impl<'c> LiveScope<'c> {
    pub fn new(ops: &'c dyn CgroupOps) -> Self {
        let mut cgroups = BTreeMap::new();
        cgroups.insert(HOST.to_string(), LiveCgroup::default());
        LiveScope {
            ops,
            group: CgroupGroup::new(ops),
            cgroups,
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.cgroups.contains_key(name)
    }

    /// Creates a cgroup (tracking implicit ancestors of a nested name too) and applies its cpuset.
    pub fn create(&mut self, name: &str, cpuset: Option<CpuSet>) -> Result<(), CgroupError> {
        let mut path = String::new();
        for part in name.split('/') {
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(part);
            if !self.group.contains(&path) {
                self.group.add_cgroup_no_cpuset(&path)?;
                self.cgroups.entry(path.clone()).or_default();
            }
        }
        if let Some(cpus) = &cpuset {
            self.ops.set_cpuset(name, cpus)?;
        }
        self.cgroups
            .entry(name.to_string())
            .or_default()
            .set_cpuset(cpuset, 0, 0);
        Ok(())
    }

    /// Stops and judges the workers of `name` and of every cgroup nested under it.
    pub fn stop(&mut self, name: &str, assert: &Assert) -> Judged {
        let nested = format!("{name}/");
        let names: Vec<String> = self
            .cgroups
            .keys()
            .filter(|k| *k == name || k.starts_with(&nested))
            .cloned()
            .collect();
        self.judge_all(&names, assert)
    }

    /// Stops and judges `name` (and nested cgroups), then removes them.
    pub fn remove(&mut self, name: &str, assert: &Assert) -> (Judged, Result<(), CgroupError>) {
        let verdict = self.stop(name, assert);
        let nested = format!("{name}/");
        self.cgroups
            .retain(|k, _| k != name && !k.starts_with(&nested));
        (verdict, self.group.remove(name))
    }

    /// Stops and judges every worker of the scope; the cgroups go when the scope drops.
    pub fn teardown(&mut self, assert: &Assert) -> Judged {
        let names: Vec<String> = self.cgroups.keys().cloned().collect();
        self.judge_all(&names, assert)
    }

    fn judge_all(&mut self, names: &[String], assert: &Assert) -> Judged {
        names
            .iter()
            .rev()
            .fold(Judged::default(), |acc, n| acc.merge(self.judge(n, assert)))
    }

    /// Stops the workers of one cgroup and checks their reports against its allowed CPUs.
    fn judge(&mut self, name: &str, assert: &Assert) -> Judged {
        let Some(live) = self.cgroups.get_mut(name) else {
            return Judged::default();
        };
        let taken = live.take_workers();
        if taken.handles.is_empty() {
            return Judged::default();
        }
        let phases = if name == HOST {
            Vec::new()
        } else {
            taken.phases
        };
        let allowed = allowed_union(&phases);
        let idle_pct = taken
            .started
            .zip(CpuTimes::now())
            .and_then(|(start, end)| start.idle_pct_until(&end, allowed.as_ref()));
        let (reports, cohorts) = collect(taken.handles, &taken.cohorts);
        let unconfined = assert.isolation == Some(true) && !self.ops.enforces_cpusets();
        let assert = match unconfined {
            true => assert.merge(&Assert::NO_OVERRIDES.no_isolation_check()),
            false => *assert,
        };
        let mut verdict = assert.assert_cgroup_under(&reports, &phases, idle_pct, &cohorts);
        if unconfined {
            verdict.push_not_judged("isolation", UNCONFINED);
        }
        Judged {
            workers: reports.len(),
            verdict: verdict.with_cgroup_name(name),
        }
    }
}

/// Stops the workers and collects their reports, with the report indices where each cohort of handles
/// (`cohorts`, handle indices) begins.
fn collect(handles: Vec<WorkloadHandle>, cohorts: &[usize]) -> (Vec<WorkerReport>, Vec<usize>) {
    let mut reports = Vec::new();
    let mut starts = Vec::new();
    for (i, handle) in handles.into_iter().enumerate() {
        if cohorts.contains(&i) {
            starts.push(reports.len());
        }
        reports.extend(handle.stop_and_collect());
    }
    (reports, starts)
}
