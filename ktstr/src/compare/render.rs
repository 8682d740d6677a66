//! A comparison for people (tables) and for machines (JSON).

use std::fmt::Write;

use super::{Comparison, RowVerdict};

/// The comparison as text: refusal or warnings, outcome changes first, then the rows past both gates, then
/// counts of the rest, then the metrics only one side measured. `all` lists the other rows too.
pub fn render_table(c: &Comparison, all: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "ktstr stats compare: base {} → new {}", c.base, c.new);
    if let Some(why) = &c.refusal {
        let _ = writeln!(out, "not compared: {why}");
        return out;
    }
    for warning in &c.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    if !c.outcome_changes.is_empty() {
        let _ = writeln!(out, "outcome changes:\n{}", outcome_table(c));
    }
    if let Some(table) = rows_table(c, all) {
        let _ = writeln!(out, "{table}");
    }
    let _ = writeln!(out, "{}", summary(c));
    if c.count(RowVerdict::Undetectable) > 0 {
        let _ = writeln!(out, "{}", undetectable_note(c));
    }
    for (side, list) in [("base", &c.only_in_base), ("new", &c.only_in_new)] {
        if !list.is_empty() {
            let _ = writeln!(out, "variants only in {side}: {}", list.join(", "));
        }
    }
    if let Some(table) = one_sided_table(c) {
        let _ = writeln!(out, "metrics measured by one run only:\n{table}");
    }
    let _ = writeln!(
        out,
        "{}",
        match c.regressed() {
            true => "verdict: REGRESSION",
            false => "verdict: no regression",
        }
    );
    out
}

fn outcome_table(c: &Comparison) -> comfy_table::Table {
    let mut table = table(["variant", "base", "new", ""]);
    for change in &c.outcome_changes {
        table.add_row([
            change.trial.clone(),
            change.base.clone(),
            change.new.clone(),
            match change.regression {
                true => "REGRESSION",
                false => "changed",
            }
            .to_string(),
        ]);
    }
    table
}

/// The rows past both gates, or every row with `all`; `None` when that is none.
fn rows_table(c: &Comparison, all: bool) -> Option<comfy_table::Table> {
    let shown: Vec<_> = c
        .rows
        .iter()
        .filter(|r| all || !matches!(r.verdict, RowVerdict::Noise | RowVerdict::Undetectable))
        .collect();
    if shown.is_empty() {
        return None;
    }
    let mut table = table([
        "variant",
        "metric",
        "base median (IQR)",
        "new median (IQR)",
        "change",
        "p",
        "q",
        "verdict",
    ]);
    for r in shown {
        table.add_row([
            r.trial.clone(),
            r.metric.clone(),
            format!(
                "{} ({}) n={}",
                num(r.base_median),
                num(r.base_iqr),
                r.base.len()
            ),
            format!(
                "{} ({}) n={}",
                num(r.new_median),
                num(r.new_iqr),
                r.new.len()
            ),
            percent(r.relative_change),
            r.p.map_or("-".into(), |p| format!("{p:.4}")),
            r.q.map_or("-".into(), |q| format!("{q:.4}")),
            verdict(r.verdict).to_string(),
        ]);
    }
    Some(table)
}

fn summary(c: &Comparison) -> String {
    format!(
        "{} metric rows: {} regression(s), {} improvement(s), {} changed, {} within noise, {} undetectable at \
         this repeat count (q ≤ {} and |change| ≥ {:.0}% and above the metric's floor)",
        c.rows.len(),
        c.count(RowVerdict::Regression),
        c.count(RowVerdict::Improvement),
        c.count(RowVerdict::Changed),
        c.count(RowVerdict::Noise),
        c.count(RowVerdict::Undetectable),
        c.options_alpha,
        c.options_min_effect * 100.0
    )
}

/// Why some rows have no verdict, and the repeats that would give them one.
pub(super) fn undetectable_note(c: &Comparison) -> String {
    let why = format!(
        "undetectable at this repeat count: with these repeats, even every repeat of one side above every \
         repeat of the other would not reach q ≤ {} after the Benjamini–Hochberg correction",
        c.options_alpha
    );
    match c.repeats_to_detect {
        Some(n) => format!(
            "{why}; {n} repeats per side let a complete separation of any one of the {} rows pass on its own \
             (--repeat {n}, KTSTR_REPEAT={n})",
            c.rows.len()
        ),
        None => format!("{why}; even 100 repeats per side would not: raise --alpha or compare fewer variants"),
    }
}

fn one_sided_table(c: &Comparison) -> Option<comfy_table::Table> {
    if c.metrics_only_in_base.is_empty() && c.metrics_only_in_new.is_empty() {
        return None;
    }
    let mut table = table(["variant", "metric", "median", ""]);
    let sides = [
        (&c.metrics_only_in_base, "gone"),
        (&c.metrics_only_in_new, "new only"),
    ];
    for (list, label) in sides {
        for m in list {
            table.add_row([
                m.trial.clone(),
                m.metric.clone(),
                format!("{} n={}", num(m.median), m.values.len()),
                label.to_string(),
            ]);
        }
    }
    Some(table)
}

/// The comparison as one JSON document.
pub fn render_json(c: &Comparison) -> String {
    serde_json::to_string_pretty(c)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()))
}

fn table<const N: usize>(header: [&str; N]) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::ASCII_BORDERS_ONLY_CONDENSED)
        .set_header(header);
    table
}

pub(super) fn verdict(v: RowVerdict) -> &'static str {
    match v {
        RowVerdict::Regression => "REGRESSION",
        RowVerdict::Improvement => "improvement",
        RowVerdict::Changed => "changed",
        RowVerdict::Noise => "noise",
        RowVerdict::Undetectable => "undetectable at this repeat count",
    }
}

pub(super) fn num(x: f64) -> String {
    match x.abs() {
        v if v >= 1000.0 => format!("{x:.0}"),
        v if v >= 10.0 => format!("{x:.1}"),
        _ => format!("{x:.2}"),
    }
}

pub(super) fn percent(x: f64) -> String {
    match x.is_finite() {
        true => format!("{:+.1}%", x * 100.0),
        false => "from 0".into(),
    }
}
