//! Raw cgroupfs access: control files, and mutations bounded by a timeout on a helper thread.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use nix::errno::Errno;

use super::error::ops;
use super::CgroupError;

/// How long any cgroupfs mutation may take before the caller gets `CgroupError::Timeout`.
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// A cgroup control file: its name, the controller that provides it, and its operation labels.
pub(crate) struct Knob {
    pub(crate) file: &'static str,
    pub(crate) controller: Option<&'static str>,
    pub(crate) read_op: &'static str,
    pub(crate) write_op: &'static str,
}

pub(crate) const PROCS: Knob = Knob {
    file: "cgroup.procs",
    controller: None,
    read_op: ops::READ_PROCS,
    write_op: ops::WRITE_PROCS,
};
pub(crate) const CPUS: Knob = Knob {
    file: "cpuset.cpus",
    controller: Some("cpuset"),
    read_op: ops::READ_CPUS,
    write_op: ops::WRITE_CPUS,
};
pub(crate) const CPUS_EFFECTIVE: Knob = Knob {
    file: "cpuset.cpus.effective",
    controller: Some("cpuset"),
    read_op: ops::READ_CPUS_EFFECTIVE,
    write_op: ops::WRITE_CPUS_EFFECTIVE,
};
pub(crate) const SUBTREE: Knob = Knob {
    file: "cgroup.subtree_control",
    controller: None,
    read_op: ops::READ_SUBTREE,
    write_op: ops::WRITE_SUBTREE,
};
pub(crate) const CONTROLLERS: Knob = Knob {
    file: "cgroup.controllers",
    controller: None,
    read_op: ops::READ_CONTROLLERS,
    write_op: ops::WRITE_CONTROLLERS,
};

pub(crate) fn read_knob(dir: &Path, knob: &Knob) -> io::Result<String> {
    fs::read_to_string(dir.join(knob.file))
}

/// Writes `content` to the knob in one `write(2)`; never creates the file (cgroupfs would answer EACCES).
pub(crate) fn write_knob(
    dir: &Path,
    knob: &Knob,
    content: String,
    timeout: Duration,
) -> Result<io::Result<()>, CgroupError> {
    let path = dir.join(knob.file);
    with_timeout(path.clone(), knob.write_op, timeout, move || {
        fs::OpenOptions::new()
            .write(true)
            .open(&path)?
            .write_all(content.as_bytes())
    })
}

pub(crate) fn mkdir(dir: &Path, timeout: Duration) -> Result<io::Result<()>, CgroupError> {
    let path = dir.to_path_buf();
    with_timeout(path.clone(), ops::MKDIR, timeout, move || {
        fs::create_dir(&path)
    })
}

pub(crate) fn rmdir(dir: &Path, timeout: Duration) -> Result<io::Result<()>, CgroupError> {
    let path = dir.to_path_buf();
    with_timeout(path.clone(), ops::RMDIR, timeout, move || {
        fs::remove_dir(&path)
    })
}

/// Runs `op` on a helper thread and waits at most `timeout`. A stuck helper is left behind, blocked in the kernel.
pub(crate) fn with_timeout<T: Send + 'static>(
    path: PathBuf,
    label: &'static str,
    timeout: Duration,
    op: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<io::Result<T>, CgroupError> {
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = thread::Builder::new()
        .name("ktstr-cgroupfs".into())
        .spawn(move || {
            // The receiver is gone only after a timeout, when nobody wants the result.
            let _ = tx.send(op());
        });
    if let Err(source) = spawned {
        return Err(CgroupError::io(path, label, source));
    }
    match rx.recv_timeout(timeout) {
        Ok(result) => Ok(result),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(CgroupError::Timeout {
            path,
            file: label,
            timeout,
        }),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Ok(Err(io::Error::other("cgroupfs helper thread panicked")))
        }
    }
}

/// Repeats `attempt` while it fails with EBUSY, at most `retries` more times, sleeping `delay` in between.
pub(crate) fn retry_on_busy(
    retries: u32,
    delay: Duration,
    mut attempt: impl FnMut() -> Result<io::Result<()>, CgroupError>,
) -> Result<io::Result<()>, CgroupError> {
    let mut left = retries;
    loop {
        let result = attempt()?;
        let busy = matches!(&result, Err(e) if e.raw_os_error() == Some(Errno::EBUSY as i32));
        if !busy || left == 0 {
            return Ok(result);
        }
        left -= 1;
        thread::sleep(delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_fires_while_the_operation_blocks() {
        let (release, blocked) = mpsc::channel::<()>();
        let result = with_timeout(
            PathBuf::from("/cg"),
            ops::WRITE_PROCS,
            Duration::from_millis(50),
            move || {
                let _ = blocked.recv();
                Ok(())
            },
        );
        drop(release);
        let err = result.expect_err("a blocked operation must time out");
        assert!(err.is_timeout(), "{err:?}");
    }

    #[test]
    fn a_prompt_operation_returns_its_result() {
        let ok = with_timeout(PathBuf::from("/cg"), ops::RMDIR, WRITE_TIMEOUT, || Ok(7));
        assert_eq!(ok.expect("no timeout").expect("io ok"), 7);
        let failed = with_timeout(PathBuf::from("/cg"), ops::RMDIR, WRITE_TIMEOUT, || {
            Err::<(), _>(io::Error::from_raw_os_error(Errno::EBUSY as i32))
        });
        let inner = failed
            .expect("no timeout")
            .expect_err("the io error is passed through");
        assert_eq!(inner.raw_os_error(), Some(Errno::EBUSY as i32));
    }

    #[test]
    fn busy_is_retried_a_bounded_number_of_times() {
        let busy = || Ok(Err(io::Error::from_raw_os_error(Errno::EBUSY as i32)));
        let cases = [
            // (failures before success, retries allowed, expected attempts, expected success)
            (0, 3, 1, true),
            (2, 3, 3, true),
            (3, 3, 4, true),
            (4, 3, 4, false),
            (9, 0, 1, false),
        ];
        for (failures, retries, want_attempts, want_ok) in cases {
            let mut attempts = 0;
            let result = retry_on_busy(retries, Duration::ZERO, || {
                attempts += 1;
                if attempts <= failures {
                    busy()
                } else {
                    Ok(Ok(()))
                }
            });
            assert_eq!(
                attempts, want_attempts,
                "failures={failures} retries={retries}"
            );
            assert_eq!(
                result.expect("no timeout").is_ok(),
                want_ok,
                "failures={failures}"
            );
        }
    }

    #[test]
    fn other_errors_are_not_retried() {
        let mut attempts = 0;
        let result = retry_on_busy(3, Duration::ZERO, || {
            attempts += 1;
            Ok(Err(io::Error::from_raw_os_error(Errno::EACCES as i32)))
        });
        assert_eq!(attempts, 1);
        assert!(result.expect("no timeout").is_err());
    }
}
