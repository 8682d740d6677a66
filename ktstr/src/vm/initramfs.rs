//! The guest's initramfs: `/init`, extra binaries, their shared-library closure, busybox, and the empty
//! mount points PID 1 needs.
//!
//! Libraries go to `/lib/x86_64-linux-gnu` under their `DT_NEEDED` name, a directory Debian's loader searches
//! with no `ld.so.cache`; interpreters keep their `PT_INTERP` path. A host file needed under two names is
//! stored once and linked. Per-trial files go in a second archive appended to a copy of the cached base: the
//! kernel unpacks concatenated archives in order, later members replacing earlier ones.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::archive::{Archive, Entry};
use super::libsearch::{Closure, LibrarySearch};
use super::VmError;

/// Where busybox-static installs busybox on Debian.
pub const HOST_BUSYBOX: &str = "/bin/busybox";
/// Busybox applets linked into `/bin`.
const BUSYBOX_APPLETS: [&str; 24] = [
    "sh", "ash", "cat", "cut", "dmesg", "echo", "grep", "head", "kill", "ls", "mkdir", "mount",
    "poweroff", "printf", "ps", "reboot", "sed", "sleep", "tail", "test", "tr", "true", "umount",
    "wc",
];
/// Mount points and scratch directories created empty.
const EMPTY_DIRS: [&str; 6] = ["/proc", "/sys", "/dev", "/tmp", "/run", "/sys/fs/cgroup"];
/// The directory libraries are stored in.
const GUEST_LIB_DIR: &str = "/lib/x86_64-linux-gnu";

/// What goes into a base initramfs.
#[derive(Debug, Clone)]
pub struct InitramfsSpec {
    init: PathBuf,
    binaries: Vec<(PathBuf, String)>,
    /// Files carried as they are (programs with their libraries, anything else by its bytes and mode).
    included: Vec<(PathBuf, String)>,
    busybox: PathBuf,
}

/// A file added to one trial's initramfs on top of the base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialFile {
    /// Absolute path in the guest.
    pub path: String,
    pub contents: Vec<u8>,
    pub mode: u32,
}

impl InitramfsSpec {
    /// `init` (an x86-64 ELF, or a `#!` script whose interpreter the archive holds) becomes `/init`.
    pub fn new(init: impl Into<PathBuf>) -> InitramfsSpec {
        InitramfsSpec {
            init: init.into(),
            binaries: Vec::new(),
            included: Vec::new(),
            busybox: PathBuf::from(HOST_BUSYBOX),
        }
    }

    /// Adds the host file `host` at `guest_path`, with its libraries.
    pub fn binary(mut self, host: impl Into<PathBuf>, guest_path: &str) -> InitramfsSpec {
        self.binaries.push((host.into(), guest_path.to_string()));
        self
    }

    /// Adds the host file `host` at `guest_path`: an ELF program with its libraries, any other file with
    /// its bytes and permissions.
    pub fn include(mut self, host: impl Into<PathBuf>, guest_path: &str) -> InitramfsSpec {
        self.included.push((host.into(), guest_path.to_string()));
        self
    }

    /// Takes busybox from `host` instead of [`HOST_BUSYBOX`].
    pub fn busybox(mut self, host: impl Into<PathBuf>) -> InitramfsSpec {
        self.busybox = host.into();
        self
    }

    /// Every member of the base archive, read from the host now.
    pub(crate) fn to_archive(&self, search: &LibrarySearch) -> Result<Archive, VmError> {
        if !self.busybox.is_file() {
            return Err(VmError::BusyboxMissing {
                path: self.busybox.clone(),
            });
        }
        let mut programs = vec![(self.init.clone(), "/init".to_string())];
        programs.extend(self.binaries.iter().cloned());
        programs.push((self.busybox.clone(), "/bin/busybox".to_string()));
        let mut archive = Archive::default();
        let mut elf_roots = Vec::new();
        let mut scripts = Vec::new();
        for (host, guest) in &programs {
            let contents = read_file(host)?;
            match script_interpreter(&contents) {
                Some(interpreter) => scripts.push((host.clone(), interpreter)),
                None => {
                    super::elf::ElfDeps::parse(host, &contents)?;
                    elf_roots.push(host.clone());
                }
            }
            let origin = host.display().to_string();
            archive.add(
                guest,
                Entry::File {
                    contents,
                    mode: 0o755,
                },
                &origin,
            )?;
        }
        self.add_included(&mut archive, &mut elf_roots)?;
        add_closure(&mut archive, &search.closure(&elf_roots)?)?;
        for applet in BUSYBOX_APPLETS {
            let link = Entry::Symlink {
                target: "busybox".into(),
            };
            archive.add(&format!("/bin/{applet}"), link, "busybox applets")?;
        }
        for dir in EMPTY_DIRS {
            archive.add(dir, Entry::Dir, "mount points")?;
        }
        let console = Entry::CharDevice {
            major: 5,
            minor: 1,
            mode: 0o600,
        };
        archive.add("/dev/console", console, "the kernel's initial console")?;
        for (script, interpreter) in scripts {
            if archive.get(&interpreter).is_none() {
                return Err(VmError::ScriptInterpreterMissing {
                    script,
                    interpreter,
                });
            }
        }
        Ok(archive)
    }
}

impl InitramfsSpec {
    /// The included files: ELF programs become roots of the library closure, anything else keeps its mode.
    fn add_included(
        &self,
        archive: &mut Archive,
        elf_roots: &mut Vec<PathBuf>,
    ) -> Result<(), VmError> {
        for (host, guest) in &self.included {
            let contents = read_file(host)?;
            let mode = match contents.starts_with(b"\x7fELF") {
                true => {
                    super::elf::ElfDeps::parse(host, &contents)?;
                    elf_roots.push(host.clone());
                    0o755
                }
                false => std::fs::metadata(host).map_or(0o644, |m| {
                    std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777
                }),
            };
            let origin = host.display().to_string();
            archive.add(guest, Entry::File { contents, mode }, &origin)?;
        }
        Ok(())
    }
}

/// Adds interpreters at their own paths and libraries under [`GUEST_LIB_DIR`], each host file once.
fn add_closure(archive: &mut Archive, closure: &Closure) -> Result<(), VmError> {
    let mut stored: BTreeMap<PathBuf, String> = BTreeMap::new();
    let interpreters = closure
        .interpreters
        .iter()
        .map(|interp| (PathBuf::from(interp), interp.clone()));
    let libraries = closure.libraries.iter().map(|lib| {
        let guest = match lib.name.contains('/') {
            true => lib.name.clone(),
            false => format!("{GUEST_LIB_DIR}/{}", lib.name),
        };
        (lib.path.clone(), guest)
    });
    for (host, guest) in interpreters.chain(libraries) {
        let canonical = host
            .canonicalize()
            .map_err(|e| VmError::io("resolve", &host, e))?;
        let origin = host.display().to_string();
        let entry = match stored.get(&canonical) {
            Some(first) if *first == guest => continue,
            Some(first) => Entry::Symlink {
                target: first.clone(),
            },
            None => Entry::File {
                contents: read_file(&host)?,
                mode: 0o755,
            },
        };
        stored.entry(canonical).or_insert_with(|| guest.clone());
        archive.add(&guest, entry, &origin)?;
    }
    Ok(())
}

/// The interpreter path of a `#!` script, or `None` for anything else.
fn script_interpreter(contents: &[u8]) -> Option<String> {
    let rest = contents.strip_prefix(b"#!")?;
    let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    line.split_whitespace().next().map(str::to_string)
}

/// The bytes of `path`, refusing files a newc entry cannot hold.
fn read_file(path: &Path) -> Result<Vec<u8>, VmError> {
    let size = std::fs::metadata(path)
        .map_err(|e| VmError::io("read", path, e))?
        .len();
    if size > u64::from(u32::MAX) {
        return Err(VmError::FileTooLarge {
            path: path.to_path_buf(),
            size,
        });
    }
    std::fs::read(path).map_err(|e| VmError::io("read", path, e))
}

/// Writes `dest`: a copy of the archive `base` followed by a second archive holding `extras`.
pub fn write_trial_initramfs(
    base: &Path,
    extras: &[TrialFile],
    dest: &Path,
) -> Result<(), VmError> {
    let mut suffix = Archive::default();
    for file in extras {
        let entry = Entry::File {
            contents: file.contents.clone(),
            mode: file.mode,
        };
        suffix.add(&file.path, entry, "trial files")?;
    }
    std::fs::copy(base, dest).map_err(|e| VmError::io("copy the base initramfs to", dest, e))?;
    let append = std::fs::OpenOptions::new()
        .append(true)
        .open(dest)
        .map_err(|e| VmError::io("open", dest, e))?;
    let mut out = suffix
        .write_to(std::io::BufWriter::new(append))
        .map_err(|e| VmError::io("write", dest, e))?;
    out.flush().map_err(|e| VmError::io("write", dest, e))
}

#[cfg(test)]
#[path = "initramfs_tests.rs"]
mod tests;
