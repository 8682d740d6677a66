//! Exact argument vectors for each builder and for whole command lines.

use super::*;
use crate::vm::{KernelCmdline, VmRequest};

fn topo(text: &str) -> Topology {
    text.parse().expect("valid topology")
}

fn split(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

#[test]
fn machine_and_cpu_follow_the_accelerator() {
    assert_eq!(machine_args(Accel::Kvm), split("-machine q35 -accel kvm"));
    assert_eq!(
        machine_args(Accel::Tcg),
        split("-machine q35 -accel tcg,thread=multi")
    );
    assert_eq!(cpu_args(Accel::Kvm), split("-cpu host"));
    assert_eq!(cpu_args(Accel::Tcg), split("-cpu max"));
}

#[test]
fn smp_is_one_socket_per_llc() {
    let cases = [
        ("1n2l2c1t", "cpus=4,sockets=2,cores=2,threads=1"),
        ("2n4l1c1t", "cpus=4,sockets=4,cores=1,threads=1"),
        ("1n2l2c2t", "cpus=8,sockets=2,cores=2,threads=2"),
        ("1n1l2c1t", "cpus=2,sockets=1,cores=2,threads=1"),
    ];
    for (text, want) in cases {
        assert_eq!(smp_args(&topo(text)), ["-smp", want], "{text}");
    }
}

#[test]
fn single_node_has_no_numa_args() {
    for text in ["1n2l2c1t", "1n2l2c2t", "1n1l1c1t"] {
        assert!(numa_args(&topo(text), 512).is_empty(), "{text}");
    }
}

#[test]
fn two_nodes_get_backends_ranges_and_distances() {
    let want = split(
        "-object memory-backend-ram,id=m0,size=256M -numa node,nodeid=0,cpus=0-1,memdev=m0 \
         -object memory-backend-ram,id=m1,size=256M -numa node,nodeid=1,cpus=2-3,memdev=m1 \
         -numa dist,src=0,dst=1,val=20 -numa dist,src=1,dst=0,val=20",
    );
    assert_eq!(numa_args(&topo("2n4l1c1t"), 512), want);
}

#[test]
fn node_cpu_ranges_match_the_synthetic_topology() {
    use crate::topology::TestTopology;
    for text in ["2n4l1c1t", "2n4l2c2t", "4n8l2c1t", "3n6l1c2t"] {
        let t = topo(text);
        let synthetic = TestTopology::from_topology(&t);
        let ranges: Vec<String> = numa_args(&t, 1200)
            .iter()
            .filter_map(|arg| arg.strip_prefix("node,"))
            .map(|node| node.split(',').nth(1).expect("cpus=").replace("cpus=", ""))
            .collect();
        let want: Vec<String> = synthetic
            .numa_node_ids()
            .into_iter()
            .map(|n| synthetic.numa_node_cpus(n).to_string())
            .collect();
        assert_eq!(ranges, want, "{text}");
    }
}

#[test]
fn console_and_channel_escape_commas() {
    assert_eq!(
        console_args("/tmp/a,b/console.log"),
        split("-chardev file,id=ktstr-console,path=/tmp/a,,b/console.log -serial chardev:ktstr-console")
    );
    assert_eq!(
        channel_args("/tmp/t/ktstr.sock"),
        split(
            "-device virtio-serial-pci,id=ktstr-serial \
             -chardev socket,id=ktstr0,path=/tmp/t/ktstr.sock,server=on,wait=off \
             -device virtserialport,bus=ktstr-serial.0,chardev=ktstr0,name=ktstr.0"
        )
    );
}

#[test]
fn boot_args_keep_the_cmdline_as_one_argument() {
    assert_eq!(
        boot_args("/k/bzImage", "/t/initramfs.cpio", "console=ttyS0 panic=-1"),
        [
            "-kernel",
            "/k/bzImage",
            "-initrd",
            "/t/initramfs.cpio",
            "-append",
            "console=ttyS0 panic=-1"
        ]
    );
    assert_eq!(memory_args(384), ["-m", "384M"]);
}

fn spec_in(dir: &std::path::Path, text: &str, accel: Accel) -> VmSpec {
    std::fs::write(dir.join("bzImage"), b"k").expect("write");
    std::fs::write(dir.join("initramfs.cpio"), b"i").expect("write");
    VmSpec::new(VmRequest {
        topology: topo(text),
        memory_mb: None,
        kernel: dir.join("bzImage"),
        initramfs: dir.join("initramfs.cpio"),
        cmdline: KernelCmdline::base(),
        console_log: dir.join("console.log"),
        channel_socket: dir.join("ktstr.sock"),
        accel,
    })
    .expect("valid spec")
}

/// The whole command line with the temp dir written as `D`.
fn argv_text(text: &str, accel: Accel) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let argv = qemu_argv(&spec_in(dir.path(), text, accel)).join(" ");
    argv.replace(dir.path().to_str().expect("utf-8 tempdir"), "D")
}

const TAIL: &str = "-kernel D/bzImage -initrd D/initramfs.cpio -append console=ttyS0 panic=-1 rdinit=/init \
    -chardev file,id=ktstr-console,path=D/console.log -serial chardev:ktstr-console \
    -device virtio-serial-pci,id=ktstr-serial -chardev socket,id=ktstr0,path=D/ktstr.sock,server=on,wait=off \
    -device virtserialport,bus=ktstr-serial.0,chardev=ktstr0,name=ktstr.0";

#[test]
fn whole_command_lines() {
    let head = "-nodefaults -no-user-config -no-reboot -display none";
    let cases = [
        (
            "1n2l2c1t",
            Accel::Tcg,
            "-machine q35 -accel tcg,thread=multi -cpu max \
             -smp cpus=4,sockets=2,cores=2,threads=1 -m 512M",
        ),
        (
            "1n2l2c1t",
            Accel::Kvm,
            "-machine q35 -accel kvm -cpu host -smp cpus=4,sockets=2,cores=2,threads=1 -m 512M",
        ),
        (
            "1n2l2c2t",
            Accel::Tcg,
            "-machine q35 -accel tcg,thread=multi -cpu max \
             -smp cpus=8,sockets=2,cores=2,threads=2 -m 768M",
        ),
        (
            "2n4l1c1t",
            Accel::Tcg,
            "-machine q35 -accel tcg,thread=multi -cpu max \
             -smp cpus=4,sockets=4,cores=1,threads=1 -m 512M \
             -object memory-backend-ram,id=m0,size=256M -numa node,nodeid=0,cpus=0-1,memdev=m0 \
             -object memory-backend-ram,id=m1,size=256M -numa node,nodeid=1,cpus=2-3,memdev=m1 \
             -numa dist,src=0,dst=1,val=20 -numa dist,src=1,dst=0,val=20",
        ),
    ];
    for (text, accel, middle) in cases {
        let want = split(&format!("{head} {middle} {TAIL}")).join(" ");
        assert_eq!(argv_text(text, accel), want, "{text} {accel}");
    }
}

#[test]
fn cmdline_stays_one_argument_in_the_whole_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let argv = qemu_argv(&spec_in(dir.path(), "1n1l2c1t", Accel::Tcg));
    let append = argv.iter().position(|a| a == "-append").expect("-append");
    assert_eq!(argv[append + 1], "console=ttyS0 panic=-1 rdinit=/init");
}

#[test]
fn a_terminal_console_is_stdio_with_ctrl_c_for_the_guest() {
    assert_eq!(
        terminal_console_args().join(" "),
        "-chardev stdio,id=ktstr-console,signal=off -serial chardev:ktstr-console"
    );
}
