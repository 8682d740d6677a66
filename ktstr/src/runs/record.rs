//! One trial's record: the outcome the host reached (what ran where, with the kernel's and the scheduler
//! binary's identity) with the run and repeat it belongs to, and every metric the checks saw, flattened to
//! `cgroup/metric` names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::assert::AssertResult;
use crate::outcome::{OutcomeKind, TrialOutcome};

/// The record format written now. 0: the flat files of before run directories (no stamps, no metrics);
/// 1: the outcome's 30 fields flattened into the record; 2: the outcome as named parts under `outcome`.
pub const SCHEMA_VERSION: u32 = 2;

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

/// One trial's record, written and read by this one type: the outcome with the run it belongs to, the
/// repeat, and every metric the checks saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    pub schema_version: u32,
    pub run_id: String,
    pub repeat: u32,
    /// `cgroup/metric` → value (`metrics_of`).
    pub metrics: BTreeMap<String, f64>,
    pub outcome: TrialOutcome,
}

impl TrialRecord {
    /// The record of `outcome`, repeat `repeat` of run `run_id`, with its metrics.
    pub fn new(outcome: TrialOutcome, run_id: &str, repeat: u32) -> TrialRecord {
        let duration_s = outcome.trial.duration_ms as f64 / 1000.0;
        TrialRecord {
            schema_version: SCHEMA_VERSION,
            run_id: run_id.to_string(),
            repeat,
            metrics: outcome
                .result()
                .map(|r| metrics_of(r, duration_s))
                .unwrap_or_default(),
            outcome,
        }
    }

    /// A record from its JSON, or why it is not one this ktstr reads (naming the schema version).
    pub fn parse(bytes: &[u8]) -> Result<TrialRecord, String> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: Option<u32>,
        }
        let version = serde_json::from_slice::<Version>(bytes)
            .map_err(|e| format!("not a run record: {e}"))?
            .schema_version
            .unwrap_or(0);
        match version.cmp(&SCHEMA_VERSION) {
            std::cmp::Ordering::Greater => Err(format!(
                "schema version {version} is newer than this ktstr reads ({SCHEMA_VERSION}); update ktstr"
            )),
            std::cmp::Ordering::Less => Err(format!(
                "schema version {version} was written by an earlier ktstr, which this one ({SCHEMA_VERSION}) \
                 no longer reads; run the trials again to compare them"
            )),
            std::cmp::Ordering::Equal => serde_json::from_slice(bytes)
                .map_err(|e| format!("schema version {version} record: {e}")),
        }
    }

    /// The trial's name.
    pub fn test(&self) -> &str {
        &self.outcome.trial.name
    }

    pub fn kind(&self) -> OutcomeKind {
        self.outcome.verdict.kind
    }

    /// Whether the outcome is the one the test expects.
    pub fn ok(&self) -> bool {
        self.outcome.verdict.as_expected
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
    fn a_record_reads_back_as_written() {
        let outcome = crate::outcome::sample(OutcomeKind::ChecksFailed);
        let record = TrialRecord::new(outcome, "run-1", 2);
        assert!(
            record.metrics.contains_key("cg_0/spread_pct"),
            "{:?}",
            record.metrics
        );
        let json = serde_json::to_vec_pretty(&record).unwrap();
        let back = TrialRecord::parse(&json).unwrap();
        assert_eq!(back, record);
        assert_eq!(
            (back.test(), back.kind(), back.ok()),
            ("t/eevdf/1n1l2c1t/default", OutcomeKind::ChecksFailed, false)
        );
    }

    #[test]
    fn records_of_other_schema_versions_are_refused_naming_the_version() {
        let v1 = br#"{"schema_version":1,"test":"a","kind":"Passed","wall_ms":7000}"#;
        let why = TrialRecord::parse(v1).unwrap_err();
        assert!(
            why.contains("schema version 1 was written by an earlier ktstr"),
            "{why}"
        );
        let v0 = br#"{"test":"a","kind":"Passed","wall_ms":7000}"#;
        assert!(TrialRecord::parse(v0)
            .unwrap_err()
            .contains("schema version 0"));
        let future = br#"{"schema_version":99,"test":"a","kind":"Passed"}"#;
        assert!(TrialRecord::parse(future).unwrap_err().contains("newer"));
        assert!(TrialRecord::parse(b"\"text\"")
            .unwrap_err()
            .contains("not a run record"));
        let renamed = serde_json::to_string(&TrialRecord::new(
            crate::outcome::sample(OutcomeKind::Passed),
            "r",
            0,
        ))
        .unwrap()
        .replace("\"verdict\"", "\"judgement\"");
        let why = TrialRecord::parse(renamed.as_bytes()).unwrap_err();
        assert!(why.contains("missing field `verdict`"), "{why}");
    }
}
