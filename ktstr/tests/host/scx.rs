//! Launches fake schedulers — shell scripts that flip a fake sched_ext sysfs tree themselves — and checks
//! readiness, launch failures with their output, liveness, stop with and without SIGKILL, and that no
//! scheduler process outlives its owner. Also reads the host's real `/dev/kmsg` without blocking, and runs
//! the parsers on what a real 6.12 guest logs when the watchdog ejects scx_qmap.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use ktstr::sched::Scheduler;
use ktstr::scx::{
    launch, LaunchFailure, LaunchFailureReason, LaunchOptions, RunningScheduler, SchedulerSpec,
    ScxExit, ScxExitKind, ScxLogEvent, ScxState, ScxSysfs,
};
use ktstr::sys::{read_kmsg, ProcStat, KMSG_PATH};

/// Slack for timing assertions on a loaded two-core machine.
const MARGIN: Duration = Duration::from_secs(5);

/// Attaches like a real scheduler: ops name first, then the state; SIGINT detaches and exits cleanly.
const ATTACHES: &str = r#"
echo $$ > "$DIR/pid"
echo "fake scheduler starting"
trap 'echo "EXIT: unregistered from user space" >&2; put state disabled; rm -rf "$ROOT/root"; exit 0' INT
mkdir -p "$ROOT/root"
put root/ops fakeops
put state enabled
echo "attached"
while :; do sleep 0.05; done
"#;

/// Fails to load, printing on both streams.
const EXITS_AT_ONCE: &str = r#"
echo $$ > "$DIR/pid"
echo "libbpf: prog 'enqueue': BPF program load failed: Invalid argument" >&2
echo "fake: load failed"
exit 3
"#;

/// Runs but never attaches.
const NEVER_ATTACHES: &str = r#"
echo $$ > "$DIR/pid"
echo "waiting forever"
while :; do sleep 0.05; done
"#;

/// Attaches, then is ejected for a stall and exits with the example schedulers' `EXIT:` line.
const DIES_LATER: &str = r#"
echo $$ > "$DIR/pid"
mkdir -p "$ROOT/root"
put root/ops fakeops
put state enabled
sleep 0.3
echo "EXIT: runnable task stall (fake[7] failed to run for 5.000s)" >&2
rm -rf "$ROOT/root"
put state disabled
exit 1
"#;

/// Attaches and ignores SIGINT (its `sleep` children inherit that).
const IGNORES_SIGINT: &str = r#"
echo $$ > "$DIR/pid"
trap '' INT
mkdir -p "$ROOT/root"
put root/ops stubborn
put state enabled
while :; do sleep 0.05; done
"#;

/// Writes a sysfs file in one rename, so the launcher never reads it half-written.
const PRELUDE: &str = r#"
put() { echo "$2" > "$ROOT/$1.tmp" && mv "$ROOT/$1.tmp" "$ROOT/$1"; }
"#;

/// Kernel log records the fake kmsg file holds.
const FAKE_KMSG: &str = "6,1,1000,-;Linux version 6.12.117\n\
    6,2,7305812,-;sched_ext: BPF scheduler \"fakeops\" enabled\n\
    3,3,14412001,-;sched_ext: BPF scheduler \"fakeops\" disabled (runnable task stall)\n\
    3,4,14412002,-;sched_ext: fakeops: fake[7] failed to run for 5.000s\n";

/// A temp dir holding the fake sched_ext root, a fake kmsg file and the script.
struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    fn new() -> Result<Fake> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join("scx"))?;
        std::fs::write(dir.path().join("scx/state"), "disabled\n")?;
        std::fs::write(dir.path().join("kmsg"), FAKE_KMSG)?;
        Ok(Fake { dir })
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("scx")
    }

    fn options(&self) -> LaunchOptions {
        LaunchOptions {
            sysfs: ScxSysfs::new(self.root()),
            output_dir: self.dir.path().to_path_buf(),
            kmsg_path: self.dir.path().join("kmsg"),
            ..LaunchOptions::default()
        }
    }

    /// Runs `body` through /bin/sh (never executing a just-written file: no ETXTBSY).
    fn spec(&self, body: &str) -> Result<SchedulerSpec> {
        let script = self.dir.path().join("sched.sh");
        let header = format!(
            "ROOT='{}'\nDIR='{}'\n",
            self.root().display(),
            self.dir.path().display()
        );
        std::fs::write(&script, format!("{header}{PRELUDE}{body}"))?;
        Ok(SchedulerSpec {
            name: "fake".into(),
            guest_binary: Some("/bin/sh".into()),
            args: vec![script.to_string_lossy().into_owned()],
            diagnostic_args: vec![],
        })
    }

    /// The pid the script recorded, waiting briefly for it to appear.
    fn script_pid(&self) -> Result<u32> {
        let path = self.dir.path().join("pid");
        let deadline = Instant::now() + MARGIN;
        loop {
            if let Ok(text) = std::fs::read_to_string(&path) {
                if let Ok(pid) = text.trim().parse() {
                    return Ok(pid);
                }
            }
            ensure!(
                Instant::now() < deadline,
                "the script never wrote {}",
                path.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Pids whose process group is `pgid`, zombies included.
fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| ProcStat::read(*pid).is_some_and(|stat| stat.pgrp == pgid))
        .collect()
}

/// Fails unless the scheduler `pid` is gone (reaped, not a zombie) and its process group empties.
///
/// Killed grandchildren are orphans that init reaps, so the group gets a moment to drain.
fn assert_no_leftovers(pid: u32) {
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "scheduler pid {pid} still exists (running or an unreaped zombie)"
    );
    let drained = wait_for(MARGIN, || group_members(pid).is_empty());
    let members = group_members(pid);
    assert!(drained, "processes left in group {pid}: {members:?}");
}

/// Polls `done` every 20 ms until it holds or `limit` passes.
fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

fn expect_failure(result: Result<RunningScheduler, LaunchFailure>) -> Result<LaunchFailure> {
    match result {
        Ok(running) => bail!(
            "want a launch failure, got a running scheduler {}",
            running.ops_name()
        ),
        Err(failure) => Ok(failure),
    }
}

#[test]
fn attaching_scheduler_is_ready_and_stops_on_sigint() -> Result<()> {
    let _serial = crate::serial();
    let fake = Fake::new()?;
    let mut running = launch(&fake.spec(ATTACHES)?, &fake.options())?;
    let pid = running.pid();
    assert_eq!(fake.script_pid()?, pid);
    assert_eq!(running.ops_name(), "fakeops");
    assert_eq!(running.name(), "fake");
    assert!(running.alive());
    assert_eq!(running.exit_status(), None);
    assert!(running.attach_time() < LaunchOptions::default().attach_timeout);
    assert!(
        wait_for(MARGIN, || running.output_tail(1) == "attached\n"),
        "output: {:?}",
        running.output()
    );
    assert_eq!(
        running.output_tail(5),
        "fake scheduler starting\nattached\n"
    );
    let output_path = running.output_path().to_path_buf();
    let end = running.stop()?;
    assert!(end.status.success(), "{:?}", end.status);
    assert!(!end.ended_on_its_own && !end.killed, "{end:?}");
    assert!(
        end.output.ends_with("EXIT: unregistered from user space\n"),
        "{:?}",
        end.output
    );
    assert_eq!(ScxSysfs::new(fake.root()).state()?, ScxState::Disabled);
    assert!(!output_path.exists(), "output file outlived the scheduler");
    assert_no_leftovers(pid);
    Ok(())
}

#[test]
fn scheduler_that_exits_at_once_fails_with_its_output() -> Result<()> {
    let _serial = crate::serial();
    let fake = Fake::new()?;
    let started = Instant::now();
    let failure = expect_failure(launch(&fake.spec(EXITS_AT_ONCE)?, &fake.options()))?;
    assert!(started.elapsed() < MARGIN, "took {:?}", started.elapsed());
    let LaunchFailureReason::Exited(status) = failure.reason else {
        bail!("want Exited, got {failure}");
    };
    assert_eq!(status.code(), Some(3));
    assert!(
        failure.output.contains("BPF program load failed"),
        "{:?}",
        failure.output
    );
    assert!(
        failure.output.contains("fake: load failed"),
        "{:?}",
        failure.output
    );
    assert!(failure.to_string().contains("exited"), "{failure}");
    let kmsg = failure.kmsg_tail.context("kmsg tail")?;
    assert_eq!(kmsg.len(), 4);
    assert_eq!(kmsg[1].text, "sched_ext: BPF scheduler \"fakeops\" enabled");
    assert_no_leftovers(fake.script_pid()?);
    Ok(())
}

#[test]
fn scheduler_that_never_attaches_times_out() -> Result<()> {
    let _serial = crate::serial();
    let fake = Fake::new()?;
    let timeout = Duration::from_secs(1);
    let options = LaunchOptions {
        attach_timeout: timeout,
        ..fake.options()
    };
    let started = Instant::now();
    let failure = expect_failure(launch(&fake.spec(NEVER_ATTACHES)?, &options))?;
    let took = started.elapsed();
    assert!(took >= timeout && took < timeout + MARGIN, "took {took:?}");
    match failure.reason {
        LaunchFailureReason::Timeout { after, state } => {
            assert!(after >= timeout, "{after:?}");
            assert_eq!(state, Some(ScxState::Disabled));
        }
        ref other => bail!("want Timeout, got {other}"),
    }
    assert_eq!(failure.output, "waiting forever\n");
    assert_no_leftovers(fake.script_pid()?);
    Ok(())
}

#[test]
fn missing_sched_ext_sysfs_times_out_and_says_so() -> Result<()> {
    let _serial = crate::serial();
    let fake = Fake::new()?;
    let options = LaunchOptions {
        sysfs: ScxSysfs::new(fake.dir.path().join("absent")),
        attach_timeout: Duration::from_millis(300),
        ..fake.options()
    };
    let failure = expect_failure(launch(&fake.spec(NEVER_ATTACHES)?, &options))?;
    assert!(
        matches!(
            failure.reason,
            LaunchFailureReason::Timeout { state: None, .. }
        ),
        "{failure}"
    );
    assert!(
        failure.to_string().contains("CONFIG_SCHED_CLASS_EXT"),
        "{failure}"
    );
    assert_no_leftovers(fake.script_pid()?);
    Ok(())
}

#[test]
fn scheduler_that_dies_later_is_seen_dead_with_its_exit_reason() -> Result<()> {
    let _serial = crate::serial();
    let fake = Fake::new()?;
    let mut running = launch(&fake.spec(DIES_LATER)?, &fake.options())?;
    let pid = running.pid();
    assert!(
        wait_for(Duration::from_secs(10), || !running.alive()),
        "the script should exit after 0.3 s"
    );
    assert_eq!(running.exit_status().and_then(|s| s.code()), Some(1));
    assert_no_leftovers(pid);
    assert!(running
        .output_tail(1)
        .starts_with("EXIT: runnable task stall"));
    let none: [&str; 0] = [];
    let from_output = running.sched_ext_exit(&none).context("exit from output")?;
    assert_eq!(from_output.kind(), ScxExitKind::Stall);
    let kmsg: Vec<String> = read_kmsg(&fake.dir.path().join("kmsg"), 100)?
        .into_iter()
        .map(|r| r.text)
        .collect();
    let exit = running.sched_ext_exit(&kmsg).context("exit from kmsg")?;
    assert_eq!(exit.scheduler, "fakeops");
    assert_eq!(exit.reason, "runnable task stall");
    let stall = exit.stall().context("stall detail")?;
    assert_eq!((stall.comm.as_str(), stall.pid), ("fake", 7));
    assert_eq!(stall.stalled_for, Duration::from_secs(5));
    let end = running.stop()?;
    assert!(end.ended_on_its_own && !end.killed, "{end:?}");
    assert_eq!(end.status.code(), Some(1));
    assert!(
        end.output.contains("EXIT: runnable task stall"),
        "{:?}",
        end.output
    );
    Ok(())
}

#[test]
fn stop_sigkills_a_scheduler_that_ignores_sigint() -> Result<()> {
    let _serial = crate::serial();
    let fake = Fake::new()?;
    let options = fake.options();
    let running = launch(&fake.spec(IGNORES_SIGINT)?, &options)?;
    let pid = running.pid();
    assert_eq!(running.ops_name(), "stubborn");
    let started = Instant::now();
    let end = running.stop()?;
    let took = started.elapsed();
    assert!(end.killed && !end.ended_on_its_own, "{end:?}");
    assert_eq!(end.status.signal(), Some(libc::SIGKILL));
    assert!(
        took >= options.stop_grace && took < options.stop_grace + MARGIN,
        "stop took {took:?}, grace {:?}",
        options.stop_grace
    );
    assert_no_leftovers(pid);
    Ok(())
}

#[test]
fn dropping_a_running_scheduler_kills_and_reaps_it() -> Result<()> {
    let _serial = crate::serial();
    let fake = Fake::new()?;
    let running = launch(&fake.spec(IGNORES_SIGINT)?, &fake.options())?;
    let pid = running.pid();
    let output_path = running.output_path().to_path_buf();
    assert!(
        !group_members(pid).is_empty(),
        "the scheduler group should be running"
    );
    drop(running);
    assert_no_leftovers(pid);
    assert!(!output_path.exists(), "output file outlived the scheduler");
    Ok(())
}

#[test]
fn launch_refuses_what_it_cannot_run() -> Result<()> {
    let _serial = crate::serial();
    let fake = Fake::new()?;
    let eevdf = Scheduler::EEVDF.spec();
    let failure = expect_failure(launch(&eevdf, &fake.options()))?;
    assert!(
        matches!(failure.reason, LaunchFailureReason::NoBinary),
        "{failure}"
    );
    let missing = SchedulerSpec {
        name: "ghost".into(),
        guest_binary: Some(
            fake.dir
                .path()
                .join("no-such-binary")
                .to_string_lossy()
                .into(),
        ),
        args: vec![],
        diagnostic_args: vec![],
    };
    let failure = expect_failure(launch(&missing, &fake.options()))?;
    assert!(
        matches!(failure.reason, LaunchFailureReason::SpawnFailed { .. }),
        "{failure}"
    );
    std::fs::create_dir(fake.root().join("root"))?;
    std::fs::write(fake.root().join("root/ops"), "other\n")?;
    let failure = expect_failure(launch(&fake.spec(ATTACHES)?, &fake.options()))?;
    assert!(
        matches!(failure.reason, LaunchFailureReason::Busy { ref ops } if ops == "other"),
        "{failure}"
    );
    assert!(
        !fake.dir.path().join("pid").exists(),
        "a busy launch must not start the binary"
    );
    Ok(())
}

#[test]
fn host_kmsg_reads_without_blocking() -> Result<()> {
    let _serial = crate::serial();
    let marker = format!("ktstr sched host test {}", std::process::id());
    std::fs::write(KMSG_PATH, format!("<6>{marker}\n"))
        .with_context(|| format!("write {KMSG_PATH}: these tests run as root"))?;
    let started = Instant::now();
    let records = read_kmsg(Path::new(KMSG_PATH), 100_000)?;
    let took = started.elapsed();
    assert!(took < MARGIN, "reading {KMSG_PATH} took {took:?}");
    assert!(
        records.iter().rev().take(50).any(|r| r.text == marker),
        "marker missing from the last records"
    );
    assert!(
        records.windows(2).all(|w| w[0].seq < w[1].seq),
        "sequence numbers must rise"
    );
    Ok(())
}

/// PID 1 for the real-kernel test: runs `scx_qmap -t 10` (stall every 10th user task), snapshots sched_ext's
/// sysfs once attached, waits for the watchdog to eject it, and ships sysfs, `/dev/kmsg` and the scheduler's
/// output as base64 log lines.
const QMAP_INIT_BODY: &str = r#"send() { echo "{\"type\":\"log\",\"line\":\"$1:$(busybox base64 -w 0 "$2")\"}" >&3; }
scx=/sys/kernel/sched_ext
/bin/scx_qmap -t 10 >/tmp/sched.log 2>&1 &
i=0
while [ "$(cat $scx/state)" != enabled ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
cat $scx/state >/tmp/state; cat $scx/root/ops >/tmp/ops; cat $scx/enable_seq >/tmp/enable_seq
i=0
while [ "$(cat $scx/state)" = enabled ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
wait
busybox timeout 1 cat /dev/kmsg >/tmp/kmsg
for f in state ops enable_seq sched.log kmsg; do send $f /tmp/$f; done
echo '{"type":"finished","exit_code":0}' >&3
poweroff -f
"#;

/// Boot allowance for TCG on a loaded two-core machine, plus the watchdog's 5 s.
const QMAP_DEADLINE: Duration = Duration::from_secs(300);

/// The kernel the VM tests boot (`KTSTR_KERNEL`, else the newest cache entry) and its scx_qmap.
fn kernel_with_qmap() -> Result<(PathBuf, PathBuf)> {
    let kernel = ktstr::kernel::resolve_kernel()?;
    let qmap = kernel.scheduler("scx_qmap").context(
        "the kernel has no sched/scx_qmap; run `cargo run -p ktstr-cli -- kernel build`",
    )?;
    Ok((kernel.image().to_path_buf(), qmap))
}

/// Boots the kernel with `QMAP_INIT_BODY` and returns the decoded files the guest sent, by name.
fn run_qmap_guest((image, qmap_binary): (PathBuf, PathBuf)) -> Result<BTreeMap<String, Vec<u8>>> {
    use crate::vm::GuestMessage;
    use base64::Engine;
    use ktstr::vm::{
        ChannelEvent, ChannelReader, InitramfsCache, InitramfsSpec, KernelCmdline, QemuProcess,
        TrialDir,
    };
    let qmap = Scheduler::in_tree("scx_qmap")?;
    let host_qmap = qmap_binary;
    let guest_qmap = qmap.guest_path().context("in-tree has a guest path")?;
    let dir = TrialDir::new()?;
    let script = dir.path().join("init.sh");
    crate::vm::write_init(&script, QMAP_INIT_BODY)?;
    let spec = InitramfsSpec::new(&script).binary(&host_qmap, &guest_qmap);
    let base = InitramfsCache::from_env()?.base(&spec)?;
    std::fs::copy(&base.path, dir.initramfs())?;
    let vm_spec = crate::vm::vm_spec("1n1l2c1t".parse()?, image, KernelCmdline::base(), &dir)?;
    let deadline = Instant::now() + QMAP_DEADLINE;
    let mut vm = QemuProcess::spawn(&vm_spec, dir)?;
    let reader = ChannelReader::<GuestMessage>::spawn(&vm.dir().channel_socket(), deadline)?;
    let mut files = BTreeMap::new();
    loop {
        match reader.recv_until(deadline) {
            Some(ChannelEvent::Message {
                message: GuestMessage::Log { line },
                ..
            }) => {
                let (name, data) = line.split_once(':').context("name:base64")?;
                let bytes = base64::engine::general_purpose::STANDARD.decode(data)?;
                files.insert(name.to_string(), bytes);
            }
            Some(ChannelEvent::Closed) => break,
            Some(ChannelEvent::Failed(e)) => return Err(e.into()),
            None => bail!("no end of channel by the deadline"),
            Some(_) => {}
        }
    }
    vm.wait_until(deadline)?;
    Ok(files)
}

#[test]
fn parsers_read_a_real_qmap_stall_from_a_6_12_guest() -> Result<()> {
    let _serial = crate::serial();
    let files = run_qmap_guest(kernel_with_qmap()?)?;
    let file = |name: &str| -> Result<&Vec<u8>> {
        files
            .get(name)
            .with_context(|| format!("guest sent no {name}; got {:?}", files.keys()))
    };
    let fake = tempfile::tempdir()?;
    std::fs::create_dir(fake.path().join("root"))?;
    std::fs::write(fake.path().join("state"), file("state")?)?;
    std::fs::write(fake.path().join("root/ops"), file("ops")?)?;
    std::fs::write(fake.path().join("enable_seq"), file("enable_seq")?)?;
    let sysfs = ScxSysfs::new(fake.path());
    assert_eq!(sysfs.state()?, ScxState::Enabled);
    assert_eq!(sysfs.ops()?.as_deref(), Some("qmap"));
    assert!(sysfs.enable_seq()? >= 1);

    let kmsg_file = fake.path().join("kmsg");
    std::fs::write(&kmsg_file, file("kmsg")?)?;
    let kmsg: Vec<String> = read_kmsg(&kmsg_file, 100_000)?
        .into_iter()
        .map(|r| r.text)
        .collect();
    let enabled = ScxLogEvent::Enabled {
        scheduler: "qmap".into(),
        partial: false,
    };
    assert!(
        kmsg.iter()
            .any(|line| ScxLogEvent::parse(line) == Some(enabled.clone())),
        "no enable line in the kernel log: {:?}",
        kmsg.iter()
            .filter(|l| l.contains("sched_ext"))
            .collect::<Vec<_>>()
    );
    let output = String::from_utf8_lossy(file("sched.log")?).into_owned();
    let exit = ScxExit::from_logs("qmap", &kmsg, &output)
        .with_context(|| format!("no exit found; output:\n{output}"))?;
    assert_eq!(exit.kind(), ScxExitKind::Stall, "{exit:?}");
    let stall = exit
        .stall()
        .with_context(|| format!("no stall in {exit:?}"))?;
    assert!(stall.stalled_for >= Duration::from_secs(5), "{stall:?}");
    let none: [&str; 0] = [];
    let from_output = ScxExit::from_logs("qmap", &none, &output);
    assert_eq!(
        from_output.as_ref(),
        Some(&exit),
        "EXIT: line and kernel log disagree"
    );
    eprintln!(
        "sched vm: {exit:?}; kernel lines: {:?}",
        kmsg.iter()
            .filter(|l| l.contains("sched_ext"))
            .collect::<Vec<_>>()
    );
    Ok(())
}
