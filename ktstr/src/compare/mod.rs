//! A/B comparison of two runs: outcome changes first, then every metric of every variant both runs have,
//! judged by two gates so that noise is never called a regression — a Mann–Whitney U test over the
//! repeats, with the Benjamini–Hochberg correction across every row of the comparison, and a minimum
//! effect (a relative change and an absolute floor per metric). A row that even a complete separation of
//! its repeats could not pass is undetectable, not noise. Metrics only one run measured are listed. Runs
//! whose stamps make them incomparable (different accelerators) are refused unless forced; lesser
//! differences (host, kernel, ktstr version) are said as warnings.

mod fdr;
mod html;
mod mann_whitney;
mod render;

pub use mann_whitney::{mann_whitney, MannWhitney};

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::outcome::OutcomeKind;
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
    /// Within noise: could have passed q ≤ alpha but did not, or smaller than the minimum effect.
    Noise,
    /// Cannot tell: even a complete separation of the repeats would not pass q ≤ alpha in this comparison.
    Undetectable,
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
    /// Mann–Whitney two-sided p, and the Benjamini–Hochberg q across the comparison; `None` when the row
    /// was left out of the correction because `min_p` > alpha.
    pub p: Option<f64>,
    pub q: Option<f64>,
    /// The smallest p these sample sizes reach: that of a complete separation.
    pub min_p: Option<f64>,
    /// The q this row would get with p = `min_p` and every other row unchanged; above alpha the row is
    /// undetectable at this repeat count.
    pub best_q: Option<f64>,
    pub verdict: RowVerdict,
}

/// A metric of a variant both runs have that only one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct OneSidedMetric {
    pub trial: String,
    /// `cgroup/metric`.
    pub metric: String,
    /// The repeats of the side that has it.
    pub values: Vec<f64>,
    pub median: f64,
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
    /// The repeats per side from which a complete separation of any one row passes q ≤ alpha even when it
    /// is the only one: smallest_p(n, n) · rows ≤ alpha. `None` past 100.
    pub repeats_to_detect: Option<usize>,
    /// Variants only one run has.
    pub only_in_base: Vec<String>,
    pub only_in_new: Vec<String>,
    /// Metrics the base measured and the new run did not (gone), and the reverse (new only).
    pub metrics_only_in_base: Vec<OneSidedMetric>,
    pub metrics_only_in_new: Vec<OneSidedMetric>,
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
        repeats_to_detect: None,
        only_in_base: Vec::new(),
        only_in_new: Vec::new(),
        metrics_only_in_base: Vec::new(),
        metrics_only_in_new: Vec::new(),
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
        add_metrics(&mut comparison, trial, base_records, new_records);
    }
    judge_rows(&mut comparison.rows, options);
    comparison.repeats_to_detect = fdr::repeats_to_detect(comparison.rows.len(), options.alpha);
    comparison
}

/// Whether the runs can be compared at all, and what differs between them that a reader should know.
fn comparability(base: &Run, new: &Run) -> (Option<String>, Vec<String>) {
    let mut warnings = stamp_warnings(base, new);
    warnings.extend(kernel_warning(base, new));
    (refusal(base, new), warnings)
}

/// Why the runs cannot be compared: they ran on different accelerators.
fn refusal(base: &Run, new: &Run) -> Option<String> {
    let accels = |run: &Run| -> BTreeSet<String> {
        run.records
            .iter()
            .map(|r| r.outcome.vm.accel.to_string())
            .collect()
    };
    let (a, b) = (accels(base), accels(new));
    (a != b).then(|| {
        format!(
            "the runs used different accelerators ({} vs {}): TCG and KVM timings are not comparable; \
             compare runs of one accelerator, or pass --force",
            join(&a),
            join(&b)
        )
    })
}

/// What the runs' stamps say differs between them: host, ktstr version, a loaded host, a missing stamp.
fn stamp_warnings(base: &Run, new: &Run) -> Vec<String> {
    let (Some(sa), Some(sb)) = (&base.stamp, &new.stamp) else {
        return vec![
            "a run has no stamp (written before run directories): what ran is unknown".into(),
        ];
    };
    let mut warnings = Vec::new();
    if (sa.host.cpu_model.as_str(), sa.host.cpus) != (sb.host.cpu_model.as_str(), sb.host.cpus) {
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
    warnings
}

/// The kernels the runs booted, when they differ.
fn kernel_warning(base: &Run, new: &Run) -> Option<String> {
    let kernels = |run: &Run| -> BTreeSet<String> {
        run.records
            .iter()
            .map(|r| &r.outcome.vm.kernel_stamp)
            .map(|k| {
                k.key
                    .clone()
                    .unwrap_or_else(|| k.image_sha256.chars().take(12).collect())
            })
            .collect()
    };
    let (ka, kb) = (kernels(base), kernels(new));
    (ka != kb).then(|| format!("different kernels: {} vs {}", join(&ka), join(&kb)))
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
        out.entry(r.test()).or_default().push(r);
    }
    out
}

/// `Passed ×4, SchedulerDied ×1`.
fn counts(records: &[&TrialRecord]) -> String {
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for r in records {
        let mark = if r.ok() { "" } else { " (unexpected)" };
        *by.entry(format!("{:?}{mark}", r.kind())).or_default() += 1;
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
        rs.iter().map(|r| (r.kind(), r.ok())).collect()
    };
    if kinds(base) == kinds(new) {
        return None;
    }
    let unexpected =
        |rs: &[&TrialRecord]| rs.iter().filter(|r| !r.ok()).count() as f64 / rs.len() as f64;
    let died = |rs: &[&TrialRecord]| rs.iter().any(|r| r.kind() == OutcomeKind::SchedulerDied);
    Some(OutcomeChange {
        trial: trial.to_string(),
        base: counts(base),
        new: counts(new),
        regression: unexpected(new) > unexpected(base) || (died(new) && !died(base)),
    })
}

/// The metric rows of one variant, and the metrics only one side measured.
fn add_metrics(c: &mut Comparison, trial: &str, base: &[&TrialRecord], new: &[&TrialRecord]) {
    let names: BTreeSet<&String> = base
        .iter()
        .chain(new)
        .flat_map(|r| r.metrics.keys())
        .collect();
    for name in names {
        let values = |rs: &[&TrialRecord]| -> Vec<f64> {
            rs.iter()
                .filter_map(|r| r.metrics.get(name).copied())
                .collect()
        };
        let one_sided = |values: Vec<f64>| OneSidedMetric {
            trial: trial.to_string(),
            metric: name.clone(),
            median: median(&values),
            values,
        };
        match (values(base), values(new)) {
            (b, n) if n.is_empty() => c.metrics_only_in_base.push(one_sided(b)),
            (b, n) if b.is_empty() => c.metrics_only_in_new.push(one_sided(n)),
            (b, n) => c.rows.push(metric_row(trial, name, b, n)),
        }
    }
}

fn metric_row(trial: &str, metric: &str, base: Vec<f64>, new: Vec<f64>) -> MetricRow {
    let (bm, nm) = (median(&base), median(&new));
    let relative_change = match bm == 0.0 {
        true if nm == 0.0 => 0.0,
        true => f64::INFINITY.copysign(nm),
        false => (nm - bm) / bm.abs(),
    };
    MetricRow {
        trial: trial.to_string(),
        metric: metric.to_string(),
        base_iqr: iqr(&base),
        new_iqr: iqr(&new),
        base_median: bm,
        new_median: nm,
        relative_change,
        p: None,
        q: None,
        min_p: None,
        best_q: None,
        verdict: RowVerdict::Undetectable,
        base,
        new,
    }
}

/// Fills p, q and the verdict of every row.
///
/// A row's p cannot go below `min_p`, that of a complete separation, and its q not below its p: a row with
/// `min_p` > alpha can never pass, and is left out of the correction (which makes it no stricter for the
/// others). Of the rest, a row that fails the gates is noise only if it could have passed: if its q with
/// p = `min_p`, every other row unchanged (`best_q`, between `min_p` and `min_p` · m), is ≤ alpha. Otherwise
/// the comparison cannot tell, and says so.
fn judge_rows(rows: &mut [MetricRow], options: &CompareOptions) {
    let mut tested = Vec::new();
    for (i, row) in rows.iter_mut().enumerate() {
        let test = mann_whitney(&row.new, &row.base);
        row.min_p = test.map(|t| t.min_p);
        if let Some(t) = test.filter(|t| t.min_p <= options.alpha) {
            tested.push((i, t));
        }
    }
    let p: Vec<f64> = tested.iter().map(|(_, t)| t.p).collect();
    let min_p: Vec<f64> = tested.iter().map(|(_, t)| t.min_p).collect();
    let (q, best_q) = (fdr::bh_q(&p), fdr::best_q(&p, &min_p));
    for (j, &(i, _)) in tested.iter().enumerate() {
        let row = &mut rows[i];
        (row.p, row.q, row.best_q) = (Some(p[j]), Some(q[j]), Some(best_q[j]));
        row.verdict = verdict(row, q[j], best_q[j], options);
    }
}

/// The verdict of a tested row with q-value `q` and best reachable q `best_q`.
fn verdict(row: &MetricRow, q: f64, best_q: f64, options: &CompareOptions) -> RowVerdict {
    let metric = row.metric.rsplit('/').next().and_then(Metric::from_name);
    let big = row.relative_change.abs() >= options.min_effect
        && (row.new_median - row.base_median).abs() >= metric.map_or(0.0, Metric::floor);
    match (
        q <= options.alpha && big,
        metric.and_then(Metric::higher_is_worse),
    ) {
        (false, _) if best_q > options.alpha => RowVerdict::Undetectable,
        (false, _) => RowVerdict::Noise,
        (true, None) => RowVerdict::Changed,
        (true, Some(higher_worse)) => match (row.new_median > row.base_median) == higher_worse {
            true => RowVerdict::Regression,
            false => RowVerdict::Improvement,
        },
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
