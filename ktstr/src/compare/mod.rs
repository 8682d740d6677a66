//! A/B comparison of two runs: outcome changes first, then every metric of every variant both runs have,
//! judged by two gates so that noise is never called a regression — a Mann–Whitney U test over the
//! repeats, with the Benjamini–Hochberg correction across every row of the comparison, and a minimum
//! effect (a relative change and an absolute floor per metric). Runs whose stamps make them incomparable
//! (different accelerators) are refused unless forced; lesser differences (host, kernel, ktstr version)
//! are said as warnings.

mod html;
mod mann_whitney;
mod render;

pub use mann_whitney::{mann_whitney, MannWhitney};

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::harness::OutcomeKind;
use crate::runs::{Metric, Run, TrialRecord};

/// The gates of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareOptions {
    /// The false discovery rate across the comparison's rows (Benjamini–Hochberg).
    pub alpha: f64,
    /// The smallest relative change of the median that can be a regression.
    pub min_effect: f64,
    /// Compare runs whose stamps make them incomparable, with a warning instead of a refusal.
    pub force: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            alpha: 0.05,
            min_effect: 0.10,
            force: false,
        }
    }
}

/// What one metric row concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowVerdict {
    /// Worse, past both gates.
    Regression,
    /// Better, past both gates.
    Improvement,
    /// Different past both gates, for a metric with no worse direction.
    Changed,
    /// Within noise: not significant, or smaller than the minimum effect.
    Noise,
    /// Too few repeats on a side for any difference to be significant at this alpha.
    NotEnoughRepeats,
}

/// One metric of one variant, both sides.
#[derive(Debug, Clone, Serialize)]
pub struct MetricRow {
    pub trial: String,
    /// `cgroup/metric`.
    pub metric: String,
    pub base: Vec<f64>,
    pub new: Vec<f64>,
    pub base_median: f64,
    pub new_median: f64,
    /// Interquartile ranges.
    pub base_iqr: f64,
    pub new_iqr: f64,
    /// (new − base) / |base|; infinite when the base median is 0 and the new one is not.
    pub relative_change: f64,
    /// Mann–Whitney two-sided p, and the Benjamini–Hochberg q across the comparison.
    pub p: Option<f64>,
    pub q: Option<f64>,
    pub verdict: RowVerdict,
}

/// A variant whose outcomes differ between the runs.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeChange {
    pub trial: String,
    /// `Passed ×5` style counts of each side.
    pub base: String,
    pub new: String,
    /// The new run has unexpected outcomes the base did not, or a scheduler death it did not.
    pub regression: bool,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub base: String,
    pub new: String,
    pub options_alpha: f64,
    pub options_min_effect: f64,
    /// Why the runs cannot be compared; the comparison stops here unless forced.
    pub refusal: Option<String>,
    pub warnings: Vec<String>,
    pub outcome_changes: Vec<OutcomeChange>,
    pub rows: Vec<MetricRow>,
    pub only_in_base: Vec<String>,
    pub only_in_new: Vec<String>,
}

impl Comparison {
    /// Whether a regression passed both gates, or an outcome regressed: what fails a CI job.
    pub fn regressed(&self) -> bool {
        self.outcome_changes.iter().any(|c| c.regression)
            || self
                .rows
                .iter()
                .any(|r| r.verdict == RowVerdict::Regression)
    }

    pub fn count(&self, verdict: RowVerdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == verdict).count()
    }
}

/// Compares `new` against `base`.
pub fn compare(base: &Run, new: &Run, options: &CompareOptions) -> Comparison {
    let mut comparison = Comparison {
        base: base.id.clone(),
        new: new.id.clone(),
        options_alpha: options.alpha,
        options_min_effect: options.min_effect,
        refusal: None,
        warnings: Vec::new(),
        outcome_changes: Vec::new(),
        rows: Vec::new(),
        only_in_base: Vec::new(),
        only_in_new: Vec::new(),
    };
    let (refusal, warnings) = comparability(base, new);
    comparison.warnings = warnings;
    if let Some(why) = refusal {
        if !options.force {
            comparison.refusal = Some(why);
            return comparison;
        }
        comparison.warnings.insert(0, format!("forced past: {why}"));
    }
    let base_by = by_trial(&base.records);
    let new_by = by_trial(&new.records);
    for trial in base_by.keys().filter(|t| !new_by.contains_key(*t)) {
        comparison.only_in_base.push(trial.to_string());
    }
    for trial in new_by.keys().filter(|t| !base_by.contains_key(*t)) {
        comparison.only_in_new.push(trial.to_string());
    }
    for (trial, base_records) in &base_by {
        let Some(new_records) = new_by.get(trial) else {
            continue;
        };
        if let Some(change) = outcome_change(trial, base_records, new_records) {
            comparison.outcome_changes.push(change);
        }
        comparison
            .rows
            .extend(metric_rows(trial, base_records, new_records));
    }
    judge_rows(&mut comparison.rows, options);
    comparison
}

/// Whether the runs can be compared at all, and what differs between them that a reader should know.
fn comparability(base: &Run, new: &Run) -> (Option<String>, Vec<String>) {
    let accels =
        |run: &Run| -> BTreeSet<String> { run.records.iter().map(|r| r.accel.clone()).collect() };
    let (a, b) = (accels(base), accels(new));
    let refusal = (a != b).then(|| {
        format!(
            "the runs used different accelerators ({} vs {}): TCG and KVM timings are not comparable; \
             compare runs of one accelerator, or pass --force",
            join(&a),
            join(&b)
        )
    });
    let mut warnings = Vec::new();
    if let (Some(sa), Some(sb)) = (&base.stamp, &new.stamp) {
        if (sa.host.cpu_model.as_str(), sa.host.cpus) != (sb.host.cpu_model.as_str(), sb.host.cpus)
        {
            warnings.push(format!(
                "different hosts: {} ({} CPUs) vs {} ({} CPUs); absolute timings may differ for that reason",
                sa.host.cpu_model, sa.host.cpus, sb.host.cpu_model, sb.host.cpus
            ));
        }
        if sa.ktstr_version != sb.ktstr_version {
            warnings.push(format!(
                "different ktstr versions: {} vs {}",
                sa.ktstr_version, sb.ktstr_version
            ));
        }
        for (side, stamp) in [("base", sa), ("new", sb)] {
            if stamp.host.load_1m > f64::from(stamp.host.cpus) {
                warnings.push(format!(
                    "the {side} run started on a loaded host (load {:.1} on {} CPUs)",
                    stamp.host.load_1m, stamp.host.cpus
                ));
            }
        }
    } else {
        warnings.push(
            "a run has no stamp (written before run directories): what ran is unknown".into(),
        );
    }
    let kernels = |run: &Run| -> BTreeSet<String> {
        run.records
            .iter()
            .filter_map(|r| r.kernel_stamp.as_ref())
            .map(|k| {
                k.key
                    .clone()
                    .unwrap_or_else(|| k.image_sha256.chars().take(12).collect())
            })
            .collect()
    };
    let (ka, kb) = (kernels(base), kernels(new));
    if ka != kb {
        warnings.push(format!("different kernels: {} vs {}", join(&ka), join(&kb)));
    }
    (refusal, warnings)
}

fn join(set: &BTreeSet<String>) -> String {
    match set.is_empty() {
        true => "none".into(),
        false => set.iter().cloned().collect::<Vec<_>>().join(", "),
    }
}

fn by_trial(records: &[TrialRecord]) -> BTreeMap<&str, Vec<&TrialRecord>> {
    let mut out: BTreeMap<&str, Vec<&TrialRecord>> = BTreeMap::new();
    for r in records {
        out.entry(r.test.as_str()).or_default().push(r);
    }
    out
}

/// `Passed ×4, SchedulerDied ×1`.
fn counts(records: &[&TrialRecord]) -> String {
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for r in records {
        let mark = if r.ok() { "" } else { " (unexpected)" };
        *by.entry(format!("{:?}{mark}", r.kind)).or_default() += 1;
    }
    by.iter()
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn outcome_change(
    trial: &str,
    base: &[&TrialRecord],
    new: &[&TrialRecord],
) -> Option<OutcomeChange> {
    let kinds = |rs: &[&TrialRecord]| -> BTreeSet<(OutcomeKind, bool)> {
        rs.iter().map(|r| (r.kind, r.ok())).collect()
    };
    if kinds(base) == kinds(new) {
        return None;
    }
    let unexpected =
        |rs: &[&TrialRecord]| rs.iter().filter(|r| !r.ok()).count() as f64 / rs.len() as f64;
    let died = |rs: &[&TrialRecord]| rs.iter().any(|r| r.kind == OutcomeKind::SchedulerDied);
    Some(OutcomeChange {
        trial: trial.to_string(),
        base: counts(base),
        new: counts(new),
        regression: unexpected(new) > unexpected(base) || (died(new) && !died(base)),
    })
}

fn metric_rows(trial: &str, base: &[&TrialRecord], new: &[&TrialRecord]) -> Vec<MetricRow> {
    let names: BTreeSet<&String> = base.iter().flat_map(|r| r.metrics.keys()).collect();
    let mut rows = Vec::new();
    for name in names {
        let values = |rs: &[&TrialRecord]| -> Vec<f64> {
            rs.iter()
                .filter_map(|r| r.metrics.get(name).copied())
                .collect()
        };
        let (b, n) = (values(base), values(new));
        if b.is_empty() || n.is_empty() {
            continue;
        }
        let (bm, nm) = (median(&b), median(&n));
        let relative_change = match bm == 0.0 {
            true if nm == 0.0 => 0.0,
            true => f64::INFINITY.copysign(nm),
            false => (nm - bm) / bm.abs(),
        };
        rows.push(MetricRow {
            trial: trial.to_string(),
            metric: name.clone(),
            base_iqr: iqr(&b),
            new_iqr: iqr(&n),
            base_median: bm,
            new_median: nm,
            relative_change,
            p: None,
            q: None,
            verdict: RowVerdict::Noise,
            base: b,
            new: n,
        });
    }
    rows
}

/// Fills p, q and the verdict of every row.
fn judge_rows(rows: &mut [MetricRow], options: &CompareOptions) {
    for row in rows.iter_mut() {
        let test = mann_whitney(&row.new, &row.base);
        match test {
            Some(t) if t.min_p <= options.alpha => row.p = Some(t.p),
            _ => row.verdict = RowVerdict::NotEnoughRepeats,
        }
    }
    // Benjamini–Hochberg over the rows that were tested.
    let mut tested: Vec<usize> = (0..rows.len()).filter(|i| rows[*i].p.is_some()).collect();
    tested.sort_by(|a, b| {
        rows[*a]
            .p
            .unwrap_or(1.0)
            .total_cmp(&rows[*b].p.unwrap_or(1.0))
    });
    let m = tested.len() as f64;
    let mut running_min: f64 = 1.0;
    for (rank, &i) in tested.iter().enumerate().rev() {
        let p = rows[i].p.unwrap_or(1.0);
        running_min = running_min.min(p * m / (rank + 1) as f64);
        rows[i].q = Some(running_min.min(1.0));
    }
    for row in rows.iter_mut().filter(|r| r.q.is_some()) {
        let metric = row.metric.rsplit('/').next().and_then(Metric::from_name);
        let significant = row.q.is_some_and(|q| q <= options.alpha);
        let big = row.relative_change.abs() >= options.min_effect
            && (row.new_median - row.base_median).abs() >= metric.map_or(0.0, Metric::floor);
        row.verdict = match (significant && big, metric.and_then(Metric::higher_is_worse)) {
            (false, _) => RowVerdict::Noise,
            (true, None) => RowVerdict::Changed,
            (true, Some(higher_worse)) => {
                match (row.new_median > row.base_median) == higher_worse {
                    true => RowVerdict::Regression,
                    false => RowVerdict::Improvement,
                }
            }
        };
    }
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// The `q` quantile by linear interpolation.
fn quantile(values: &[f64], q: f64) -> f64 {
    let v = sorted(values);
    if v.is_empty() {
        return f64::NAN;
    }
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

fn iqr(values: &[f64]) -> f64 {
    quantile(values, 0.75) - quantile(values, 0.25)
}

pub use html::html_report;
pub use render::{render_json, render_table};

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
