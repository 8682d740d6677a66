//! `TrialDir`: the temp directory of one VM trial (console log, channel socket, QEMU output, initramfs),
//! removed with everything in it when dropped.

use std::path::{Path, PathBuf};

use super::VmError;

/// A fresh `ktstr-<pid>-*` directory under the system temp dir.
#[derive(Debug)]
pub struct TrialDir {
    dir: tempfile::TempDir,
}

impl TrialDir {
    pub fn new() -> Result<TrialDir, VmError> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("ktstr-{}-", std::process::id()))
            .tempdir()
            .map_err(|e| VmError::io("create a trial directory in", std::env::temp_dir(), e))?;
        Ok(TrialDir { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Removes trial directories under `temp` left by processes that no longer run (a harness killed by a
    /// signal cannot run its destructors), and any QEMU still running from one; returns how many
    /// directories it removed. `vm::cleanup` with its report.
    pub fn sweep_orphans(temp: &Path) -> usize {
        super::cleanup(temp).map_or(0, |report| report.trial_dirs.len())
    }

    /// Where QEMU writes the guest's serial console.
    pub fn console_log(&self) -> PathBuf {
        self.path().join("console.log")
    }

    /// The unix socket of the `ktstr.0` port.
    pub fn channel_socket(&self) -> PathBuf {
        self.path().join("ktstr.sock")
    }

    pub fn qemu_stdout(&self) -> PathBuf {
        self.path().join("qemu.stdout")
    }

    pub fn qemu_stderr(&self) -> PathBuf {
        self.path().join("qemu.stderr")
    }

    /// The trial's initramfs (base plus trial files).
    pub fn initramfs(&self) -> PathBuf {
        self.path().join("initramfs.cpio")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_live_inside_and_vanish_on_drop() {
        let dir = TrialDir::new().expect("trial dir");
        let root = dir.path().to_path_buf();
        assert!(root
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("ktstr-")));
        for file in [
            dir.console_log(),
            dir.channel_socket(),
            dir.qemu_stdout(),
            dir.qemu_stderr(),
            dir.initramfs(),
        ] {
            assert_eq!(file.parent(), Some(root.as_path()));
            std::fs::write(&file, "x").expect("write");
        }
        drop(dir);
        assert!(!root.exists(), "{} outlived its TrialDir", root.display());
    }
}

#[cfg(test)]
mod sweep_tests {
    use super::*;

    #[test]
    fn sweeps_only_directories_of_dead_processes() {
        let temp = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let orphan = temp.path().join(format!("ktstr-{dead}-abc"));
        let live = temp
            .path()
            .join(format!("ktstr-{}-def", std::process::id()));
        let other = temp.path().join("ktstr-notapid");
        for dir in [&orphan, &live, &other] {
            std::fs::create_dir(dir).unwrap();
        }
        assert_eq!(TrialDir::sweep_orphans(temp.path()), 1);
        assert!(!orphan.exists() && live.exists() && other.exists());
    }
}
