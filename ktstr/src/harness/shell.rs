//! `ktstr shell`: the cached kernel booted with a topology and optionally a scheduler, its console a busybox
//! shell on this terminal (or one command's output), files carried in with their libraries. Nothing it
//! starts outlives it: QEMU is a guarded child and the VM's directory is removed with it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::trial::{guest_initramfs, vm_spec, HarnessError};
use crate::guest::ShellSpec;
use crate::kernel::{resolve_kernel_flavor, KernelFlavor};
use crate::protocol::GuestMessage;
use crate::sched::Scheduler;
use crate::topology::Topology;
use crate::vm::{
    Accel, ChannelEvent, ChannelReader, InitramfsCache, KernelCmdline, QemuExit, QemuProcess,
    TrialDir,
};

/// What to boot and what to run in it.
#[derive(Debug, Clone)]
pub struct ShellRequest {
    pub topology: Topology,
    pub scheduler: Scheduler,
    /// One command for `sh -c`; `None` is an interactive shell.
    pub exec: Option<String>,
    /// Host files carried into the guest at the same absolute paths.
    pub include: Vec<PathBuf>,
    pub memory_mb: Option<u32>,
    pub kernel_flavor: Option<KernelFlavor>,
}

/// Time a guest gets to open its channel.
const CONNECT: Duration = Duration::from_secs(120);

/// Boots the shell and returns its exit status once the guest powers off.
pub fn run_shell(request: &ShellRequest) -> Result<i32, HarnessError> {
    let accel = Accel::detect()?;
    crate::vm::check_capacity(&request.topology, accel)?;
    let kernel = resolve_kernel_flavor(request.kernel_flavor)?;
    let scheduler = &request.scheduler;
    let binary = scheduler.locate(|name| kernel.scheduler(name))?;
    let mut initramfs = guest_initramfs(scheduler, binary.as_ref())?;
    for path in &request.include {
        initramfs = initramfs.include(path, &guest_path(path)?);
    }
    let base = InitramfsCache::from_env()?.base(&initramfs)?;
    let shell = ShellSpec {
        scheduler: binary.is_some().then(|| scheduler.spec()),
        exec: request.exec.clone(),
    };
    let cmdline = KernelCmdline::base().with_shell(&shell)?.flag("quiet")?;
    let dir = TrialDir::new()?;
    let images = (&kernel, base.path.as_path());
    let vm = vm_spec(
        &dir,
        request.topology,
        request.memory_mb,
        images,
        cmdline,
        accel,
    )?
    .on_terminal();
    let mut qemu = QemuProcess::spawn(&vm, dir)?;
    let reader = ChannelReader::spawn(vm.channel_socket(), Instant::now() + CONNECT)?;
    let exit = qemu.wait_until(Instant::now() + Duration::from_secs(u32::MAX.into()))?;
    let stderr = std::fs::read_to_string(qemu.dir().qemu_stderr()).unwrap_or_default();
    drop(qemu);
    exit_code(&reader).ok_or_else(|| {
        let how = match exit {
            QemuExit::Exited(status) => format!("QEMU ended ({status})"),
            QemuExit::TimedOut => "QEMU was killed".into(),
        };
        HarnessError::ShellEnded(format!(
            "{how} before the guest said how its shell ended{}",
            stderr
                .lines()
                .last()
                .map(|l| format!(": {l}"))
                .unwrap_or_default()
        ))
    })
}

/// Where `path` goes in the guest: the same absolute path.
fn guest_path(path: &std::path::Path) -> Result<String, HarnessError> {
    let bad = |reason: String| HarnessError::ShellInclude {
        path: path.to_path_buf(),
        reason,
    };
    let absolute = std::fs::canonicalize(path).map_err(|e| bad(e.to_string()))?;
    if !absolute.is_file() {
        return Err(bad("not a file".into()));
    }
    if let Some(mount) = ["/proc", "/sys", "/dev"]
        .iter()
        .find(|m| absolute.starts_with(m))
    {
        return Err(bad(format!(
            "the guest mounts its own {mount} over it; copy it elsewhere first"
        )));
    }
    absolute
        .to_str()
        .map(str::to_string)
        .ok_or_else(|| bad("not UTF-8".into()))
}

/// The exit status the guest sent before powering off.
fn exit_code(reader: &ChannelReader<GuestMessage>) -> Option<i32> {
    let drained = Instant::now() + Duration::from_secs(2);
    while let Some(event) = reader.recv_until(drained) {
        match event {
            ChannelEvent::Message {
                message: GuestMessage::Finished { exit_code },
                ..
            } => return Some(exit_code),
            ChannelEvent::Closed | ChannelEvent::Failed(_) => return None,
            _ => {}
        }
    }
    None
}
