//! `--html FILE`: a self-contained report — the tables, and for every row past both gates (and every
//! outcome change's variant) a strip plot of both sides' repeats, drawn as inline SVG by plotters. No
//! scripts, no fonts, no network.

use std::fmt::Write;

use plotters::prelude::*;

use super::render::{num, percent, undetectable_note, verdict};
use super::{Comparison, MetricRow, RowVerdict};

/// The report as one HTML document.
pub fn html_report(c: &Comparison) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>ktstr stats compare</h1><p>base <code>{}</code> → new <code>{}</code></p>",
        escape(&c.base),
        escape(&c.new)
    );
    if let Some(why) = &c.refusal {
        let _ = write!(body, "<p class=bad>not compared: {}</p>", escape(why));
    }
    for w in &c.warnings {
        let _ = write!(body, "<p class=warn>warning: {}</p>", escape(w));
    }
    let _ = write!(
        body,
        "<p class={}>{}</p>",
        if c.regressed() { "bad" } else { "good" },
        if c.regressed() {
            "REGRESSION"
        } else {
            "no regression"
        }
    );
    body += &outcome_changes(c);
    body += &changed_metrics(c);
    body += &every_metric(c);
    body += &one_sided_metrics(c);
    format!(
        "<!DOCTYPE html><html><head><meta charset=utf-8><title>ktstr stats compare {} → {}</title><style>\
         body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;font-size:12px}}\
         td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}figure{{display:inline-block;margin:8px;\
         border:1px solid #ddd;padding:6px}}figcaption{{font-size:12px;max-width:420px}}.bad{{color:#b00;font-weight:bold}}\
         .good{{color:#070;font-weight:bold}}.warn{{color:#a60}}</style></head><body>{body}</body></html>",
        escape(&c.base),
        escape(&c.new)
    )
}

fn outcome_changes(c: &Comparison) -> String {
    if c.outcome_changes.is_empty() {
        return String::new();
    }
    let mut out =
        String::from("<h2>Outcome changes</h2><table><tr><th>variant<th>base<th>new<th></tr>");
    for change in &c.outcome_changes {
        let _ = write!(
            out,
            "<tr><td>{}<td>{}<td>{}<td>{}</tr>",
            escape(&change.trial),
            escape(&change.base),
            escape(&change.new),
            if change.regression {
                "REGRESSION"
            } else {
                "changed"
            }
        );
    }
    out + "</table>"
}

/// A strip plot for every row past both gates.
fn changed_metrics(c: &Comparison) -> String {
    let changed: Vec<&MetricRow> = c
        .rows
        .iter()
        .filter(|r| {
            matches!(
                r.verdict,
                RowVerdict::Regression | RowVerdict::Improvement | RowVerdict::Changed
            )
        })
        .collect();
    let mut out = format!(
        "<h2>Changed metrics ({})</h2><p>Each dot is one repeat; the bar is the median. A row is changed when \
         the Mann–Whitney test over the repeats passes q ≤ {} after the Benjamini–Hochberg correction and \
         the median moved by at least {:.0}% and the metric's floor.</p>",
        changed.len(),
        c.options_alpha,
        c.options_min_effect * 100.0
    );
    for row in &changed {
        let _ = write!(
            out,
            "<figure><figcaption><b>{}</b> — {} — {} → {} ({}, q = {}) <b>{}</b></figcaption>{}</figure>",
            escape(&row.trial),
            escape(&row.metric),
            num(row.base_median),
            num(row.new_median),
            percent(row.relative_change),
            row.q.map_or("-".into(), |q| format!("{q:.4}")),
            verdict(row.verdict),
            strip_plot(row)
        );
    }
    out
}

fn every_metric(c: &Comparison) -> String {
    let mut out = String::from(
        "<h2>Every metric</h2><table><tr><th>variant<th>metric<th>base median<th>new median<th>change<th>p\
         <th>q<th>verdict</tr>",
    );
    for r in &c.rows {
        let _ = write!(
            out,
            "<tr><td>{}<td>{}<td>{}<td>{}<td>{}<td>{}<td>{}<td>{}</tr>",
            escape(&r.trial),
            escape(&r.metric),
            num(r.base_median),
            num(r.new_median),
            percent(r.relative_change),
            r.p.map_or("-".into(), |p| format!("{p:.4}")),
            r.q.map_or("-".into(), |q| format!("{q:.4}")),
            verdict(r.verdict)
        );
    }
    out += "</table>";
    if c.count(RowVerdict::Undetectable) > 0 {
        let _ = write!(out, "<p class=warn>{}</p>", escape(&undetectable_note(c)));
    }
    out
}

fn one_sided_metrics(c: &Comparison) -> String {
    if c.metrics_only_in_base.is_empty() && c.metrics_only_in_new.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<h2>Metrics measured by one run only</h2><table><tr><th>variant<th>metric<th>median<th></tr>",
    );
    let sides = [
        (&c.metrics_only_in_base, "gone"),
        (&c.metrics_only_in_new, "new only"),
    ];
    for (list, label) in sides {
        for m in list {
            let _ = write!(
                out,
                "<tr><td>{}<td>{}<td>{} n={}<td>{label}</tr>",
                escape(&m.trial),
                escape(&m.metric),
                num(m.median),
                m.values.len()
            );
        }
    }
    out + "</table>"
}

/// Both sides' repeats as dots over two columns, with each median as a bar.
fn strip_plot(row: &MetricRow) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (420, 260)).into_drawing_area();
        let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let all = row.base.iter().chain(&row.new).copied();
            let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.05).max(1e-9);
            let mut chart = ChartBuilder::on(&root)
                .margin(10)
                .x_label_area_size(24)
                .y_label_area_size(56)
                .build_cartesian_2d(-0.5f64..1.5f64, (lo - pad)..(hi + pad))?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(2)
                .x_label_formatter(&|x| match x.round() as i64 {
                    0 => "base".into(),
                    1 => "new".into(),
                    _ => String::new(),
                })
                .y_desc(row.metric.rsplit('/').next().unwrap_or(""))
                .draw()?;
            for (column, values, color) in [(0.0, &row.base, BLUE), (1.0, &row.new, RED)] {
                let n = values.len().max(1) as f64;
                chart.draw_series(values.iter().enumerate().map(|(i, v)| {
                    let jitter = (i as f64 - (n - 1.0) / 2.0) * 0.25 / n;
                    Circle::new((column + jitter, *v), 4, color.mix(0.7).filled())
                }))?;
                let m = super::median(values);
                chart.draw_series(LineSeries::new(
                    [(column - 0.25, m), (column + 0.25, m)],
                    color.stroke_width(2),
                ))?;
            }
            root.present()?;
            Ok(())
        })();
        if let Err(e) = drawn {
            return format!(
                "<p class=warn>plot not drawn: {}</p>",
                escape(&e.to_string())
            );
        }
    }
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
