//! QEMU command lines, built by small pure functions from a [`VmSpec`].
//!
//! Topology: one socket per LLC (`-smp cpus=N,sockets=LLCS,cores=C,threads=T`) gives each LLC its own L3 in the
//! guest. Several NUMA nodes get one RAM backend each, contiguous CPU ranges, and 10/20 distances. A single node
//! gets no `-numa` arguments: without an SRAT the kernel makes node 0 of all CPUs and memory, which is the same
//! guest view with fewer moving parts.

use super::{Accel, VmSpec};
use crate::topology::Topology;

/// The QEMU binary the runner starts.
pub const QEMU_BINARY: &str = "qemu-system-x86_64";
/// The chardev id and the virtio-serial port name of the guest→host channel.
pub(crate) const CHANNEL_CHARDEV: &str = "ktstr0";
pub const CHANNEL_PORT_NAME: &str = "ktstr.0";
/// Distance between two different NUMA nodes; QEMU makes a node's distance to itself 10.
const REMOTE_DISTANCE: u32 = 20;

/// Every argument after the binary name, in a fixed order.
pub fn qemu_argv(spec: &VmSpec) -> Vec<String> {
    // VmSpec::new checked every path is UTF-8, so this conversion is lossless.
    let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
    [
        base_args(),
        machine_args(spec.accel()),
        cpu_args(spec.accel()),
        smp_args(spec.topology()),
        memory_args(spec.memory_mb()),
        numa_args(spec.topology(), spec.memory_mb()),
        boot_args(
            &path(spec.kernel()),
            &path(spec.initramfs()),
            &spec.cmdline().to_string(),
        ),
        match spec.is_on_terminal() {
            true => terminal_console_args(),
            false => console_args(&path(spec.console_log())),
        },
        channel_args(&path(spec.channel_socket())),
    ]
    .concat()
}

fn strings<const N: usize>(args: [&str; N]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// No default devices, no config files, no display, and exit instead of rebooting.
pub(crate) fn base_args() -> Vec<String> {
    strings([
        "-nodefaults",
        "-no-user-config",
        "-no-reboot",
        "-display",
        "none",
    ])
}

/// `q35` (PCIe, ACPI with SRAT/SLIT for NUMA) and the accelerator; TCG runs one host thread per vCPU.
pub(crate) fn machine_args(accel: Accel) -> Vec<String> {
    let accel = match accel {
        Accel::Kvm => "kvm",
        Accel::Tcg => "tcg,thread=multi",
    };
    strings(["-machine", "q35", "-accel", accel])
}

/// The host's CPU under KVM; under TCG, `max` (every feature TCG emulates, topology as `-smp` says).
pub(crate) fn cpu_args(accel: Accel) -> Vec<String> {
    let model = match accel {
        Accel::Kvm => "host",
        Accel::Tcg => "max",
    };
    strings(["-cpu", model])
}

/// One socket per LLC.
pub(crate) fn smp_args(topo: &Topology) -> Vec<String> {
    vec![
        "-smp".into(),
        format!(
            "cpus={},sockets={},cores={},threads={}",
            topo.total_cpus(),
            topo.llcs(),
            topo.cores_per_llc(),
            topo.threads_per_core()
        ),
    ]
}

pub(crate) fn memory_args(memory_mb: u32) -> Vec<String> {
    vec!["-m".into(), format!("{memory_mb}M")]
}

/// Per node: a RAM backend of an even share, the node with its CPU range, then distances between nodes.
pub(crate) fn numa_args(topo: &Topology, memory_mb: u32) -> Vec<String> {
    let nodes = topo.numa_nodes();
    if nodes == 1 {
        return Vec::new();
    }
    let node_mb = memory_mb / nodes;
    let cpus_per_node = topo.llcs_per_node() * topo.cpus_per_llc();
    let mut args = Vec::new();
    for node in 0..nodes {
        let first = node * cpus_per_node;
        let last = first + cpus_per_node - 1;
        args.extend([
            "-object".into(),
            format!("memory-backend-ram,id=m{node},size={node_mb}M"),
            "-numa".into(),
            format!("node,nodeid={node},cpus={first}-{last},memdev=m{node}"),
        ]);
    }
    for src in 0..nodes {
        for dst in (0..nodes).filter(|&dst| dst != src) {
            args.extend([
                "-numa".into(),
                format!("dist,src={src},dst={dst},val={REMOTE_DISTANCE}"),
            ]);
        }
    }
    args
}

pub(crate) fn boot_args(kernel: &str, initramfs: &str, cmdline: &str) -> Vec<String> {
    strings(["-kernel", kernel, "-initrd", initramfs, "-append", cmdline])
}

/// The first serial port (the guest's `ttyS0`) written to a file.
pub(crate) fn console_args(log: &str) -> Vec<String> {
    vec![
        "-chardev".into(),
        format!("file,id=ktstr-console,path={}", escape(log)),
        "-serial".into(),
        "chardev:ktstr-console".into(),
    ]
}

/// The first serial port on QEMU's stdin and stdout; Ctrl-C goes to the guest, not to QEMU.
pub(crate) fn terminal_console_args() -> Vec<String> {
    strings([
        "-chardev",
        "stdio,id=ktstr-console,signal=off",
        "-serial",
        "chardev:ktstr-console",
    ])
}

/// A virtio-serial port named `ktstr.0` backed by a unix socket QEMU listens on without waiting for a client.
pub(crate) fn channel_args(socket: &str) -> Vec<String> {
    vec![
        "-device".into(),
        "virtio-serial-pci,id=ktstr-serial".into(),
        "-chardev".into(),
        format!(
            "socket,id={CHANNEL_CHARDEV},path={},server=on,wait=off",
            escape(socket)
        ),
        "-device".into(),
        format!(
            "virtserialport,bus=ktstr-serial.0,chardev={CHANNEL_CHARDEV},name={CHANNEL_PORT_NAME}"
        ),
    ]
}

/// A value inside a QEMU option list: a literal comma is written twice.
fn escape(value: &str) -> String {
    value.replace(',', ",,")
}

#[cfg(test)]
#[path = "qemu_tests.rs"]
mod tests;
