//! `ktstr scheduler install|list` end to end, with a stand-in `cargo` (through `$CARGO`) that behaves
//! like `cargo install --root DIR`: a bad spec exits 2, a failed build exits 1 with the log's tail and
//! path, a good one lands in the store, is listed, and is a hit the second time.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const KTSTR: &str = env!("CARGO_BIN_EXE_ktstr");

/// A `cargo` that fails, or installs `bin/<name>` and cargo's `.crates2.json` into `--root`.
fn fake_cargo(dir: &Path, succeed: bool) -> PathBuf {
    let body = if succeed {
        r#"root=""; spec=""
while [ $# -gt 0 ]; do
  case "$1" in --root) root="$2"; shift;; --target-dir) shift;; install|--locked) ;; *) spec="$1";; esac
  shift
done
name="${spec%@*}"; version="${spec#*@}"
echo "   Compiling $name v$version" >&2
mkdir -p "$root/bin" && printf '#!/bin/sh\n' > "$root/bin/$name" && chmod +x "$root/bin/$name"
printf '{"installs":{"%s %s (registry+https://github.com/rust-lang/crates.io-index)":{}}}' "$name" "$version" > "$root/.crates2.json"
"#
    } else {
        r#"for i in $(seq 1 50); do echo "   Compiling dep$i v0.1.0" >&2; done
echo "error: failed to compile scx_fake, intermediate artifacts can be found at /tmp/x" >&2
exit 101
"#
    };
    let path = dir.join(if succeed { "cargo-ok" } else { "cargo-fail" });
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn ktstr(cache: &Path, cargo: &Path, args: &[&str]) -> Output {
    Command::new(KTSTR)
        .args(args)
        .env("KTSTR_CACHE_DIR", cache)
        .env("CARGO", cargo)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_bad_spec_exits_2_naming_the_form() {
    let dir = tempfile::tempdir().unwrap();
    let cargo = fake_cargo(dir.path(), true);
    for spec in ["scx_x@latest", "../scx", "scx x"] {
        let out = ktstr(dir.path(), &cargo, &["scheduler", "install", spec]);
        assert_eq!(out.status.code(), Some(2), "{spec}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("NAME@VERSION"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_failed_install_exits_1_with_the_log_tail_and_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let cargo = fake_cargo(dir.path(), false);
    let out = ktstr(
        dir.path(),
        &cargo,
        &["scheduler", "install", "scx_fake@1.0.0"],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("error: failed to compile scx_fake"), "{err}");
    assert!(!err.contains("dep1 v0.1.0"), "the tail is bounded: {err}");
    let log = dir.path().join("schedulers/.logs/scx_fake.log");
    assert!(err.contains(&log.display().to_string()), "{err}");
    assert!(text(&std::fs::read(&log).unwrap()).contains("dep1 v0.1.0"));
    let list = ktstr(dir.path(), &cargo, &["scheduler", "list"]);
    assert!(
        !text(&list.stdout).contains("scx_fake"),
        "a failed install is not listed"
    );
}

#[test]
fn an_install_lands_in_the_store_is_listed_and_then_hits() {
    let dir = tempfile::tempdir().unwrap();
    let cargo = fake_cargo(dir.path(), true);
    let out = ktstr(
        dir.path(),
        &cargo,
        &["scheduler", "install", "scx_fake@1.2.3"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let binary = dir.path().join("schedulers/scx_fake/1.2.3/scx_fake");
    assert!(
        text(&out.stdout).contains("installed scx_fake@1.2.3"),
        "{}",
        text(&out.stdout)
    );
    assert!(binary.is_file());
    let list = text(&ktstr(dir.path(), &cargo, &["scheduler", "list"]).stdout);
    let row = list
        .lines()
        .find(|l| l.starts_with("scx_fake"))
        .unwrap_or_default();
    assert!(
        row.contains("1.2.3")
            && row.contains("installed")
            && row.contains(&binary.display().to_string()),
        "{list}"
    );
    let again = ktstr(dir.path(), &cargo, &["scheduler", "install", "scx_fake"]);
    assert!(
        text(&again.stdout).contains("scx_fake@1.2.3 is installed"),
        "{}",
        text(&again.stdout)
    );
    let missing = ktstr(
        dir.path(),
        &cargo,
        &["run", "--vm", "steady", "--scheduler", "scx_fake@9.9.9"],
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("ktstr scheduler install scx_fake@9.9.9"),
        "{}",
        text(&missing.stderr)
    );
}
