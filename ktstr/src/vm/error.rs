//! `VmError`: what went wrong building or running a VM trial, with the fix in the message.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use super::Accel;

/// Errors from the VM layer. Branch on the variant, never on the message.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    #[error("topology {topology} has {requested} vCPUs, but this host ({host_cpus} CPUs, {accel}) can run at most {limit} vCPUs; choose a smaller topology")]
    TooManyVcpus {
        topology: String,
        requested: u32,
        limit: u32,
        accel: Accel,
        host_cpus: u32,
    },

    #[error("KTSTR_ACCEL={value:?} is not an accelerator; set it to kvm or tcg, or unset it to choose automatically")]
    BadAccelOverride { value: String },

    #[error(
        "KTSTR_ACCEL=kvm but /dev/kvm does not open read-write; load the kvm module and give this user \
         access to /dev/kvm, or set KTSTR_ACCEL=tcg"
    )]
    KvmUnavailable,

    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("bad kernel command line key {key:?}: {reason}")]
    CmdlineKey { key: String, reason: &'static str },

    #[error("bad value {value:?} for kernel command line key {key:?}: {reason}")]
    CmdlineValue {
        key: String,
        value: String,
        reason: &'static str,
    },

    #[error("kernel command line would be {len} bytes, over the kernel's limit of {max}; pass less on it (put bulky data in the initramfs)")]
    CmdlineTooLong { len: usize, max: usize },

    #[error("cannot parse kernel command line {text:?}: {reason}")]
    CmdlineParse { text: String, reason: &'static str },

    #[error("kernel command line has no {key}=; the guest was not started by the ktstr runner")]
    CmdlineMissingKey { key: &'static str },

    #[error("cannot encode the trial as JSON: {0}")]
    TrialEncode(#[source] serde_json::Error),

    #[error("kernel command line value of {key} does not decode: {reason}; host and guest must run the same ktstr build")]
    TrialDecode { key: &'static str, reason: String },

    #[error("{what} {} is not a readable file: {source}", .path.display())]
    MissingFile {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{what} path {} is not UTF-8; QEMU arguments must be text, so use a UTF-8 path", .path.display())]
    NonUtf8Path { what: &'static str, path: PathBuf },

    #[error("{what} directory {} does not exist; create it first", .path.display())]
    MissingDir { what: &'static str, path: PathBuf },

    #[error("channel socket path {} is {len} bytes, over the {max}-byte limit of a unix socket; use a shorter TMPDIR", .path.display())]
    SocketPathTooLong {
        path: PathBuf,
        len: usize,
        max: usize,
    },

    #[error("guest memory {memory_mb} MB is below the floor of {floor_mb} MB for this initramfs; ask for at least {floor_mb} MB")]
    MemoryTooSmall { memory_mb: u32, floor_mb: u32 },

    #[error("guest memory {memory_mb} MB does not split evenly over {numa_nodes} NUMA nodes; use a multiple of {numa_nodes} MB")]
    MemoryNotSplittable { memory_mb: u32, numa_nodes: u32 },

    #[error("{} is not an ELF file ({reason}); pass an executable or a `#!` script", .path.display())]
    NotElf { path: PathBuf, reason: String },

    #[error("{} is a {found} ELF, not x86-64; build it for x86_64-linux", .path.display())]
    WrongElfMachine { path: PathBuf, found: String },

    #[error(
        "library {library} needed by {} is not in {searched:?}; install the package that provides it",
        .needed_by.display()
    )]
    LibraryNotFound {
        library: String,
        needed_by: PathBuf,
        searched: Vec<PathBuf>,
    },

    #[error(
        "library {library} resolves to both {} and {}; give the binaries one RUNPATH so they agree",
        .first.display(), .second.display()
    )]
    LibraryConflict {
        library: String,
        first: PathBuf,
        second: PathBuf,
    },

    #[error("busybox not found at {}; run scripts/setup.sh (it installs busybox-static)", .path.display())]
    BusyboxMissing { path: PathBuf },

    #[error("script {} runs {interpreter}, which the initramfs does not contain; use #!/bin/sh (busybox)", .script.display())]
    ScriptInterpreterMissing {
        script: PathBuf,
        interpreter: String,
    },

    #[error("initramfs path {path:?} is invalid: {reason}")]
    ArchivePath { path: String, reason: &'static str },

    #[error("initramfs path {path:?} is given twice ({first} and {second}); give each file its own path")]
    DuplicateArchivePath {
        path: String,
        first: String,
        second: String,
    },

    #[error("{} is {size} bytes, over the 4 GiB a cpio newc entry can hold", .path.display())]
    FileTooLarge { path: PathBuf, size: u64 },

    #[error("could not make a copy of {} without debug sections: {why}; or set KTSTR_LEAN_INIT=0 to boot it as built", .binary.display())]
    StripFailed { binary: PathBuf, why: String },

    #[error("KTSTR_INITRAMFS_CACHE_MB={value:?} is not a size in MiB above 0; unset it for the default (1024) or give one like 2048")]
    BadCacheCap { value: String },

    #[error("KTSTR_LEAN_INIT={value:?} is not 0 or 1; unset it (slim /init, the default) or set 0 to boot the binary as built")]
    BadLeanSetting { value: String },

    #[error("no cache directory: KTSTR_CACHE_DIR, XDG_CACHE_HOME and HOME are all unset or empty; set one of them")]
    NoCacheDir,

    #[error("no virtio port named {name} under {}; boot a kernel with VIRTIO_CONSOLE and start QEMU with the ktstr channel", .sys_dir.display())]
    PortNotFound {
        name: &'static str,
        sys_dir: PathBuf,
    },

    #[error("QEMU's channel socket {} did not accept a connection within {waited:?}; see the QEMU stderr log", .socket.display())]
    ChannelConnectTimeout { socket: PathBuf, waited: Duration },

    #[error("cannot start {program}: {source}; install qemu-system-x86 (scripts/setup.sh) or put it on PATH")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },
}

impl VmError {
    /// An I/O error on `path` while trying to `action` it.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> VmError {
        VmError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
