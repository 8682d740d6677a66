use super::*;
use crate::runs::{GitStamp, HostStamp, RunStamp, TrialRecord};

fn record(trial: &str, kind: OutcomeKind, accel: &str, metrics: &[(&str, f64)]) -> TrialRecord {
    let mut outcome = crate::outcome::sample(kind);
    outcome.trial.name = trial.into();
    outcome.trial.topology = "1n2l2c1t".into();
    outcome.scheduler.name = "scx_qmap".into();
    outcome.vm.accel = match accel {
        "Kvm" => crate::vm::Accel::Kvm,
        _ => crate::vm::Accel::Tcg,
    };
    let mut record = TrialRecord::new(outcome, "", 0);
    record.metrics = metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    record
}

fn run(id: &str, records: Vec<TrialRecord>) -> Run {
    Run {
        id: id.into(),
        path: id.into(),
        stamp: Some(RunStamp {
            schema_version: 1,
            id: id.into(),
            ktstr_version: "0.1.0".into(),
            started_unix: 0,
            started_utc: String::new(),
            command: vec![],
            cwd: String::new(),
            git: Some(GitStamp {
                commit: "c".repeat(40),
                dirty: false,
            }),
            host: HostStamp {
                hostname: "h".into(),
                cpu_model: "cpu".into(),
                cpus: 2,
                mem_total_mb: 1024,
                load_1m: 0.0,
            },
        }),
        records,
        unreadable: vec![],
    }
}

/// `n` repeats of one trial with a gap metric drawn from `values`.
fn repeats(values: &[f64], kind: OutcomeKind) -> Vec<TrialRecord> {
    values
        .iter()
        .map(|v| {
            record(
                "t/scx_qmap/1n2l2c1t/default",
                kind,
                "Tcg",
                &[("cg_0/max_gap_ms", *v), ("cg_0/migrations", 10.0)],
            )
        })
        .collect()
}

#[test]
fn a_clear_shift_past_both_gates_is_a_regression_and_fails_the_comparison() {
    let base = run(
        "a",
        repeats(&[20.0, 22.0, 21.0, 23.0, 19.0], OutcomeKind::Passed),
    );
    let new = run(
        "b",
        repeats(&[95.0, 101.0, 99.0, 104.0, 97.0], OutcomeKind::Passed),
    );
    let c = compare(&base, &new, &CompareOptions::default());
    let gap = c
        .rows
        .iter()
        .find(|r| r.metric == "cg_0/max_gap_ms")
        .unwrap();
    assert_eq!(gap.verdict, RowVerdict::Regression);
    assert_eq!((gap.base_median, gap.new_median), (21.0, 99.0));
    assert!(gap.p.unwrap() < 0.01);
    assert!(c.regressed());
    let reverse = compare(&new, &base, &CompareOptions::default());
    assert!(!reverse.regressed());
    assert_eq!(reverse.count(RowVerdict::Improvement), 1);
    let text = render_table(&c, false);
    assert!(
        text.contains("REGRESSION") && text.contains("cg_0/max_gap_ms"),
        "{text}"
    );
    assert!(render_json(&c).contains("\"verdict\": \"regression\""));
    let html = html_report(&c);
    assert!(
        html.contains("<svg") && html.contains("max_gap_ms"),
        "no plot in the report"
    );
}

#[test]
fn noise_and_small_effects_are_never_regressions() {
    let base = run(
        "a",
        repeats(&[20.0, 30.0, 25.0, 22.0, 28.0], OutcomeKind::Passed),
    );
    let overlapping = run(
        "b",
        repeats(&[24.0, 29.0, 21.0, 31.0, 26.0], OutcomeKind::Passed),
    );
    let c = compare(&base, &overlapping, &CompareOptions::default());
    assert!(!c.regressed());
    assert!(c.rows.iter().all(|r| r.verdict == RowVerdict::Noise));
    // Significant but under the gap's 10 ms floor: 20 → 26 ms, every repeat apart.
    let tight = run(
        "c",
        repeats(&[20.0, 20.5, 21.0, 20.2, 20.8], OutcomeKind::Passed),
    );
    let shifted = run(
        "d",
        repeats(&[26.0, 26.5, 27.0, 26.2, 26.8], OutcomeKind::Passed),
    );
    let c = compare(&tight, &shifted, &CompareOptions::default());
    let gap = c
        .rows
        .iter()
        .find(|r| r.metric == "cg_0/max_gap_ms")
        .unwrap();
    assert!(gap.q.unwrap() <= 0.05);
    assert_eq!(gap.verdict, RowVerdict::Noise);
}

#[test]
fn too_few_repeats_say_so_instead_of_a_verdict() {
    let base = run("a", repeats(&[20.0, 21.0, 22.0], OutcomeKind::Passed));
    let new = run("b", repeats(&[90.0, 91.0, 92.0], OutcomeKind::Passed));
    let c = compare(&base, &new, &CompareOptions::default());
    // 3 against 3 cannot go below p = 0.1: left out of the correction.
    assert!(c
        .rows
        .iter()
        .all(|r| r.verdict == RowVerdict::Undetectable && r.p.is_none()));
    assert!(!c.regressed());
    // Two rows: 2 / C(8, 4) · 2 = 0.057 is not enough, 2 / C(10, 5) · 2 = 0.016 is.
    assert_eq!(c.repeats_to_detect, Some(5));
    let text = render_table(&c, false);
    assert!(
        text.contains("undetectable at this repeat count") && text.contains("--repeat 5"),
        "{text}"
    );
}

/// Five repeats of one variant with `rows` gap metrics, 20 to 24 ms; the first `shifted` moved up by `by`.
fn gap_rows(rows: usize, shifted: usize, by: f64) -> Vec<TrialRecord> {
    (0..5)
        .map(|repeat| {
            let names: Vec<String> = (0..rows).map(|k| format!("cg_{k:02}/max_gap_ms")).collect();
            let metrics: Vec<(&str, f64)> = names
                .iter()
                .enumerate()
                .map(|(k, name)| {
                    let shift = if k < shifted { by } else { 0.0 };
                    (name.as_str(), 20.0 + f64::from(repeat) + shift)
                })
                .collect();
            record(
                "t/scx_qmap/1n2l2c1t/default",
                OutcomeKind::Passed,
                "Tcg",
                &metrics,
            )
        })
        .collect()
}

#[test]
fn a_separation_the_correction_cannot_pass_is_undetectable_not_noise() {
    // 5 + 5 repeats: p = 2/252 at best. k of m rows separated get q = m · (2/252) / k; the unshifted rows
    // could reach q = m · (2/252) / (k + 1).
    let cases = [
        // (rows, separated, their verdict, the others' verdict)
        (6, 1, RowVerdict::Regression, RowVerdict::Noise),
        (7, 1, RowVerdict::Undetectable, RowVerdict::Noise),
        (18, 2, RowVerdict::Undetectable, RowVerdict::Noise),
        (18, 3, RowVerdict::Regression, RowVerdict::Noise),
        (24, 1, RowVerdict::Undetectable, RowVerdict::Undetectable),
    ];
    for (rows, separated, theirs, others) in cases {
        let base = run("a", gap_rows(rows, 0, 0.0));
        let new = run("b", gap_rows(rows, separated, 80.0));
        let c = compare(&base, &new, &CompareOptions::default());
        let verdicts: Vec<RowVerdict> = c.rows.iter().map(|r| r.verdict).collect();
        let mut want = vec![theirs; separated];
        want.resize(rows, others);
        assert_eq!(verdicts, want, "{separated} of {rows} rows separated");
        let q = c.rows[0].q.unwrap();
        assert!((q - rows as f64 * 2.0 / 252.0 / separated as f64).abs() < 1e-12);
    }
}

#[test]
fn undetectable_rows_name_the_repeats_that_would_do() {
    let c = compare(
        &run("a", gap_rows(7, 0, 0.0)),
        &run("b", gap_rows(7, 1, 80.0)),
        &CompareOptions::default(),
    );
    // 7 rows: 2 / C(12, 6) · 7 = 0.015 ≤ 0.05.
    assert_eq!(c.repeats_to_detect, Some(6));
    assert!((c.rows[0].best_q.unwrap() - 7.0 * 2.0 / 252.0).abs() < 1e-12);
    let text = render_table(&c, true);
    assert!(
        text.contains("undetectable at this repeat count")
            && text.contains("6 repeats per side")
            && text.contains("--repeat 6"),
        "{text}"
    );
    assert!(render_json(&c).contains("\"verdict\": \"undetectable\""));
    assert!(html_report(&c).contains("undetectable at this repeat count"));
}

#[test]
fn outcome_regressions_come_first_and_fail_the_comparison() {
    let base = run("a", repeats(&[20.0; 5], OutcomeKind::Passed));
    let mut died = repeats(&[20.0; 4], OutcomeKind::Passed);
    died.push(record(
        "t/scx_qmap/1n2l2c1t/default",
        OutcomeKind::SchedulerDied,
        "Tcg",
        &[],
    ));
    let c = compare(&base, &run("b", died), &CompareOptions::default());
    assert_eq!(c.outcome_changes.len(), 1);
    assert!(c.outcome_changes[0].regression);
    assert_eq!(
        c.outcome_changes[0].new,
        "Passed ×4, SchedulerDied (unexpected) ×1"
    );
    assert!(c.regressed());
}

#[test]
fn different_accelerators_are_refused_unless_forced() {
    let base = run("a", repeats(&[20.0; 5], OutcomeKind::Passed));
    let kvm: Vec<TrialRecord> = repeats(&[20.0; 5], OutcomeKind::Passed)
        .into_iter()
        .map(|mut r| {
            r.outcome.vm.accel = crate::vm::Accel::Kvm;
            r
        })
        .collect();
    let new = run("b", kvm);
    let refused = compare(&base, &new, &CompareOptions::default());
    assert!(refused
        .refusal
        .as_deref()
        .unwrap()
        .contains("different accelerators (tcg vs kvm)"));
    assert!(refused.rows.is_empty());
    let forced = compare(
        &base,
        &new,
        &CompareOptions {
            force: true,
            ..CompareOptions::default()
        },
    );
    assert!(forced.refusal.is_none() && forced.warnings[0].starts_with("forced past"));
    assert!(!forced.rows.is_empty());
}

#[test]
fn variants_on_one_side_only_are_listed() {
    let base = run("a", repeats(&[20.0; 5], OutcomeKind::Passed));
    let other = vec![record(
        "u/eevdf/1n1l2c1t/default",
        OutcomeKind::Passed,
        "Tcg",
        &[],
    )];
    let c = compare(&base, &run("b", other), &CompareOptions::default());
    assert_eq!(c.only_in_base, ["t/scx_qmap/1n2l2c1t/default"]);
    assert_eq!(c.only_in_new, ["u/eevdf/1n1l2c1t/default"]);
}

#[test]
fn metrics_one_run_did_not_measure_are_listed_not_dropped() {
    let base: Vec<TrialRecord> = (0..5)
        .map(|_| {
            record(
                "t/v",
                OutcomeKind::Passed,
                "Tcg",
                &[("cg_0/max_gap_ms", 20.0), ("cg_0/migrations", 4.0)],
            )
        })
        .collect();
    let new: Vec<TrialRecord> = (0..5)
        .map(|_| {
            record(
                "t/v",
                OutcomeKind::Passed,
                "Tcg",
                &[("cg_0/max_gap_ms", 20.0), ("cg_1/max_gap_ms", 31.0)],
            )
        })
        .collect();
    let c = compare(&run("a", base), &run("b", new), &CompareOptions::default());
    let names = |list: &[OneSidedMetric]| -> Vec<(String, f64, usize)> {
        list.iter()
            .map(|m| (m.metric.clone(), m.median, m.values.len()))
            .collect()
    };
    assert_eq!(
        names(&c.metrics_only_in_base),
        [("cg_0/migrations".into(), 4.0, 5)]
    );
    assert_eq!(
        names(&c.metrics_only_in_new),
        [("cg_1/max_gap_ms".into(), 31.0, 5)]
    );
    assert_eq!(c.rows.len(), 1);
    let text = render_table(&c, false);
    for line in ["cg_0/migrations", "gone", "cg_1/max_gap_ms", "new only"] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    let json: serde_json::Value = serde_json::from_str(&render_json(&c)).unwrap();
    assert_eq!(json["metrics_only_in_base"][0]["metric"], "cg_0/migrations");
    assert_eq!(json["metrics_only_in_new"][0]["metric"], "cg_1/max_gap_ms");
    let html = html_report(&c);
    assert!(
        html.contains("<td>cg_0/migrations<td>4.00 n=5<td>gone")
            && html.contains("<td>cg_1/max_gap_ms<td>31.0 n=5<td>new only"),
        "{html}"
    );
}

#[test]
fn quantiles_interpolate() {
    assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&[1.0, 2.0, 3.0, 4.0]), 2.5);
    assert_eq!(iqr(&[1.0, 2.0, 3.0, 4.0, 5.0]), 2.0);
}
