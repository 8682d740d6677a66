//! `ktstr scheduler install NAME[@VERSION]`: builds a published scheduler crate with
//! `cargo install --locked` into the scheduler store, with the clang/libclang environment the
//! sched-ext crates need, its whole output in a log and the log's tail in the error on failure.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::store::{InstalledMetadata, InstalledScheduler, SchedulerStore, METADATA};
use crate::kernel::{KernelError, KeyLock, LockMode};

/// Where Debian's llvm-19 keeps clang and libclang; the scx crates' build scripts need both.
pub const LLVM_DIR: &str = "/usr/lib/llvm-19";
/// Lines of the build log an error quotes.
const TAIL_LINES: usize = 30;

/// Why an install could not finish, with its fix.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{spec:?} is not NAME or NAME@VERSION of a crate (letters, digits, '_' and '-'; a version like 1.1.4); for example scx_bpfland@1.1.4")]
    BadSpec { spec: String },

    #[error("{what} is missing: {fix}")]
    Prerequisite { what: String, fix: String },

    #[error("`cargo install {spec}` failed ({status}); the last {} lines are above, the full log is {}", .tail.lines().count(), .log.display())]
    BuildFailed {
        spec: String,
        status: String,
        log: PathBuf,
        tail: String,
    },

    #[error("`cargo install {spec}` produced no binary named {name} (it built: {built}); install a crate whose binary has the crate's name, or use Scheduler::binary with the path")]
    NoBinary {
        spec: String,
        name: String,
        built: String,
    },

    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(transparent)]
    Cache(#[from] KernelError),
}

impl InstallError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        InstallError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// A parsed `NAME[@VERSION]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallSpec {
    pub name: String,
    pub version: Option<String>,
}

impl std::str::FromStr for InstallSpec {
    type Err = InstallError;

    fn from_str(spec: &str) -> Result<InstallSpec, InstallError> {
        let bad = || InstallError::BadSpec { spec: spec.into() };
        let (name, version) = match spec.split_once('@') {
            Some((name, version)) => (name, Some(version)),
            None => (spec, None),
        };
        let name_ok = name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
        let version_ok = version.is_none_or(|v| {
            v.starts_with(|c: char| c.is_ascii_digit())
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
        });
        if !name_ok || !version_ok {
            return Err(bad());
        }
        Ok(InstallSpec {
            name: name.into(),
            version: version.map(str::to_string),
        })
    }
}

impl std::fmt::Display for InstallSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}@{v}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// What an install did.
#[derive(Debug)]
pub enum InstallOutcome {
    /// The store already held it (the newest installed version when none was named).
    Hit(InstalledScheduler),
    Built(InstalledScheduler),
}

impl InstallOutcome {
    pub fn installed(&self) -> &InstalledScheduler {
        match self {
            InstallOutcome::Hit(s) | InstallOutcome::Built(s) => s,
        }
    }
}

/// Installs `spec` into `store` unless it is there (`force` rebuilds); `progress` sees each line cargo
/// prints. Concurrent installs of one name wait for each other.
pub fn install_scheduler(
    store: &SchedulerStore,
    spec: &InstallSpec,
    force: bool,
    progress: &mut dyn FnMut(&str),
) -> Result<InstallOutcome, InstallError> {
    let hit = || store.find(&spec.name, spec.version.as_deref());
    if !force {
        if let Some(found) = hit()? {
            return Ok(InstallOutcome::Hit(found));
        }
    }
    let env = BuildEnv::detect()?;
    for dir in [store.locks_dir(), store.logs_dir(), store.scratch_root()] {
        std::fs::create_dir_all(&dir).map_err(|e| InstallError::io("create", &dir, e))?;
    }
    let lock_path = store.locks_dir().join(format!("{}.lock", spec.name));
    let _lock = KeyLock::acquire(&lock_path, LockMode::Exclusive)?;
    if !force {
        if let Some(found) = hit()? {
            return Ok(InstallOutcome::Hit(found));
        }
    }
    let started = Instant::now();
    let scratch = tempfile::tempdir_in(store.scratch_root())
        .map_err(|e| InstallError::io("create", store.scratch_root(), e))?;
    let log = store.logs_dir().join(format!("{}.log", spec.name));
    run_cargo(&env, store, spec, scratch.path(), &log, progress)?;
    let version = installed_version(scratch.path(), &spec.name)
        .or_else(|| spec.version.clone())
        .unwrap_or_else(|| "unknown".into());
    let metadata = InstalledMetadata {
        name: spec.name.clone(),
        version,
        source: "crates.io".into(),
        built_at_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        build_secs: started.elapsed().as_secs_f64(),
    };
    let installed = place(store, spec, scratch.path(), metadata)?;
    Ok(InstallOutcome::Built(installed))
}

/// The tools a scx crate's build needs, found up front so a missing one is named before cargo runs.
struct BuildEnv {
    cargo: PathBuf,
    llvm_bin: PathBuf,
    libclang_dir: PathBuf,
}

impl BuildEnv {
    fn detect() -> Result<BuildEnv, InstallError> {
        let missing = |what: &str| InstallError::Prerequisite {
            what: what.into(),
            fix: "run scripts/setup.sh, or `apt-get install clang-19 llvm-19 libclang-19-dev \
                  libelf-dev zlib1g-dev pkg-config`"
                .into(),
        };
        let cargo = std::env::var_os("CARGO")
            .map(PathBuf::from)
            .or_else(|| super::find_in_path("cargo"))
            .ok_or_else(|| InstallError::Prerequisite {
                what: "cargo".into(),
                fix: "install Rust with rustup (https://rustup.rs) and put cargo on PATH".into(),
            })?;
        let llvm = Path::new(LLVM_DIR);
        let llvm_bin = llvm.join("bin");
        if !llvm_bin.join("clang").is_file() {
            return Err(missing(&format!("clang ({}/clang)", llvm_bin.display())));
        }
        let libclang_dir = std::env::var_os("LIBCLANG_PATH")
            .map(PathBuf::from)
            .unwrap_or_else(|| llvm.join("lib"));
        let has_libclang = std::fs::read_dir(&libclang_dir).is_ok_and(|mut d| {
            d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("libclang")))
        });
        if !has_libclang {
            return Err(missing(&format!(
                "libclang (in {})",
                libclang_dir.display()
            )));
        }
        Ok(BuildEnv {
            cargo,
            llvm_bin,
            libclang_dir,
        })
    }

    /// PATH with llvm-19's `clang` first: the scx build scripts call plain `clang` for BPF objects.
    fn path(&self) -> std::ffi::OsString {
        let mut dirs = vec![self.llvm_bin.clone()];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).unwrap_or_default()
    }
}

fn run_cargo(
    env: &BuildEnv,
    store: &SchedulerStore,
    spec: &InstallSpec,
    root: &Path,
    log_path: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<(), InstallError> {
    let mut log =
        std::fs::File::create(log_path).map_err(|e| InstallError::io("create", log_path, e))?;
    let mut child = Command::new(&env.cargo)
        .args(["install", "--locked", "--root"])
        .arg(root)
        .arg("--target-dir")
        .arg(store.target_dir())
        .arg(spec.to_string())
        .env("PATH", env.path())
        .env("LIBCLANG_PATH", &env.libclang_dir)
        .env("BPF_CLANG", env.llvm_bin.join("clang"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| InstallError::io("run", &env.cargo, e))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let out_thread = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let mut tail = std::collections::VecDeque::with_capacity(TAIL_LINES);
    let stderr = child.stderr.take().expect("stderr is piped");
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        let _ = writeln!(log, "{line}");
        progress(&line);
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    }
    for line in out_thread.join().unwrap_or_default() {
        let _ = writeln!(log, "{line}");
    }
    let status = child
        .wait()
        .map_err(|e| InstallError::io("wait for", &env.cargo, e))?;
    if status.success() {
        return Ok(());
    }
    Err(InstallError::BuildFailed {
        spec: spec.to_string(),
        status: status.to_string(),
        log: log_path.to_path_buf(),
        tail: tail.into_iter().collect::<Vec<_>>().join("\n"),
    })
}

/// The version cargo installed, from the root's `.crates2.json` (`"NAME VERSION (SOURCE)"` keys).
fn installed_version(root: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(root.join(".crates2.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("installs")?.as_object()?.keys().find_map(|key| {
        let mut words = key.split_whitespace();
        (words.next()? == name).then(|| words.next().map(str::to_string))?
    })
}

/// Moves the built binary into its version directory (a rename on one file system).
fn place(
    store: &SchedulerStore,
    spec: &InstallSpec,
    root: &Path,
    metadata: InstalledMetadata,
) -> Result<InstalledScheduler, InstallError> {
    let bin_dir = root.join("bin");
    let binary = bin_dir.join(&spec.name);
    if !binary.is_file() {
        let built: Vec<String> = std::fs::read_dir(&bin_dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        return Err(InstallError::NoBinary {
            spec: spec.to_string(),
            name: spec.name.clone(),
            built: if built.is_empty() {
                "nothing".into()
            } else {
                built.join(", ")
            },
        });
    }
    let staged = root.join("entry");
    std::fs::create_dir(&staged).map_err(|e| InstallError::io("create", &staged, e))?;
    let placed = staged.join(&spec.name);
    std::fs::rename(&binary, &placed).map_err(|e| InstallError::io("move", &binary, e))?;
    let json = serde_json::to_string_pretty(&metadata)
        .map_err(|e| InstallError::io("encode", METADATA, e.into()))?;
    std::fs::write(staged.join(METADATA), json)
        .map_err(|e| InstallError::io("write", staged.join(METADATA), e))?;
    let dest = store.entry_dir(&spec.name, &metadata.version);
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| InstallError::io("create", parent, e))?;
    }
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(|e| InstallError::io("replace", &dest, e))?;
    }
    std::fs::rename(&staged, &dest).map_err(|e| InstallError::io("install", &dest, e))?;
    Ok(InstalledScheduler {
        binary: dest.join(&spec.name),
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_say_the_form() {
        let spec: InstallSpec = "scx_bpfland@1.1.4".parse().unwrap();
        assert_eq!(
            (spec.name.as_str(), spec.version.as_deref()),
            ("scx_bpfland", Some("1.1.4"))
        );
        assert_eq!(spec.to_string(), "scx_bpfland@1.1.4");
        let bare: InstallSpec = "scx_rusty".parse().unwrap();
        assert_eq!(bare.version, None);
        for bad in [
            "",
            "@1.0",
            "scx_x@",
            "scx x",
            "../scx",
            "scx_x@latest",
            "scx_x@1.0;rm",
        ] {
            let err = bad.parse::<InstallSpec>().unwrap_err();
            assert!(err.to_string().contains("NAME@VERSION"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_installed_version_comes_from_cargos_record() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(
            root.path().join(".crates2.json"),
            r#"{"installs":{"scx_rusty 1.1.4 (registry+https://github.com/rust-lang/crates.io-index)":{}}}"#,
        )
        .unwrap();
        assert_eq!(
            installed_version(root.path(), "scx_rusty").as_deref(),
            Some("1.1.4")
        );
        assert_eq!(installed_version(root.path(), "scx_lavd"), None);
    }

    #[test]
    fn place_moves_the_binary_and_names_what_was_built_otherwise() {
        let base = tempfile::tempdir().unwrap();
        let store = SchedulerStore::at(base.path());
        let spec: InstallSpec = "scx_demo@0.1.0".parse().unwrap();
        let meta = InstalledMetadata {
            name: "scx_demo".into(),
            version: "0.1.0".into(),
            source: "crates.io".into(),
            built_at_unix: 0,
            build_secs: 0.0,
        };
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("bin")).unwrap();
        std::fs::write(root.path().join("bin/other"), b"x").unwrap();
        let err = place(&store, &spec, root.path(), meta.clone()).unwrap_err();
        assert!(err.to_string().contains("it built: other"), "{err}");
        std::fs::write(root.path().join("bin/scx_demo"), b"x").unwrap();
        let installed = place(&store, &spec, root.path(), meta).unwrap();
        assert_eq!(store.find("scx_demo", None).unwrap(), Some(installed));
    }
}
