//! One trial's record: the verdict the host reached (`TrialOutcome`, flattened) plus what it ran on — the
//! kernel's cache key, version, config hash and image digest, the scheduler binary's digest, the preset and
//! guest memory — and every metric the checks saw, flattened to `cgroup/metric` names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::assert::AssertResult;
use crate::harness::OutcomeKind;

/// The record format written now. 0: the flat files of before run directories (no stamps, no metrics).
pub const SCHEMA_VERSION: u32 = 1;

/// The kernel a trial booted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct KernelStamp {
    /// The cache key (`6.12.117-kcc8fa3a7ec293`), when it came from the cache.
    pub key: Option<String>,
    pub version: Option<String>,
    pub config_hash: Option<String>,
    pub image_sha256: String,
}

/// A metric's name and what direction is worse, for comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Spread,
    MaxGapMs,
    OffCpuPct,
    P99WakeLatencyUs,
    MedianWakeLatencyUs,
    Migrations,
    IterationsPerSec,
    MeanRunDelayUs,
    WorstRunDelayUs,
}

impl Metric {
    pub const ALL: [Metric; 9] = [
        Metric::Spread,
        Metric::MaxGapMs,
        Metric::OffCpuPct,
        Metric::P99WakeLatencyUs,
        Metric::MedianWakeLatencyUs,
        Metric::Migrations,
        Metric::IterationsPerSec,
        Metric::MeanRunDelayUs,
        Metric::WorstRunDelayUs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::Spread => "spread_pct",
            Metric::MaxGapMs => "max_gap_ms",
            Metric::OffCpuPct => "off_cpu_pct",
            Metric::P99WakeLatencyUs => "p99_wake_latency_us",
            Metric::MedianWakeLatencyUs => "median_wake_latency_us",
            Metric::Migrations => "migrations",
            Metric::IterationsPerSec => "iterations_per_sec",
            Metric::MeanRunDelayUs => "mean_run_delay_us",
            Metric::WorstRunDelayUs => "worst_run_delay_us",
        }
    }

    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// `Some(true)` when a larger value is worse, `Some(false)` when smaller is, `None` when neither
    /// direction is a regression by itself (migrations).
    pub fn higher_is_worse(self) -> Option<bool> {
        match self {
            Metric::IterationsPerSec => Some(false),
            Metric::Migrations => None,
            _ => Some(true),
        }
    }

    /// The smallest absolute change that can matter, under which a significant shift is still noise: a
    /// spread that moves from 1 % to 2 % doubles but means nothing.
    pub fn floor(self) -> f64 {
        match self {
            Metric::Spread | Metric::OffCpuPct => 2.0,
            Metric::MaxGapMs => 10.0,
            Metric::P99WakeLatencyUs | Metric::MedianWakeLatencyUs => 50.0,
            Metric::MeanRunDelayUs | Metric::WorstRunDelayUs => 100.0,
            Metric::Migrations => 5.0,
            Metric::IterationsPerSec => 0.0,
        }
    }
}

/// `cgroup/metric` → value for every cgroup of `result` (a repeated name gets `#2`, `#3`, ...), over
/// `duration_s` for rates.
pub fn metrics_of(result: &AssertResult, duration_s: f64) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for cg in &result.stats.cgroups {
        let n = seen.entry(cg.name.as_str()).or_insert(0);
        *n += 1;
        let name = match *n {
            1 => cg.name.clone(),
            n => format!("{}#{n}", cg.name),
        };
        let values = [
            (Metric::Spread, cg.spread),
            (Metric::MaxGapMs, cg.max_gap_ms as f64),
            (Metric::OffCpuPct, cg.avg_off_cpu_pct),
            (Metric::P99WakeLatencyUs, cg.p99_wake_latency_us),
            (Metric::MedianWakeLatencyUs, cg.median_wake_latency_us),
            (Metric::Migrations, cg.total_migrations as f64),
            (
                Metric::IterationsPerSec,
                cg.total_iterations as f64 / duration_s.max(0.001),
            ),
            (Metric::MeanRunDelayUs, cg.mean_run_delay_us),
            (Metric::WorstRunDelayUs, cg.worst_run_delay_us),
        ];
        for (metric, value) in values {
            if value.is_finite() {
                out.insert(format!("{name}/{}", metric.name()), value);
            }
        }
    }
    out
}

/// A record as read back, any schema version.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TrialRecord {
    #[serde(default)]
    pub schema_version: u32,
    #[serde(default)]
    pub run_id: String,
    /// The trial's name (`fn/scheduler/topology/profile`, or `gauntlet/fn/preset/profile`).
    pub test: String,
    #[serde(default)]
    pub repeat: u32,
    pub kind: OutcomeKind,
    #[serde(default)]
    pub expected: Option<OutcomeKind>,
    #[serde(default)]
    pub as_expected: Option<bool>,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub topology: String,
    #[serde(default)]
    pub preset: Option<String>,
    #[serde(default)]
    pub scheduler: String,
    #[serde(default)]
    pub profile: String,
    #[serde(default)]
    pub scheduler_args: Vec<String>,
    #[serde(default)]
    pub scheduler_sha256: Option<String>,
    #[serde(default)]
    pub accel: String,
    #[serde(default)]
    pub kernel_stamp: Option<KernelStamp>,
    #[serde(default)]
    pub memory_mb: Option<u32>,
    #[serde(default)]
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub boot_ms: Option<u64>,
    #[serde(default)]
    pub wall_ms: u64,
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
}

impl TrialRecord {
    /// A record from its JSON, or why it is not one.
    pub fn parse(bytes: &[u8]) -> Result<TrialRecord, String> {
        let record: TrialRecord = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if record.schema_version > SCHEMA_VERSION {
            return Err(format!(
                "schema version {} is newer than this ktstr reads ({SCHEMA_VERSION}); update ktstr",
                record.schema_version
            ));
        }
        Ok(record)
    }

    /// Whether the outcome is the one the test expects (records before schema 1: whether it passed).
    pub fn ok(&self) -> bool {
        self.as_expected.unwrap_or(self.kind == OutcomeKind::Passed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::{CgroupStats, ScenarioStats};

    #[test]
    fn metrics_are_named_per_cgroup_and_repeated_names_numbered() {
        let cg = |name: &str, spread| CgroupStats {
            name: name.into(),
            spread,
            total_iterations: 1000,
            ..CgroupStats::default()
        };
        let result = AssertResult {
            stats: ScenarioStats {
                cgroups: vec![cg("a", 3.0), cg("b", 1.0), cg("a", 7.0)],
                ..ScenarioStats::default()
            },
            ..AssertResult::pass()
        };
        let m = metrics_of(&result, 2.0);
        assert_eq!(m["a/spread_pct"], 3.0);
        assert_eq!(m["a#2/spread_pct"], 7.0);
        assert_eq!(m["b/iterations_per_sec"], 500.0);
        assert_eq!(m.len(), 3 * Metric::ALL.len());
        assert!(Metric::ALL
            .iter()
            .all(|x| Metric::from_name(x.name()) == Some(*x)));
    }

    #[test]
    fn old_records_read_with_defaults_and_newer_ones_are_refused() {
        let old = br#"{"test":"a","kind":"Passed","wall_ms":7000,"unknown_field":1}"#;
        let r = TrialRecord::parse(old).unwrap();
        assert_eq!((r.schema_version, r.wall_ms, r.ok()), (0, 7000, true));
        assert!(r.metrics.is_empty());
        let future = br#"{"schema_version":99,"test":"a","kind":"Passed"}"#;
        assert!(TrialRecord::parse(future).unwrap_err().contains("newer"));
        assert!(TrialRecord::parse(b"{}").is_err());
    }
}
