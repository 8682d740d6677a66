//! `run.json`: what ran, where and when — ktstr's version, the command, the git commit of the crate under
//! test and whether its tree was dirty, and the host (CPU model, CPU count, memory, load at start).

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::SCHEMA_VERSION;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStamp {
    #[serde(default)]
    pub schema_version: u32,
    pub id: String,
    pub ktstr_version: String,
    pub started_unix: u64,
    /// `2026-11-30T05:21:14Z`.
    pub started_utc: String,
    pub command: Vec<String>,
    pub cwd: String,
    pub git: Option<GitStamp>,
    pub host: HostStamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitStamp {
    pub commit: String,
    pub dirty: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostStamp {
    pub hostname: String,
    pub cpu_model: String,
    pub cpus: u32,
    pub mem_total_mb: u64,
    /// The 1-minute load average when the run started.
    pub load_1m: f64,
}

impl RunStamp {
    /// The stamp of a run starting now in this process.
    pub fn here(id: &str) -> RunStamp {
        let now = SystemTime::now();
        let cwd = std::env::current_dir().unwrap_or_default();
        RunStamp {
            schema_version: SCHEMA_VERSION,
            id: id.to_string(),
            ktstr_version: env!("CARGO_PKG_VERSION").to_string(),
            started_unix: unix(now),
            started_utc: utc(now),
            command: std::env::args().collect(),
            cwd: cwd.display().to_string(),
            git: git_stamp(&cwd),
            host: HostStamp::here(),
        }
    }
}

impl HostStamp {
    pub fn here() -> HostStamp {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let meminfo = read("/proc/meminfo");
        HostStamp {
            hostname: read("/proc/sys/kernel/hostname").trim().to_string(),
            cpu_model: cpuinfo
                .lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map_or_else(|| "unknown".into(), |(_, m)| m.trim().to_string()),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            mem_total_mb: meminfo
                .lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
                .map_or(0, |kb| kb / 1024),
            load_1m: read("/proc/loadavg")
                .split_whitespace()
                .next()
                .and_then(|l| l.parse().ok())
                .unwrap_or(0.0),
        }
    }
}

/// The commit checked out at `dir` and whether tracked files differ from it; `None` outside a git tree or
/// without git.
fn git_stamp(dir: &std::path::Path) -> Option<GitStamp> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"])?;
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(GitStamp { commit, dirty })
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `(year, month, day, hour, minute, second)` of a Unix time, UTC (the proleptic Gregorian calendar).
fn civil(t: SystemTime) -> (i64, u32, u32, u64, u64, u64) {
    let secs = unix(t);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `2026-11-30T05:21:14Z`.
pub fn utc(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = civil(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `20261130-052114`, for run ids that sort by time.
pub fn utc_compact(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = civil(t);
    format!("{y:04}{mo:02}{d:02}-{h:02}{mi:02}{s:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn unix_times_become_utc_dates() {
        let at = |secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(utc(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(utc(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(utc(at(1_796_016_074)), "2026-11-30T05:21:14Z");
        assert_eq!(utc_compact(at(1_796_016_074)), "20261130-052114");
    }

    #[test]
    fn the_stamp_names_this_host_and_this_checkout() {
        let stamp = RunStamp::here("x");
        assert!(stamp.host.cpus >= 1 && stamp.host.mem_total_mb > 0);
        assert_eq!(stamp.schema_version, SCHEMA_VERSION);
        // The tests run inside ktstr's own git checkout.
        assert_eq!(stamp.git.map(|g| g.commit.len()), Some(40));
    }
}
