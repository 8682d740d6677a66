//! `ktstr stats` end to end over run directories written the way the harness writes them: a clear
//! regression exits 7 with the table, noise exits 0, different accelerators are refused with exit 2,
//! `--json` parses, `--html` writes a report with a plot and nothing to fetch, and too few repeats say so.

use std::path::Path;
use std::process::{Command, Output};

use ktstr::outcome::{
    Evidence, KernelStamp, OutcomeKind, SchedulerRun, Timings, TrialId, TrialOutcome, Verdict,
    VmRun,
};
use ktstr::runs::TrialRecord;

const KTSTR: &str = env!("CARGO_BIN_EXE_ktstr");

/// Five repeats' gaps (ms) of a steady run, and of a run whose gaps grew about eightfold.
const STEADY: &[f64] = &[20.0, 22.0, 21.0, 23.0, 19.0];
const SLOW: &[f64] = &[160.0, 170.0, 150.0, 165.0, 158.0];

/// A run directory `root/id` with `run.json` and one record per value of `gaps` (one repeat each).
fn write_run(root: &Path, id: &str, accel: &str, gaps: &[f64]) {
    let dir = root.join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let stamp = serde_json::json!({
        "schema_version": 1, "id": id, "ktstr_version": "0.1.0", "started_unix": 0,
        "started_utc": "2026-11-30T00:00:00Z", "command": ["t"], "cwd": "/",
        "git": {"commit": "0123456789012345678901234567890123456789", "dirty": false},
        "host": {"hostname": "h", "cpu_model": "cpu", "cpus": 2, "mem_total_mb": 1024, "load_1m": 0.1}
    });
    std::fs::write(dir.join("run.json"), stamp.to_string()).unwrap();
    for (repeat, gap) in gaps.iter().enumerate() {
        let mut record = TrialRecord::new(outcome(accel), id, repeat as u32);
        record.metrics = [
            ("cg_0/max_gap_ms", *gap),
            ("cg_1/max_gap_ms", gap + 1.0),
            ("cg_0/iterations_per_sec", 1000.0 + repeat as f64),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        std::fs::write(
            dir.join(format!("oversubscribed.r{repeat}.json")),
            serde_json::to_vec(&record).unwrap(),
        )
        .unwrap();
    }
}

/// A passed trial of scx_qmap under `accel` ("tcg" or "kvm"), as the harness records one.
fn outcome(accel: &str) -> TrialOutcome {
    TrialOutcome {
        trial: TrialId {
            name: "oversubscribed/scx_qmap/1n2l2c1t/default".into(),
            function: "oversubscribed".into(),
            topology: "1n2l2c1t".into(),
            preset: None,
            duration_ms: 2000,
        },
        verdict: Verdict {
            kind: OutcomeKind::Passed,
            reason: "passed".into(),
            expected: OutcomeKind::Passed,
            as_expected: true,
        },
        scheduler: SchedulerRun {
            name: "scx_qmap".into(),
            profile: "default".into(),
            args: vec![],
            binary: None,
            sha256: None,
            ops_name: Some("qmap".into()),
            failed_output: None,
            diagnostic_output: None,
            load_diagnosis: None,
        },
        vm: VmRun {
            accel: serde_json::from_value(serde_json::json!(accel)).unwrap(),
            memory_mb: 2048,
            kernel: "/cache/bzImage".into(),
            kernel_stamp: KernelStamp::default(),
        },
        report: None,
        evidence: Evidence::default(),
        timings: Timings {
            prep_ms: 200,
            boot_ms: Some(1500),
            start_wait_ms: 0,
            wall_ms: 6000,
        },
    }
}

/// No script, and nothing fetched: no `src`, `href`, CSS `url(` or `@import`, and no URL but the SVG namespace
/// name, which identifies the element vocabulary and is never fetched.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for fetch in ["<script", "src=", "href=", "url(", "@import"] {
        assert!(!lower.contains(fetch), "the report has {fetch}");
    }
    let without_namespace = lower.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for scheme in ["http://", "https://"] {
        assert!(
            !without_namespace.contains(scheme),
            "the report names a URL ({scheme}) other than the SVG namespace"
        );
    }
}

fn stats(root: &Path, args: &[&str]) -> Output {
    Command::new(KTSTR)
        .arg("stats")
        .args(args)
        .arg("--runs-dir")
        .arg(root)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_regression_exits_7_noise_exits_0_and_incomparable_runs_exit_2() {
    let root = tempfile::tempdir().unwrap();
    write_run(root.path(), "base", "tcg", STEADY);
    write_run(root.path(), "slow", "tcg", SLOW);
    write_run(root.path(), "same", "tcg", &[21.0, 19.5, 22.5, 20.0, 23.5]);
    write_run(root.path(), "kvm", "kvm", STEADY);
    write_run(root.path(), "few", "tcg", &[160.0, 170.0]);

    let out = stats(root.path(), &["compare", "base", "slow"]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    assert!(text(&out).contains("cg_0/max_gap_ms") && text(&out).contains("REGRESSION"));

    let out = stats(root.path(), &["compare", "base", "same"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("verdict: no regression"));

    let out = stats(root.path(), &["compare", "base", "kvm"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("different accelerators"));
    let forced = stats(root.path(), &["compare", "base", "kvm", "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));

    let out = stats(root.path(), &["compare", "base", "few"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("undetectable at this repeat count"),
        "{}",
        text(&out)
    );

    let out = stats(root.path(), &["compare", "base", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no run \"nosuch\""), "{}", text(&out));
}

#[test]
fn json_parses_and_the_html_report_carries_a_plot_per_changed_metric() {
    let root = tempfile::tempdir().unwrap();
    write_run(root.path(), "base", "tcg", STEADY);
    write_run(root.path(), "slow", "tcg", SLOW);
    let report = root.path().join("report.html");
    let out = stats(
        root.path(),
        &[
            "compare",
            "base",
            "slow",
            "--json",
            "--html",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(7));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let regressions = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] == "regression")
        .count();
    assert_eq!(regressions, 2, "{json:#}");
    let html = std::fs::read_to_string(&report).unwrap();
    assert_eq!(html.matches("<svg").count(), 2);
    assert_self_contained(&html);

    let list = stats(root.path(), &["list"]);
    assert!(
        text(&list).contains("base") && text(&list).contains("0123456789"),
        "{}",
        text(&list)
    );
    let show = stats(root.path(), &["show", "slow"]);
    assert!(
        text(&show).contains("oversubscribed/scx_qmap/1n2l2c1t/default"),
        "{}",
        text(&show)
    );
}
