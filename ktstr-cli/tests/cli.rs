//! The `ktstr` binary end to end, against a fake kernel tarball whose make targets take milliseconds:
//! bad input exits 2 with one line naming the fix, a missing tool exits 3, a build is cached and
//! listed, and a killed build leaves no entry.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const KTSTR: &str = env!("CARGO_BIN_EXE_ktstr");

/// The fake kernel sources of ktstr's own kernel tests.
#[path = "../../ktstr/tests/host/kernel/fake.rs"]
#[expect(
    dead_code,
    reason = "the CLI builds from tarballs and never writes a cache entry by hand"
)]
mod fake;

use fake::{fake_tarball, FakeKernel, WORKING};

/// The fake kernel with `bzimage` as the recipe of its `bzImage` target.
const fn with_bzimage(bzimage: &'static str) -> FakeKernel {
    FakeKernel { bzimage, ..WORKING }
}

fn ktstr(cache: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(KTSTR);
    cmd.args(args)
        .env("KTSTR_CACHE_DIR", cache)
        .stdin(Stdio::null());
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts exit `code` and a single `error:` line on stderr containing `want`.
fn assert_one_line_error(out: &Output, code: i32, want: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(
        err.starts_with("error: ") && err.contains(want),
        "{err:?} lacks {want:?}"
    );
}

#[test]
fn bad_input_exits_2_with_one_line_naming_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let not_kernel = dir.path().join("notes");
    std::fs::create_dir(&not_kernel).unwrap();
    let junk = dir.path().join("junk.tar.xz");
    std::fs::write(&junk, "not a tarball").unwrap();
    let absent = dir.path().join("absent");
    let cases: [(Vec<&str>, &str); 3] = [
        (
            vec!["kernel", "build", "--source", absent.to_str().unwrap()],
            "pass --source with the top of a Linux source tree",
        ),
        (
            vec!["kernel", "build", "--source", not_kernel.to_str().unwrap()],
            "is not a Linux 6.12+ source tree",
        ),
        (
            vec!["kernel", "build", "--tarball", junk.to_str().unwrap()],
            "apt-get install --reinstall linux-source-6.12",
        ),
    ];
    for (args, want) in cases {
        assert_one_line_error(&ktstr(&cache, &args).output().unwrap(), 2, want);
    }
    assert!(
        !cache.join("kernels").exists()
            || cache.join("kernels").read_dir().unwrap().all(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.'))
    );
}

#[test]
fn a_path_without_clang_exits_3_naming_the_package() {
    let dir = tempfile::tempdir().unwrap();
    let tarball = fake_tarball(dir.path(), &WORKING);
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for tool in [
        "make",
        "gcc",
        "tar",
        "xz",
        "flex",
        "bison",
        "bc",
        "pahole",
        "llvm-strip-19",
        "ld.lld-19",
        "sh",
    ] {
        let found = ["/usr/bin", "/bin", "/usr/sbin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists());
        let found =
            found.unwrap_or_else(|| panic!("{tool} is not installed; run scripts/setup.sh"));
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    let out = ktstr(
        &dir.path().join("cache"),
        &["kernel", "build", "--tarball", tarball.to_str().unwrap()],
    )
    .env("PATH", &bin)
    .output()
    .unwrap();
    assert_one_line_error(
        &out,
        3,
        "`clang-19` is not in PATH; install the Debian package clang-19",
    );
}

#[test]
fn a_build_is_cached_listed_hit_and_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let tarball = fake_tarball(dir.path(), &WORKING);
    let build = ["kernel", "build", "--tarball", tarball.to_str().unwrap()];
    let list = ktstr(&cache, &["kernel", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("run `ktstr kernel build`"));

    let first = ktstr(&cache, &build).output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(String::from_utf8_lossy(&first.stdout).starts_with("built 6.99.0-fake-kc"));
    assert!(
        stderr(&first).contains("[3/5] build the kernel"),
        "steps are shown: {}",
        stderr(&first)
    );
    let second = ktstr(&cache, &build).output().unwrap();
    assert!(String::from_utf8_lossy(&second.stdout).starts_with("cache hit: 6.99.0-fake-kc"));

    let list =
        String::from_utf8_lossy(&ktstr(&cache, &["kernel", "list"]).output().unwrap().stdout)
            .into_owned();
    let row = list.lines().nth(1).unwrap_or_default();
    assert!(
        list.starts_with("KEY")
            && row.starts_with("6.99.0-fake-kc")
            && row.split_whitespace().nth(1) == Some("6.99.0-fake"),
        "{list}"
    );
    assert!(
        row.contains("scx_simple,scx_qmap,scx_central,scx_flatcg"),
        "{list}"
    );
    let clean =
        String::from_utf8_lossy(&ktstr(&cache, &["kernel", "clean"]).output().unwrap().stdout)
            .into_owned();
    assert!(clean.contains("1 removed, 0 kept, 0 in use"), "{clean}");
}

#[test]
fn a_failed_build_prints_the_log_tail_then_its_path_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let tarball = fake_tarball(
        dir.path(),
        &with_bzimage("seq 1 60; echo 'ld: undefined symbol'; exit 2"),
    );
    let out = ktstr(
        &dir.path().join("cache"),
        &["kernel", "build", "--tarball", tarball.to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: build the kernel") && last.contains(".logs/6.99.0-fake-kc"),
        "{err}"
    );
    assert!(
        err.contains("\nld: undefined symbol\n") && !err.contains("\n10\n"),
        "only the last 40 lines: {err}"
    );
}

#[test]
fn a_killed_build_leaves_no_entry_and_clean_removes_its_scratch() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let tarball = fake_tarball(dir.path(), &with_bzimage("sleep 60"));
    let mut child = ktstr(
        &cache,
        &["kernel", "build", "--tarball", tarball.to_str().unwrap()],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .process_group(0)
    .spawn()
    .unwrap();
    let tmp = cache.join("kernels/.tmp");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !has_kernel_config(&tmp) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let group = format!("-{}", child.id());
    Command::new("kill")
        .args(["-KILL", "--", &group])
        .status()
        .unwrap();
    child.wait().unwrap();
    assert!(
        has_kernel_config(&tmp),
        "the build never reached its kernel step"
    );

    let list =
        String::from_utf8_lossy(&ktstr(&cache, &["kernel", "list"]).output().unwrap().stdout)
            .into_owned();
    assert!(
        list.contains("no cached kernels"),
        "a killed build shows no entry: {list}"
    );
    assert!(ktstr(&cache, &["kernel", "clean"])
        .output()
        .unwrap()
        .status
        .success());
    assert_eq!(
        tmp.read_dir().unwrap().count(),
        0,
        "clean removes the killed build's scratch"
    );
}

fn has_kernel_config(tmp: &Path) -> bool {
    tmp.read_dir()
        .is_ok_and(|mut d| d.any(|e| e.is_ok_and(|e| e.path().join("kbuild/.config").exists())))
}

#[test]
fn completions_are_generated() {
    let out = Command::new(KTSTR)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("ktstr"));
}

#[test]
fn run_reports_verdicts_and_exits_by_outcome() {
    let out = Command::new(KTSTR)
        .args([
            "run",
            "steady",
            "--duration",
            "0.5",
            "--cgroups",
            "simulated",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", stderr(&out));
    assert!(stdout.contains("cgroups: simulated"), "{stdout}");
    assert!(stdout.contains("1 passed, 0 failed, 0 skipped"), "{stdout}");
    let out = Command::new(KTSTR).args(["run", "stedy"]).output().unwrap();
    assert_one_line_error(&out, 2, "did you mean \"steady\"");
    let out = Command::new(KTSTR)
        .args(["run", "--duration=0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn run_in_a_vm_boots_the_cached_kernel_and_reports_the_guest_verdict() {
    let out = Command::new(KTSTR)
        .args([
            "run",
            "--vm",
            "steady_llc",
            "--duration",
            "1",
            "--scheduler",
            "scx_simple",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", stderr(&out));
    assert!(stdout.contains("guest saw topology 1n2l2c1t"), "{stdout}");
    assert!(
        stdout.contains("scheduler scx_simple (ops simple)"),
        "{stdout}"
    );
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
    let out = Command::new(KTSTR)
        .args(["run", "--vm", "steady", "--scheduler", "scx_nosuch"])
        .output()
        .unwrap();
    assert_one_line_error(&out, 2, "is not in-tree, not installed");
}

#[test]
fn a_topology_wider_than_the_host_exits_2_at_once_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = ktstr(
        dir.path(),
        &["run", "--vm", "--topology", "4n64l16c2t", "steady"],
    )
    .output()
    .unwrap();
    assert_one_line_error(&out, 2, "choose a smaller topology");
    assert!(stderr(&out).contains("2048 vCPUs"), "{}", stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_scheduler_path_that_is_not_a_program_exits_2_before_booting() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("scx_notes");
    std::fs::write(&text, "not a scheduler\n").unwrap();
    let out = ktstr(
        dir.path(),
        &[
            "run",
            "--vm",
            "steady",
            "--scheduler",
            text.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    assert_one_line_error(&out, 2, "not an ELF executable");
}

/// A reader that stops early (`ktstr list | head -1`) ends the command without a panic.
#[test]
fn a_closed_output_pipe_is_not_a_panic() {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = Command::new(KTSTR)
        .args(["list"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("ktstr runs");
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    // SIGPIPE (13) is how a command-line tool ends when its reader goes away.
    assert!(
        out.status.success() || out.status.signal() == Some(13),
        "{:?}",
        out.status
    );
}
