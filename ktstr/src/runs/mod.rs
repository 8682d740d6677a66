//! Run directories and the records in them. Each invocation — a test binary, `ktstr run`, a gauntlet, the
//! processes of one nextest run (they share `NEXTEST_RUN_ID`) — writes one directory under
//! `target/ktstr-runs` (or `KTSTR_RUNS_DIR`): `run.json`, the stamp of what ran where, and one record per
//! trial and repeat. Records are written once and never changed; each carries `schema_version`, and readers
//! accept every earlier version (fields added later default). Directories from several machines merge by
//! copying them side by side.

mod record;
mod stamp;

pub use record::{metrics_of, Metric, TrialRecord, SCHEMA_VERSION};
pub use stamp::{GitStamp, HostStamp, RunStamp};

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where run directories go: `KTSTR_RUNS_DIR`, else `ktstr-runs` in the cargo target dir holding this
/// binary, else beside the binary.
pub fn runs_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("KTSTR_RUNS_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let target = exe
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|name| name == "target"));
    target
        .or_else(|| exe.parent())
        .map_or_else(std::env::temp_dir, PathBuf::from)
        .join("ktstr-runs")
}

/// Writes `outcome` as the record of repeat `repeat` into this process's run directory; returns the file.
pub fn write_record(
    outcome: &crate::outcome::TrialOutcome,
    repeat: u32,
) -> std::io::Result<PathBuf> {
    let run = RunDir::current()?;
    run.write(&TrialRecord::new(outcome.clone(), &run.id, repeat))
}

/// One run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub id: String,
    pub path: PathBuf,
}

impl RunDir {
    /// This process's run directory, created with its stamp on first use: shared by every process of one
    /// nextest run, else one per process.
    pub fn current() -> std::io::Result<&'static RunDir> {
        static CURRENT: OnceLock<RunDir> = OnceLock::new();
        if let Some(dir) = CURRENT.get() {
            return Ok(dir);
        }
        let id = match std::env::var("NEXTEST_RUN_ID") {
            Ok(run) if !run.is_empty() => format!("nextest-{}", &run[..run.len().min(13)]),
            _ => format!(
                "{}-{}",
                stamp::utc_compact(std::time::SystemTime::now()),
                std::process::id()
            ),
        };
        let dir = RunDir::create(&runs_root(), &id)?;
        Ok(CURRENT.get_or_init(|| dir))
    }

    /// `root/id` with its `run.json`; an existing stamp (another process of the same run) is kept.
    pub fn create(root: &Path, id: &str) -> std::io::Result<RunDir> {
        let path = root.join(id);
        std::fs::create_dir_all(&path)?;
        let stamp_path = path.join("run.json");
        let stamp = RunStamp::here(id);
        let json = serde_json::to_vec_pretty(&stamp).map_err(std::io::Error::other)?;
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&stamp_path)
        {
            Ok(mut file) => std::io::Write::write_all(&mut file, &json)?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        Ok(RunDir {
            id: id.to_string(),
            path,
        })
    }

    /// Writes `record` as a new file named after its trial and repeat; never overwrites one.
    pub fn write(&self, record: &TrialRecord) -> std::io::Result<PathBuf> {
        let json = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
        let base = record.test().replace('/', "_");
        let repeat = record.repeat;
        for n in 0.. {
            let name = match n {
                0 => format!("{base}.r{repeat}.json"),
                n => format!("{base}.r{repeat}.{n}.json"),
            };
            let path = self.path.join(name);
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    std::io::Write::write_all(&mut file, &json)?;
                    return Ok(path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        unreachable!("an unbounded range always yields a free name")
    }
}

/// A run as read back: its stamp and every record, in file-name order.
#[derive(Debug, Clone)]
pub struct Run {
    pub id: String,
    pub path: PathBuf,
    pub stamp: Option<RunStamp>,
    pub records: Vec<TrialRecord>,
    /// Files that are not records of a known schema, with why.
    pub unreadable: Vec<(PathBuf, String)>,
}

impl Run {
    pub fn read(path: &Path) -> std::io::Result<Run> {
        let id = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stamp = std::fs::read(path.join("run.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("run.json"))
            .collect();
        files.sort();
        let mut records = Vec::new();
        let mut unreadable = Vec::new();
        for file in files {
            match std::fs::read(&file)
                .map_err(|e| e.to_string())
                .and_then(|b| TrialRecord::parse(&b))
            {
                Ok(record) => records.push(record),
                Err(why) => unreadable.push((file, why)),
            }
        }
        Ok(Run {
            id,
            path: path.to_path_buf(),
            stamp,
            records,
            unreadable,
        })
    }

    /// Every run directory under `root`, oldest first (by the stamp's start, then name).
    pub fn list(root: &Path) -> std::io::Result<Vec<Run>> {
        let mut runs = Vec::new();
        for entry in std::fs::read_dir(root)?.flatten() {
            if entry.path().join("run.json").is_file() {
                runs.push(Run::read(&entry.path())?);
            }
        }
        runs.sort_by_key(|r| (r.stamp.as_ref().map_or(0, |s| s.started_unix), r.id.clone()));
        Ok(runs)
    }

    /// `spec` as a run: a directory path, a run id under `root`, `latest`, or `latest~N` (N runs before).
    pub fn find(root: &Path, spec: &str) -> Result<Run, String> {
        let as_path = Path::new(spec);
        if as_path.join("run.json").is_file() {
            return Run::read(as_path).map_err(|e| format!("reading {spec}: {e}"));
        }
        let runs = Run::list(root).map_err(|e| format!("reading {}: {e}", root.display()))?;
        let back = match spec {
            "latest" => Some(0),
            s => s
                .strip_prefix("latest~")
                .and_then(|n| n.parse::<usize>().ok()),
        };
        let found = match back {
            Some(n) => runs.len().checked_sub(n + 1).and_then(|i| runs.get(i)),
            None => runs.iter().find(|r| r.id == spec),
        };
        found.cloned().ok_or_else(|| {
            format!(
                "no run {spec:?} in {} ({} runs); `ktstr stats list` shows them, or give a run directory's path",
                root.display(),
                runs.len()
            )
        })
    }
}
