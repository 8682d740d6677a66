//! Boots a real kernel in QEMU with a busybox-script `/init` and checks the channel, the topology the guest
//! sees, the initramfs closure, and that no QEMU process or trial directory outlives its guard.
//!
//! The kernel is `KTSTR_KERNEL`, else the newest ktstr cache entry; with neither the tests fail and say how
//! to build one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use ktstr::topology::{TestTopology, Topology};
use ktstr::vm::{
    write_trial_initramfs, Accel, ChannelEvent, ChannelReader, InitramfsCache, InitramfsSpec,
    KernelCmdline, QemuExit, QemuProcess, TrialDir, TrialFile, VmRequest, VmSpec,
};
use serde_json::{json, Value};

/// What the busybox-script guests of these tests send: the channel carries any serde type, and these
/// shell guests speak a small one of their own.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum GuestMessage {
    Started,
    Log { line: String },
    Report { payload: Value },
    Finished { exit_code: i32 },
}

/// Boot allowance for TCG on a loaded two-core machine.
const BOOT_DEADLINE: Duration = Duration::from_secs(240);

/// The start of every shell `/init` of the host tests: mount proc, sysfs and devtmpfs, open the ktstr.0
/// port as fd 3 (or power off when there is none) and send `started`.
const INIT_PRELUDE: &str = r#"#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
port=
for d in /sys/class/virtio-ports/*; do
    [ "$(cat "$d/name" 2>/dev/null)" = ktstr.0 ] && port="/dev/${d##*/}"
done
if [ -z "$port" ]; then
    echo "ktstr test init: no ktstr.0 port" >/dev/console
    poweroff -f
fi
exec 3>"$port"
echo '{"type":"started"}' >&3
"#;

/// Writes a shell `/init` of `body` after [`INIT_PRELUDE`] to `path`.
pub(crate) fn write_init(path: &Path, body: &str) -> std::io::Result<()> {
    std::fs::write(path, format!("{INIT_PRELUDE}{body}"))
}

/// A VM spec of `topology` booting `kernel` with the trial directory's initramfs, console and channel.
pub(crate) fn vm_spec(
    topology: Topology,
    kernel: PathBuf,
    cmdline: KernelCmdline,
    dir: &TrialDir,
) -> Result<VmSpec> {
    Ok(VmSpec::new(VmRequest {
        topology,
        memory_mb: None,
        kernel,
        initramfs: dir.initramfs(),
        cmdline,
        console_log: dir.console_log(),
        channel_socket: dir.channel_socket(),
        accel: Accel::detect()?,
    })?)
}

/// After the prelude: log the command line, run the dynamic `ls`, act on the trial's mode file, power off.
const INIT_BODY: &str = r#"echo "{\"type\":\"log\",\"line\":\"cmdline $(cat /proc/cmdline)\"}" >&3
if /opt/bin/ls /opt/bin >/dev/null; then
    echo '{"type":"log","line":"dynamic ls ran"}' >&3
fi
case "$(cat /etc/ktstr-test/mode)" in
topology)
    llc= smt= nodes= sep=
    for c in /sys/devices/system/cpu/cpu[0-9]*; do
        cpu=${c##*/}
        llc="$llc$sep\"$cpu\":\"$(cat "$c/cache/index3/shared_cpu_list")\""
        smt="$smt$sep\"$cpu\":\"$(cat "$c/topology/thread_siblings_list")\""
        sep=,
    done
    sep=
    for n in /sys/devices/system/node/node[0-9]*; do
        nodes="$nodes$sep\"${n##*/}\":\"$(cat "$n/cpulist")\""
        sep=,
    done
    echo "{\"type\":\"report\",\"payload\":{\"llc\":{$llc},\"smt\":{$smt},\"nodes\":{$nodes}}}" >&3
    ;;
hang)
    sleep 1000
    ;;
esac
echo '{"type":"finished","exit_code":0}' >&3
poweroff -f
"#;

/// The kernel the VM tests boot: `KTSTR_KERNEL`, else the newest cache entry; an error says how to get one.
fn test_kernel() -> Result<PathBuf> {
    Ok(ktstr::kernel::resolve_kernel()?.image().to_path_buf())
}

/// The base initramfs shared by every test here: the script as `/init`, `/bin/ls` (dynamic) at
/// `/opt/bin/ls`, and busybox.
fn base_initramfs(scratch: &Path) -> Result<PathBuf> {
    let script = scratch.join("init.sh");
    write_init(&script, INIT_BODY)?;
    let spec = InitramfsSpec::new(&script).binary("/bin/ls", "/opt/bin/ls");
    Ok(InitramfsCache::from_env()?.base(&spec)?.path)
}

/// A trial directory whose initramfs is the base one with the guest's mode file set to `mode`.
fn trial_in_mode(mode: &str) -> Result<TrialDir> {
    let dir = TrialDir::new()?;
    let base = base_initramfs(dir.path())?;
    let mode_file = TrialFile {
        path: "/etc/ktstr-test/mode".into(),
        contents: mode.as_bytes().to_vec(),
        mode: 0o644,
    };
    write_trial_initramfs(&base, &[mode_file], &dir.initramfs())?;
    Ok(dir)
}

/// A booted guest's events and timings.
struct Boot {
    messages: Vec<GuestMessage>,
    exit: QemuExit,
    first_message: Duration,
    total: Duration,
    pid: u32,
    dir: PathBuf,
}

/// Boots `topology` with the guest's mode file set to `mode`, waits for QEMU to exit, and drops the guard.
fn boot(topology: &str, mode: &str) -> Result<Boot> {
    let topology: Topology = topology.parse()?;
    let dir = trial_in_mode(mode)?;
    let cmdline = KernelCmdline::base().with_trial(&trial(&topology, mode))?;
    let spec = vm_spec(topology, test_kernel()?, cmdline, &dir)?;
    let started = Instant::now();
    let deadline = started + BOOT_DEADLINE;
    let mut vm = QemuProcess::spawn(&spec, dir)?;
    let (pid, dir) = (vm.pid(), vm.dir().path().to_path_buf());
    let reader = ChannelReader::spawn(vm.dir().channel_socket().as_path(), deadline)?;
    let (messages, first_at) = collect(&reader, deadline, vm.dir())?;
    let exit = vm.wait_until(deadline)?;
    let total = started.elapsed();
    drop(reader);
    drop(vm);
    Ok(Boot {
        messages,
        exit,
        first_message: first_at.context("no message arrived")? - started,
        total,
        pid,
        dir,
    })
}

fn trial(topology: &Topology, mode: &str) -> Value {
    json!({ "test": "vm_host_test", "topology": topology.to_string(), "mode": mode })
}

/// Messages until the channel closes, and when the first arrived; a bad line or a failure is an error.
fn collect(
    reader: &ChannelReader<GuestMessage>,
    deadline: Instant,
    dir: &TrialDir,
) -> Result<(Vec<GuestMessage>, Option<Instant>)> {
    let mut messages = Vec::new();
    let mut first = None;
    loop {
        match reader.recv_until(deadline) {
            Some(ChannelEvent::Connected { .. }) => {}
            Some(ChannelEvent::Message { message, at }) => {
                first.get_or_insert(at);
                messages.push(message);
            }
            Some(ChannelEvent::Closed) => return Ok((messages, first)),
            Some(ChannelEvent::Unparsed { line, reason }) => bail!("bad line {line:?}: {reason}"),
            Some(ChannelEvent::Failed(e)) => return Err(e).context(console_tail(dir)),
            None => bail!("no end of channel by the deadline; {}", console_tail(dir)),
        }
    }
}

fn console_tail(dir: &TrialDir) -> String {
    let text = std::fs::read_to_string(dir.console_log()).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(30)..].join("\n");
    format!("console tail:\n{tail}")
}

/// Whether `pid` still names a process (a reaped child does not).
fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The guest's report payload; fails when there is not exactly one.
fn report(boot: &Boot) -> Result<&Value> {
    let reports: Vec<&Value> = boot
        .messages
        .iter()
        .filter_map(|m| match m {
            GuestMessage::Report { payload } => Some(payload),
            _ => None,
        })
        .collect();
    ensure!(
        reports.len() == 1,
        "want one report, got {:?}",
        boot.messages
    );
    Ok(reports[0])
}

/// `{"cpu0": "0-1", ...}` maps the guest reported, and the same maps for the synthetic topology.
fn topology_maps(
    payload: &Value,
    topo: &Topology,
) -> Result<[(String, BTreeMap<String, String>); 6]> {
    let got = |key: &str| -> Result<BTreeMap<String, String>> {
        serde_json::from_value(payload[key].clone()).with_context(|| format!("{key} in {payload}"))
    };
    let want = TestTopology::from_topology(topo);
    let per_cpu = |f: &dyn Fn(usize) -> String| -> BTreeMap<String, String> {
        want.all_cpus()
            .iter()
            .map(|cpu| (format!("cpu{cpu}"), f(cpu)))
            .collect()
    };
    let llc_of = |cpu| {
        want.llcs()[want.llc_of_cpu(cpu).expect("cpu in an llc")]
            .cpus
            .to_string()
    };
    let nodes = want
        .numa_node_ids()
        .into_iter()
        .map(|n| (format!("node{n}"), want.numa_node_cpus(n).to_string()))
        .collect();
    Ok([
        ("llc (guest)".into(), got("llc")?),
        ("llc (requested)".into(), per_cpu(&llc_of)),
        ("smt (guest)".into(), got("smt")?),
        (
            "smt (requested)".into(),
            per_cpu(&|cpu| want.smt_siblings(cpu).to_string()),
        ),
        ("nodes (guest)".into(), got("nodes")?),
        ("nodes (requested)".into(), nodes),
    ])
}

fn assert_clean_exit(boot: &Boot) {
    assert!(
        matches!(boot.exit, QemuExit::Exited(status) if status.success()),
        "QEMU: {:?}",
        boot.exit
    );
    assert!(
        !process_exists(boot.pid),
        "QEMU pid {} outlived its guard",
        boot.pid
    );
    assert!(
        !boot.dir.exists(),
        "{} outlived its guard",
        boot.dir.display()
    );
}

#[test]
fn guest_messages_reach_the_host_and_qemu_exits() -> Result<()> {
    let _serial = crate::serial();
    let topo: Topology = "1n1l2c1t".parse()?;
    let boot = boot(&topo.to_string(), "messages")?;
    assert_clean_exit(&boot);
    let [first, cmdline, ls, last] = boot.messages.as_slice() else {
        bail!(
            "want started, cmdline, ls, finished; got {:?}",
            boot.messages
        );
    };
    assert_eq!(*first, GuestMessage::Started);
    assert_eq!(
        *ls,
        GuestMessage::Log {
            line: "dynamic ls ran".into()
        }
    );
    assert_eq!(*last, GuestMessage::Finished { exit_code: 0 });
    let GuestMessage::Log { line } = cmdline else {
        bail!("want the cmdline log, got {cmdline:?}");
    };
    let text = line.strip_prefix("cmdline ").context("cmdline prefix")?;
    let parsed = KernelCmdline::parse(text)?;
    assert_eq!(parsed.trial::<Value>()?, trial(&topo, "messages"));
    assert_eq!(parsed.get("rdinit"), Some("/init"));
    eprintln!(
        "vm: {} {} boot to first message {:.2}s, to QEMU exit {:.2}s",
        Accel::detect()?,
        topo,
        boot.first_message.as_secs_f64(),
        boot.total.as_secs_f64()
    );
    Ok(())
}

fn check_topology(text: &str) -> Result<()> {
    let topo: Topology = text.parse()?;
    let boot = boot(text, "topology")?;
    assert_clean_exit(&boot);
    let [llc, want_llc, smt, want_smt, nodes, want_nodes] = topology_maps(report(&boot)?, &topo)?;
    assert_eq!(llc.1, want_llc.1, "{text}: {} vs {}", llc.0, want_llc.0);
    assert_eq!(smt.1, want_smt.1, "{text}: {} vs {}", smt.0, want_smt.0);
    assert_eq!(
        nodes.1, want_nodes.1,
        "{text}: {} vs {}",
        nodes.0, want_nodes.0
    );
    Ok(())
}

#[test]
fn guest_sees_two_llcs_of_two_cores() -> Result<()> {
    let _serial = crate::serial();
    check_topology("1n2l2c1t")
}

#[test]
fn guest_sees_two_nodes_of_two_llcs() -> Result<()> {
    let _serial = crate::serial();
    check_topology("2n4l1c1t")
}

/// Spawns a guest in `mode` on one node and two CPUs, returning the guard and the reader.
fn spawn_guest(mode: &str) -> Result<(QemuProcess, ChannelReader<GuestMessage>, Instant)> {
    let dir = trial_in_mode(mode)?;
    let spec = vm_spec(
        Topology::DEFAULT,
        test_kernel()?,
        KernelCmdline::base(),
        &dir,
    )?;
    let deadline = Instant::now() + BOOT_DEADLINE;
    let vm = QemuProcess::spawn(&spec, dir)?;
    let reader = ChannelReader::spawn(&vm.dir().channel_socket(), deadline)?;
    Ok((vm, reader, deadline))
}

#[test]
fn deadline_kills_a_guest_that_never_powers_off() -> Result<()> {
    let _serial = crate::serial();
    let (mut vm, reader, deadline) = spawn_guest("hang")?;
    let (pid, dir) = (vm.pid(), vm.dir().path().to_path_buf());
    loop {
        match reader.recv_until(deadline) {
            Some(ChannelEvent::Message {
                message: GuestMessage::Started,
                ..
            }) => break,
            Some(ChannelEvent::Closed | ChannelEvent::Failed(_)) | None => {
                bail!("guest never started; {}", console_tail(vm.dir()))
            }
            Some(_) => {}
        }
    }
    let exit = vm.wait_until(Instant::now() + Duration::from_secs(2))?;
    assert_eq!(exit, QemuExit::TimedOut);
    assert!(!process_exists(pid), "QEMU pid {pid} survived the deadline");
    drop(reader);
    drop(vm);
    assert!(!dir.exists(), "{} outlived its guard", dir.display());
    Ok(())
}

#[test]
fn dropping_a_booting_guest_kills_qemu_and_removes_its_dir() -> Result<()> {
    let _serial = crate::serial();
    let (vm, reader, deadline) = spawn_guest("hang")?;
    let (pid, dir) = (vm.pid(), vm.dir().path().to_path_buf());
    match reader.recv_until(deadline) {
        Some(ChannelEvent::Connected { .. }) => {}
        other => bail!("want a connection first, got {other:?}"),
    }
    assert!(process_exists(pid));
    drop(vm);
    assert!(!process_exists(pid), "QEMU pid {pid} outlived its guard");
    assert!(!dir.exists(), "{} outlived its guard", dir.display());
    let rest: Vec<String> = std::iter::from_fn(|| reader.recv_until(deadline))
        .map(|e| format!("{e:?}"))
        .collect();
    assert!(rest.last().is_some_and(|e| e == "Closed"), "{rest:?}");
    Ok(())
}

#[test]
fn base_initramfs_is_built_once_then_reused() -> Result<()> {
    let _serial = crate::serial();
    let cache_dir = tempfile::tempdir()?;
    let cache = InitramfsCache::at(cache_dir.path());
    // This test binary is a realistic `/init`: a large dynamically linked Rust executable.
    let spec = InitramfsSpec::new(std::env::current_exe()?);
    let timed = |spec: &InitramfsSpec| -> Result<_> {
        let started = Instant::now();
        let base = cache.base(spec)?;
        Ok((base, started.elapsed()))
    };
    let (built, build_time) = timed(&spec)?;
    let (reused, hit_time) = timed(&spec)?;
    assert!(!built.reused && reused.reused, "{built:?} then {reused:?}");
    assert_eq!((&built.path, &built.key), (&reused.path, &reused.key));
    let (changed, _) = timed(&spec.clone().binary("/bin/true", "/opt/bin/true"))?;
    assert!(!changed.reused && changed.key != built.key, "{changed:?}");
    let trial = TrialDir::new()?;
    let started = Instant::now();
    write_trial_initramfs(&built.path, &[], &trial.initramfs())?;
    let copy_time = started.elapsed();
    let size = std::fs::metadata(&built.path)?.len();
    eprintln!(
        "vm: base initramfs {} KiB built in {:.1} ms, cache hit in {:.1} ms, trial copy in {:.1} ms",
        size / 1024,
        build_time.as_secs_f64() * 1e3,
        hit_time.as_secs_f64() * 1e3,
        copy_time.as_secs_f64() * 1e3
    );
    Ok(())
}
