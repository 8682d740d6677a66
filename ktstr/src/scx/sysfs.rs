//! Reads sched_ext's sysfs files: `state`, `root/ops` (present while a BPF scheduler is loaded) and
//! `enable_seq`, below a root that tests can point at a fake tree.

use std::fmt;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SysfsError;

/// Where the kernel publishes sched_ext's state.
pub const SCHED_EXT_SYSFS: &str = "/sys/kernel/sched_ext";

/// The sched_ext state as `state` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScxState {
    Enabling,
    Enabled,
    Disabling,
    Disabled,
}

impl ScxState {
    const ALL: [ScxState; 4] = [
        ScxState::Enabling,
        ScxState::Enabled,
        ScxState::Disabling,
        ScxState::Disabled,
    ];

    /// The word the kernel writes for this state.
    pub fn as_str(self) -> &'static str {
        match self {
            ScxState::Enabling => "enabling",
            ScxState::Enabled => "enabled",
            ScxState::Disabling => "disabling",
            ScxState::Disabled => "disabled",
        }
    }

    fn parse(text: &str) -> Option<ScxState> {
        ScxState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for ScxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The sched_ext sysfs directory, `/sys/kernel/sched_ext` unless a test points it elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScxSysfs {
    root: PathBuf,
}

impl Default for ScxSysfs {
    fn default() -> Self {
        ScxSysfs::new(SCHED_EXT_SYSFS)
    }
}

impl ScxSysfs {
    pub fn new(root: impl Into<PathBuf>) -> ScxSysfs {
        ScxSysfs { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The current state; `Missing` when the kernel has no sched_ext.
    pub fn state(&self) -> Result<ScxState, SysfsError> {
        let path = self.root.join("state");
        let text = read(&path)?.ok_or_else(|| SysfsError::Missing { path: path.clone() })?;
        ScxState::parse(text.trim()).ok_or(SysfsError::Parse {
            path,
            text,
            expected: "enabling, enabled, disabling or disabled",
        })
    }

    /// The loaded BPF scheduler's ops name; `None` while none is loaded.
    pub fn ops(&self) -> Result<Option<String>, SysfsError> {
        let text = read(&self.root.join("root").join("ops"))?;
        Ok(text
            .map(|t| t.trim().to_string())
            .filter(|name| !name.is_empty()))
    }

    /// How many times a BPF scheduler has been enabled since boot.
    pub fn enable_seq(&self) -> Result<u64, SysfsError> {
        let path = self.root.join("enable_seq");
        let text = read(&path)?.ok_or_else(|| SysfsError::Missing { path: path.clone() })?;
        text.trim().parse().map_err(|_| SysfsError::Parse {
            path,
            text,
            expected: "a whole number",
        })
    }
}

/// The file's text, or `None` when it does not exist.
fn read(path: &Path) -> Result<Option<String>, SysfsError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SysfsError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        dir
    }

    #[test]
    fn reads_each_state_word() {
        for state in ScxState::ALL {
            let dir = tree(&[("state", &format!("{state}\n"))]);
            assert_eq!(ScxSysfs::new(dir.path()).state().expect("state"), state);
        }
    }

    #[test]
    fn attached_scheduler_shows_ops_and_enable_seq() {
        let dir = tree(&[
            ("state", "enabled\n"),
            ("root/ops", "qmap\n"),
            ("enable_seq", "3\n"),
        ]);
        let sysfs = ScxSysfs::new(dir.path());
        assert_eq!(sysfs.ops().expect("ops").as_deref(), Some("qmap"));
        assert_eq!(sysfs.enable_seq().expect("seq"), 3);
    }

    #[test]
    fn no_loaded_scheduler_means_no_ops() {
        for files in [&[("state", "disabled\n")][..], &[("root/ops", "\n")][..]] {
            let dir = tree(files);
            assert_eq!(ScxSysfs::new(dir.path()).ops().expect("ops"), None);
        }
    }

    #[test]
    fn missing_and_malformed_files_are_typed_errors() {
        let empty = tree(&[]);
        let sysfs = ScxSysfs::new(empty.path());
        assert!(matches!(sysfs.state(), Err(SysfsError::Missing { .. })));
        assert!(matches!(
            sysfs.enable_seq(),
            Err(SysfsError::Missing { .. })
        ));
        let bad = tree(&[("state", "on\n"), ("enable_seq", "-1\n")]);
        let sysfs = ScxSysfs::new(bad.path());
        assert!(matches!(sysfs.state(), Err(SysfsError::Parse { .. })));
        assert!(matches!(sysfs.enable_seq(), Err(SysfsError::Parse { .. })));
        let dir_as_file = tree(&[("state/x", "")]);
        let err = ScxSysfs::new(dir_as_file.path()).state().unwrap_err();
        assert!(matches!(err, SysfsError::Read { .. }), "{err}");
    }

    #[test]
    fn default_root_is_the_kernel_path() {
        assert_eq!(
            ScxSysfs::default().root(),
            Path::new("/sys/kernel/sched_ext")
        );
    }
}
