use super::*;
use crate::assert::AssertResult;
use crate::scenario::Ctx;

fn nothing(_: &Ctx) -> anyhow::Result<AssertResult> {
    Ok(AssertResult::pass())
}

fn cand(name: &str, secs: u64, covers: &[&str]) -> Candidate {
    Candidate {
        name: name.into(),
        cost: Duration::from_secs(secs),
        measured: false,
        covers: covers.iter().map(|c| c.to_string()).collect(),
    }
}

#[test]
fn the_cheapest_new_coverage_is_taken_first_and_the_budget_holds() {
    let candidates = [
        cand("wide", 30, &["a", "b", "c"]),
        cand("cheap", 5, &["a", "b"]),
        cand("rest", 10, &["c"]),
        cand("redundant", 10, &["a"]),
    ];
    let all = select(&candidates, Duration::from_secs(100), 0);
    assert_eq!(all.chosen, [1, 2]);
    assert_eq!((all.covered, all.coverable), (3, 3));
    assert_eq!(all.cost, Duration::from_secs(15));
    let tight = select(&candidates, Duration::from_secs(8), 0);
    assert_eq!(tight.chosen, [1]);
    assert!(tight.cost <= Duration::from_secs(8));
    let none = select(&candidates, Duration::from_millis(500), 0);
    assert!(none.chosen.is_empty());
    assert_eq!(
        tight.summary(4, Duration::from_secs(8), 0),
        "ktstr budget: 1/4 trials, 5/8 s estimated, 2/3 (test, shape, flag) covered, seed 0"
    );
}

#[test]
fn ties_follow_the_seed_and_one_seed_always_picks_the_same() {
    let candidates: Vec<Candidate> = (0..8).map(|i| cand(&format!("t{i}"), 10, &["x"])).collect();
    let pick = |seed| select(&candidates, Duration::from_secs(10), seed).chosen;
    assert_eq!(pick(1), pick(1));
    let picks: std::collections::BTreeSet<Vec<usize>> = (0..16).map(pick).collect();
    assert!(picks.len() > 1, "every seed picked the same: {picks:?}");
}

#[test]
fn estimates_grow_with_cpus_and_a_scheduler_and_coverage_names_shape_and_flags() {
    let small = VmTest::new("t", nothing).topology("1n1l1c1t".parse().unwrap());
    let wide = VmTest::new("t", nothing).topology("2n4l2c2t".parse().unwrap());
    assert!(estimate(&wide, Accel::Tcg) > estimate(&small, Accel::Tcg));
    let qmap = small.clone().scheduler(crate::schedulers::SCX_QMAP);
    assert!(estimate(&qmap, Accel::Tcg) > estimate(&small, Accel::Tcg));
    let batch = qmap.profile("batch+short-slice");
    let covered = covers(&batch);
    assert!(covered.contains("t:cpus:1:batch"), "{covered:?}");
    assert!(covered.contains("t:numa:1:short-slice"), "{covered:?}");
    assert!(covers(&small).contains("t:llcs:1:default"));
}

#[test]
fn the_newest_record_of_each_trial_gives_its_measured_wall() {
    let dir = tempfile::tempdir().unwrap();
    let record = |wall_ms| {
        let mut outcome = crate::outcome::sample(crate::outcome::OutcomeKind::Passed);
        outcome.trial.name = "a".into();
        outcome.timings.wall_ms = wall_ms;
        serde_json::to_vec(&crate::runs::TrialRecord::new(outcome, "r", 0)).unwrap()
    };
    std::fs::write(dir.path().join("a-1.json"), record(7000)).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(dir.path().join("a-2.json"), record(9000)).unwrap();
    std::fs::write(dir.path().join("junk.json"), b"not json").unwrap();
    let walls = measured_walls(dir.path());
    assert_eq!(walls.get("a"), Some(&Duration::from_secs(9)));
    assert_eq!(walls.len(), 1);
}

#[test]
fn a_bad_budget_is_an_error_naming_the_fix() {
    // Environment variables are process-wide; this test is the only one that sets them.
    std::env::set_var(BUDGET_ENV, "soon");
    assert!(from_env().unwrap_err().contains("not a number of seconds"));
    std::env::set_var(BUDGET_ENV, "90");
    std::env::set_var(SEED_ENV, "7");
    assert_eq!(from_env(), Ok(Some((Duration::from_secs(90), 7))));
    std::env::remove_var(BUDGET_ENV);
    std::env::remove_var(SEED_ENV);
    assert_eq!(from_env(), Ok(None));
}
