//! `KTSTR_BUDGET_SECS`: of the trials a binary would run, the subset that fits a time budget and covers
//! the most distinct (test, shape feature, flag) triples — every topology feature a preset has
//! (`smt`, `numa:2`, `llcs:odd`, ...) paired with every flag of the profile (or `default`). Greedy: take
//! the trial with the most newly covered triples per estimated second, until nothing that fits adds
//! coverage. Ties go by a hash of the trial name and the seed (`KTSTR_BUDGET_SEED`, default 0), so one
//! seed always selects the same set.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use crate::harness::VmTest;
use crate::topology::presets::features;
use crate::vm::Accel;

pub const BUDGET_ENV: &str = "KTSTR_BUDGET_SECS";
pub const SEED_ENV: &str = "KTSTR_BUDGET_SEED";

/// A trial as the budget sees it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub name: String,
    pub cost: Duration,
    /// Whether `cost` comes from a run record rather than the estimate.
    pub measured: bool,
    pub covers: BTreeSet<String>,
}

impl Candidate {
    /// `test` as a candidate: its cost is the newest measured wall of its trial name in `measured` (from
    /// `measured_walls`), else the estimate.
    pub fn of(test: &VmTest, accel: Accel, measured: &HashMap<String, Duration>) -> Candidate {
        let name = test.trial_name();
        let (cost, was_measured) = match measured.get(&name) {
            Some(wall) => (*wall, true),
            None => (estimate(test, accel), false),
        };
        Candidate {
            name,
            cost,
            measured: was_measured,
            covers: covers(test),
        }
    }
}

/// What the budget chose.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Indices into the candidates, in the order chosen.
    pub chosen: Vec<usize>,
    pub cost: Duration,
    pub covered: usize,
    /// Triples the candidates could cover at all.
    pub coverable: usize,
}

impl Selection {
    /// `ktstr budget: 14/156 trials, 118/120 s estimated, 45/45 (test, shape, flag) covered, seed 0`.
    pub fn summary(&self, candidates: usize, budget: Duration, seed: u64) -> String {
        format!(
            "ktstr budget: {}/{candidates} trials, {:.0}/{:.0} s estimated, {}/{} (test, shape, flag) \
             covered, seed {seed}",
            self.chosen.len(),
            self.cost.as_secs_f64(),
            budget.as_secs_f64(),
            self.covered,
            self.coverable
        )
    }
}

/// The budget and seed the environment sets; `Ok(None)` without a budget.
pub fn from_env() -> Result<Option<(Duration, u64)>, String> {
    let Some(text) = std::env::var(BUDGET_ENV)
        .ok()
        .filter(|t| !t.trim().is_empty())
    else {
        return Ok(None);
    };
    let secs: f64 = text
        .trim()
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s > 0.0)
        .ok_or_else(|| {
            format!("{BUDGET_ENV}={text:?} is not a number of seconds above 0, like 600")
        })?;
    let seed = match std::env::var(SEED_ENV) {
        Ok(seed) => seed
            .trim()
            .parse()
            .map_err(|_| format!("{SEED_ENV}={seed:?} is not a whole number, like 0 or 42"))?,
        Err(_) => 0,
    };
    Ok(Some((Duration::from_secs_f64(secs), seed)))
}

/// How long a trial of `test` takes: boot (growing with vCPUs under TCG), the scheduler's attach, the
/// scenario and teardown. Calibrated on a 2-CPU TCG host, where a 4-vCPU 2 s scenario takes about 7 s.
pub fn estimate(test: &VmTest, accel: Accel) -> Duration {
    if test.host_only {
        return test.duration + Duration::from_secs(1);
    }
    let cpus = f64::from(test.vm_topology().total_cpus());
    let (boot, attach) = match accel {
        Accel::Tcg => (3.0 + 0.5 * cpus, 2.0),
        Accel::Kvm => (2.0, 0.5),
    };
    let attach = if test.scheduler.is_eevdf() {
        0.0
    } else {
        attach
    };
    Duration::from_secs_f64(boot + attach + 1.0) + test.duration
}

/// The triples a trial of `test` covers.
pub fn covers(test: &VmTest) -> BTreeSet<String> {
    let profile = test
        .scheduler
        .with_profile(test.profile.as_deref().unwrap_or("default"))
        .map(|s| s.profile())
        .unwrap_or_default();
    let mut flags: Vec<&str> = profile.flags().iter().map(|f| f.name).collect();
    if flags.is_empty() {
        flags.push("default");
    }
    let mut out = BTreeSet::new();
    for feature in features(&test.vm_topology()) {
        for flag in &flags {
            out.insert(format!("{}:{feature}:{flag}", test.name));
        }
    }
    out
}

/// The wall time of the newest run record of each trial name in the run directories under `runs_dir`
/// (and loose records in it, from before run directories).
pub fn measured_walls(runs_dir: &Path) -> HashMap<String, Duration> {
    let mut newest: HashMap<String, (std::time::SystemTime, Duration)> = HashMap::new();
    let Ok(entries) = std::fs::read_dir(runs_dir) else {
        return HashMap::new();
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        match entry.path().is_dir() {
            true => files.extend(
                std::fs::read_dir(entry.path())
                    .into_iter()
                    .flatten()
                    .flatten(),
            ),
            false => files.push(entry),
        }
    }
    for entry in files {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let modified = entry
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        let Some(record) = std::fs::read(&path)
            .ok()
            .and_then(|bytes| crate::runs::TrialRecord::parse(&bytes).ok())
        else {
            continue;
        };
        // What the trial costs by itself: its wall less the time it waited for host CPUs other VMs held.
        let timings = record.outcome.timings;
        let wall_ms = timings.wall_ms.saturating_sub(timings.start_wait_ms);
        let seen = newest
            .entry(record.outcome.trial.name)
            .or_insert((modified, Duration::ZERO));
        if modified >= seen.0 {
            *seen = (modified, Duration::from_millis(wall_ms));
        }
    }
    newest.into_iter().map(|(k, (_, d))| (k, d)).collect()
}

/// A 64-bit FNV-1a of `name` and `seed`: a stable tie-break, the same on every machine.
fn tie_break(name: &str, seed: u64) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The greedy selection described in the module docs.
pub fn select(candidates: &[Candidate], budget: Duration, seed: u64) -> Selection {
    let coverable: BTreeSet<&String> = candidates.iter().flat_map(|c| &c.covers).collect();
    let mut covered: BTreeSet<&String> = BTreeSet::new();
    let mut chosen = Vec::new();
    let mut spent = Duration::ZERO;
    let mut left: Vec<usize> = (0..candidates.len()).collect();
    loop {
        let best = left
            .iter()
            .copied()
            .filter(|i| spent + candidates[*i].cost <= budget)
            .map(|i| {
                let new = candidates[i]
                    .covers
                    .iter()
                    .filter(|t| !covered.contains(t))
                    .count();
                let rate = new as f64 / candidates[i].cost.as_secs_f64().max(0.001);
                (i, new, rate)
            })
            .filter(|(_, new, _)| *new > 0)
            .max_by(|a, b| {
                a.2.total_cmp(&b.2).then_with(|| {
                    tie_break(&candidates[b.0].name, seed)
                        .cmp(&tie_break(&candidates[a.0].name, seed))
                })
            });
        let Some((i, _, _)) = best else { break };
        spent += candidates[i].cost;
        covered.extend(&candidates[i].covers);
        chosen.push(i);
        left.retain(|j| *j != i);
    }
    Selection {
        chosen,
        cost: spent,
        covered: covered.len(),
        coverable: coverable.len(),
    }
}

#[cfg(test)]
#[path = "budget_tests.rs"]
mod tests;
