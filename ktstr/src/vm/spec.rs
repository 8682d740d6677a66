//! `VmSpec`: everything one QEMU run needs, checked once so the argument builders can trust it.
//!
//! Memory, when not given, is `256 MB + 64 MB per vCPU` (the kernel, its per-CPU areas and the workers' room),
//! raised to the initramfs floor (`128 MB + twice the archive`, since the archive and its unpacked copy coexist
//! while the kernel unpacks it, and never below 256 MB), then rounded up so it splits evenly over NUMA nodes.

use std::path::{Path, PathBuf};

use super::{Accel, KernelCmdline, VmError};
use crate::topology::Topology;

/// Guest memory no VM goes below, in MB.
pub const MIN_MEMORY_MB: u32 = 256;
/// Memory every guest gets before the per-vCPU share, in MB.
const BASE_MEMORY_MB: u32 = 256;
/// Memory added per vCPU, in MB.
const MEMORY_PER_VCPU_MB: u32 = 64;
/// Longest unix socket path: `sun_path` is 108 bytes including the NUL.
const MAX_SOCKET_PATH: usize = 107;

/// The unchecked inputs of a VM; [`VmSpec::new`] validates them.
#[derive(Debug, Clone)]
pub struct VmRequest {
    pub topology: Topology,
    /// Guest memory in MB; `None` sizes it from the vCPU count and the initramfs.
    pub memory_mb: Option<u32>,
    pub kernel: PathBuf,
    pub initramfs: PathBuf,
    pub cmdline: KernelCmdline,
    /// Where QEMU writes the guest's serial console.
    pub console_log: PathBuf,
    /// The unix socket QEMU listens on for the `ktstr.0` port.
    pub channel_socket: PathBuf,
    pub accel: Accel,
}

/// A validated VM: files exist, memory suffices and splits over nodes, every path is UTF-8.
#[derive(Debug, Clone)]
pub struct VmSpec {
    topology: Topology,
    memory_mb: u32,
    kernel: PathBuf,
    initramfs: PathBuf,
    cmdline: KernelCmdline,
    console_log: PathBuf,
    channel_socket: PathBuf,
    accel: Accel,
    /// The guest's serial console is this process's terminal (`ktstr shell`), not a file.
    terminal: bool,
}

impl VmSpec {
    /// Checks `request` against the filesystem and the sizing rules.
    pub fn new(request: VmRequest) -> Result<VmSpec, VmError> {
        readable_file("kernel image", &request.kernel)?;
        let initramfs_bytes = readable_file("initramfs", &request.initramfs)?;
        parent_dir_exists("console log", &request.console_log)?;
        parent_dir_exists("channel socket", &request.channel_socket)?;
        let socket_len = utf8("channel socket", &request.channel_socket)?.len();
        if socket_len > MAX_SOCKET_PATH {
            return Err(VmError::SocketPathTooLong {
                path: request.channel_socket,
                len: socket_len,
                max: MAX_SOCKET_PATH,
            });
        }
        for (what, path) in [
            ("kernel image", &request.kernel),
            ("initramfs", &request.initramfs),
            ("console log", &request.console_log),
        ] {
            utf8(what, path)?;
        }
        let memory_mb = resolve_memory(&request.topology, request.memory_mb, initramfs_bytes)?;
        Ok(VmSpec {
            topology: request.topology,
            memory_mb,
            kernel: request.kernel,
            initramfs: request.initramfs,
            cmdline: request.cmdline,
            console_log: request.console_log,
            channel_socket: request.channel_socket,
            accel: request.accel,
            terminal: false,
        })
    }

    /// The same VM with its serial console on this process's stdin and stdout, for a person or a
    /// pipe to talk to; QEMU passes Ctrl-C to the guest.
    pub fn on_terminal(mut self) -> VmSpec {
        self.terminal = true;
        self
    }

    pub fn is_on_terminal(&self) -> bool {
        self.terminal
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    pub fn memory_mb(&self) -> u32 {
        self.memory_mb
    }

    pub fn kernel(&self) -> &Path {
        &self.kernel
    }

    pub fn initramfs(&self) -> &Path {
        &self.initramfs
    }

    pub fn cmdline(&self) -> &KernelCmdline {
        &self.cmdline
    }

    pub fn console_log(&self) -> &Path {
        &self.console_log
    }

    pub fn channel_socket(&self) -> &Path {
        &self.channel_socket
    }

    pub fn accel(&self) -> Accel {
        self.accel
    }
}

/// The memory sizing rule of the module doc; an explicit size is checked, never raised.
pub(crate) fn resolve_memory(
    topology: &Topology,
    requested_mb: Option<u32>,
    initramfs_bytes: u64,
) -> Result<u32, VmError> {
    let floor_mb = memory_floor_mb(initramfs_bytes);
    let nodes = topology.numa_nodes();
    match requested_mb {
        Some(memory_mb) if memory_mb < floor_mb => Err(VmError::MemoryTooSmall {
            memory_mb,
            floor_mb,
        }),
        Some(memory_mb) if memory_mb % nodes != 0 => Err(VmError::MemoryNotSplittable {
            memory_mb,
            numa_nodes: nodes,
        }),
        Some(memory_mb) => Ok(memory_mb),
        None => {
            let by_cpus = BASE_MEMORY_MB
                .saturating_add(MEMORY_PER_VCPU_MB.saturating_mul(topology.total_cpus()));
            Ok(by_cpus.max(floor_mb).div_ceil(nodes).saturating_mul(nodes))
        }
    }
}

/// The least memory that boots with an initramfs of `initramfs_bytes`.
pub(crate) fn memory_floor_mb(initramfs_bytes: u64) -> u32 {
    let archive_mb = initramfs_bytes.div_ceil(1 << 20);
    let floor = 128u64.saturating_add(archive_mb.saturating_mul(2));
    u32::try_from(floor).unwrap_or(u32::MAX).max(MIN_MEMORY_MB)
}

/// The size of `path`, which must be a regular file this process can open.
fn readable_file(what: &'static str, path: &Path) -> Result<u64, VmError> {
    let missing = |source| VmError::MissingFile {
        what,
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(missing)?;
    let meta = file.metadata().map_err(missing)?;
    if !meta.is_file() {
        return Err(missing(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    Ok(meta.len())
}

fn parent_dir_exists(what: &'static str, path: &Path) -> Result<(), VmError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if parent.is_dir() {
        Ok(())
    } else {
        Err(VmError::MissingDir {
            what,
            path: parent.to_path_buf(),
        })
    }
}

pub(crate) fn utf8<'a>(what: &'static str, path: &'a Path) -> Result<&'a str, VmError> {
    path.to_str().ok_or_else(|| VmError::NonUtf8Path {
        what,
        path: path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topo(text: &str) -> Topology {
        text.parse().expect("valid topology")
    }

    const MB: u64 = 1 << 20;

    #[test]
    fn memory_sizing() {
        let cases = [
            ("1n1l2c1t", None, 10 * MB, Ok(384)),
            ("1n2l2c1t", None, 10 * MB, Ok(512)),
            ("1n1l1c1t", None, 300 * MB, Ok(728)),
            ("2n4l1c1t", None, 0, Ok(512)),
            ("4n4l1c1t", Some(512), 0, Ok(512)),
            ("1n1l2c1t", Some(300), 10 * MB, Ok(300)),
            ("1n1l2c1t", Some(255), 0, Err(256)),
            ("1n1l2c1t", Some(600), 300 * MB, Err(728)),
        ];
        for (text, requested, initramfs, want) in cases {
            let got = resolve_memory(&topo(text), requested, initramfs).map_err(|e| match e {
                VmError::MemoryTooSmall { floor_mb, .. } => floor_mb,
                other => panic!("{text}: {other:?}"),
            });
            assert_eq!(got, want, "{text} {requested:?} {initramfs}");
        }
    }

    #[test]
    fn default_memory_splits_over_nodes() {
        let t = Topology::new(3, 3, 1, 1).expect("valid");
        let mb = resolve_memory(&t, None, 0).expect("sized");
        assert_eq!((mb, mb % 3), (450, 0));
        let err = resolve_memory(&t, Some(400), 0).expect_err("400 over 3 nodes");
        assert!(
            matches!(
                err,
                VmError::MemoryNotSplittable {
                    memory_mb: 400,
                    numa_nodes: 3
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn floor_grows_with_the_archive() {
        let cases = [
            (0, 256),
            (MB, 256),
            (64 * MB, 256),
            (65 * MB, 258),
            (1000 * MB, 2128),
        ];
        for (bytes, want) in cases {
            assert_eq!(memory_floor_mb(bytes), want, "{bytes}");
        }
    }

    struct Files {
        dir: tempfile::TempDir,
    }

    impl Files {
        fn new() -> Files {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::write(dir.path().join("bzImage"), b"kernel").expect("write");
            std::fs::write(dir.path().join("initramfs.cpio"), b"archive").expect("write");
            Files { dir }
        }

        fn request(&self) -> VmRequest {
            let p = |name: &str| self.dir.path().join(name);
            VmRequest {
                topology: topo("1n2l2c1t"),
                memory_mb: None,
                kernel: p("bzImage"),
                initramfs: p("initramfs.cpio"),
                cmdline: KernelCmdline::base(),
                console_log: p("console.log"),
                channel_socket: p("ktstr.sock"),
                accel: Accel::Tcg,
            }
        }
    }

    #[test]
    fn valid_request_becomes_a_spec() {
        let files = Files::new();
        let spec = VmSpec::new(files.request()).expect("valid");
        assert_eq!((spec.memory_mb(), spec.accel()), (512, Accel::Tcg));
        assert_eq!(spec.topology().to_string(), "1n2l2c1t");
    }

    #[test]
    fn invalid_requests_are_rejected() {
        let files = Files::new();
        let base = files.request();
        let long_dir = files.dir.path().join("d".repeat(100));
        std::fs::create_dir(&long_dir).expect("mkdir");
        let cases: Vec<(&str, VmRequest)> = vec![
            (
                "no kernel",
                VmRequest {
                    kernel: "/nonexistent/bzImage".into(),
                    ..base.clone()
                },
            ),
            (
                "kernel is a dir",
                VmRequest {
                    kernel: files.dir.path().into(),
                    ..base.clone()
                },
            ),
            (
                "no initramfs",
                VmRequest {
                    initramfs: files.dir.path().join("x"),
                    ..base.clone()
                },
            ),
            (
                "no log dir",
                VmRequest {
                    console_log: "/nonexistent/console.log".into(),
                    ..base.clone()
                },
            ),
            (
                "long socket",
                VmRequest {
                    channel_socket: long_dir.join("ktstr.sock"),
                    ..base.clone()
                },
            ),
            (
                "tiny memory",
                VmRequest {
                    memory_mb: Some(64),
                    ..base.clone()
                },
            ),
        ];
        for (name, request) in cases {
            let err = VmSpec::new(request).expect_err(name);
            let ok = match name {
                "no kernel" | "kernel is a dir" | "no initramfs" => {
                    matches!(err, VmError::MissingFile { .. })
                }
                "no log dir" => matches!(err, VmError::MissingDir { .. }),
                "long socket" => matches!(err, VmError::SocketPathTooLong { .. }),
                _ => matches!(err, VmError::MemoryTooSmall { .. }),
            };
            assert!(ok, "{name}: {err:?}");
        }
    }

    #[test]
    fn non_utf8_paths_are_rejected() {
        use std::os::unix::ffi::OsStrExt;
        let files = Files::new();
        let odd = files.dir.path().join(std::ffi::OsStr::from_bytes(b"k\xff"));
        std::fs::write(&odd, b"kernel").expect("write");
        let err = VmSpec::new(VmRequest {
            kernel: odd,
            ..files.request()
        })
        .expect_err("not UTF-8");
        assert!(
            matches!(
                err,
                VmError::NonUtf8Path {
                    what: "kernel image",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
