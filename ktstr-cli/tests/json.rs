//! The machine-readable views parse with jq (scripts/setup.sh installs it) and say what the human ones do:
//! `list --json [--filter]`, `kernel list --json`, `topo --json`, and `run --json` (one object per verdict,
//! nothing else on stdout).

use std::io::Write;
use std::process::{Command, Stdio};

const KTSTR: &str = env!("CARGO_BIN_EXE_ktstr");

/// `ktstr args...` run with `env`, its stdout piped through `jq -e FILTER`; jq's output.
fn jq(args: &[&str], env: &[(&str, &str)], filter: &str) -> String {
    let out = Command::new(KTSTR)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ktstr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut jq = Command::new("jq")
        .args(["-e", "-c", filter])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("jq (scripts/setup.sh installs it)");
    jq.stdin.take().unwrap().write_all(&out.stdout).unwrap();
    let parsed = jq.wait_with_output().unwrap();
    assert!(
        parsed.status.success(),
        "jq {filter:?} over ktstr {args:?}:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(parsed.stdout).unwrap().trim().to_string()
}

#[test]
fn the_catalog_lists_as_json_and_filters() {
    let all: usize = jq(&["list", "--json"], &[], "length").parse().unwrap();
    assert!(all >= 19);
    assert_eq!(
        jq(
            &["list", "--json", "--filter", "cpuset_sw"],
            &[],
            "[.[].name]"
        ),
        r#"["cpuset_swap"]"#
    );
    assert_eq!(
        jq(
            &["list", "--json", "--filter", "stress"],
            &[],
            "map(.category) | unique"
        ),
        r#"["stress"]"#
    );
}

#[test]
fn kernel_list_is_a_json_array_even_when_empty() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_str().unwrap();
    assert_eq!(
        jq(
            &["kernel", "list", "--json"],
            &[("KTSTR_CACHE_DIR", dir)],
            "."
        ),
        "[]"
    );
}

#[test]
fn topo_names_the_host_shape_and_every_preset() {
    let presets: usize = jq(&["topo", "--json"], &[], ".presets | length")
        .parse()
        .unwrap();
    assert_eq!(presets, ktstr::topology::presets::PRESETS.len());
    let cpus: usize = jq(&["topo", "--json"], &[], ".cpus").parse().unwrap();
    assert_eq!(cpus, std::thread::available_parallelism().unwrap().get());
    assert_eq!(
        jq(
            &["topo", "--json"],
            &[],
            "[.nodes[].llcs[].cores | length] | add > 0"
        ),
        "true"
    );
}

#[test]
fn a_host_run_prints_one_json_object_per_verdict_and_nothing_else() {
    let runs = tempfile::tempdir().unwrap();
    let out = jq(
        &[
            "run",
            "--json",
            "--cgroups",
            "simulated",
            "--duration",
            "0.3",
            "steady",
            "nested_steady",
        ],
        &[("KTSTR_RUNS_DIR", runs.path().to_str().unwrap())],
        "[.test, .host, (.stats.cgroups | length > 0)]",
    );
    // Host runs are named as host_only trials are: `<scenario>/host`.
    assert_eq!(
        out,
        "[\"steady/host\",true,true]\n[\"nested_steady/host\",true,true]"
    );
}
