//! The host's CPUs, shared by the VMs of every ktstr process on it. A TCG vCPU keeps a host thread busy,
//! so a guest measuring its scheduler must not share its CPUs with another guest's busy phases. Each host
//! CPU is a token — an exclusive `flock` on one file of a directory every process on the host uses — and
//! a VM holds one token while its kernel boots (serial work, one busy thread), and one per vCPU (at most
//! every token) from set-up and the scheduler's attach to the end of its test. A booted guest waits, idle,
//! for its tokens. So boots overlap with boots and with idle guests, never with a running test, and a test
//! never shares a CPU with another test. A `host_only` test, whose workers run on the host itself, holds
//! every token while it runs.
//!
//! Deadlock-free: a booting VM holds one token and never waits while holding it; a test takes its tokens
//! in index order, waiting only for the next one.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};

use super::VmError;

/// How often a VM that needs any one token looks for a free one.
const ANY_POLL: Duration = Duration::from_millis(10);

/// The token directory and the number of tokens.
#[derive(Debug, Clone)]
pub struct CpuGate {
    dir: PathBuf,
    tokens: usize,
}

/// Tokens held; released when dropped.
#[derive(Debug)]
pub struct CpuTokens {
    _locks: Vec<Flock<File>>,
}

impl CpuTokens {
    pub fn count(&self) -> usize {
        self._locks.len()
    }
}

impl CpuGate {
    /// This host's gate: one token per CPU, under the temp dir, per user.
    pub fn host() -> CpuGate {
        let tokens = std::thread::available_parallelism().map_or(1, |n| n.get());
        let uid =
            std::fs::metadata("/proc/self").map_or(0, |m| std::os::unix::fs::MetadataExt::uid(&m));
        CpuGate::new(
            &std::env::temp_dir().join(format!("ktstr-cpus-{uid}")),
            tokens,
        )
    }

    pub fn new(dir: &Path, tokens: usize) -> CpuGate {
        CpuGate {
            dir: dir.to_path_buf(),
            tokens: tokens.max(1),
        }
    }

    pub fn tokens(&self) -> usize {
        self.tokens
    }

    fn open(&self, index: usize) -> Result<File, VmError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| VmError::io("create", &self.dir, e))?;
        let path = self.dir.join(format!("cpu{index}"));
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| VmError::io("open", &path, e))
    }

    /// One token, whichever is free first: for a VM that boots.
    pub fn any(&self) -> Result<CpuTokens, VmError> {
        loop {
            for index in (0..self.tokens).rev() {
                match Flock::lock(self.open(index)?, FlockArg::LockExclusiveNonblock) {
                    Ok(lock) => return Ok(CpuTokens { _locks: vec![lock] }),
                    Err((_, nix::errno::Errno::EWOULDBLOCK)) => {}
                    Err((_, e)) => return Err(self.lock_error(index, e)),
                }
            }
            std::thread::sleep(ANY_POLL);
        }
    }

    /// `count` tokens (at most all of them), taken in index order: for a VM whose test runs on `count`
    /// vCPUs.
    pub fn take(&self, count: usize) -> Result<CpuTokens, VmError> {
        let mut locks = Vec::new();
        for index in 0..count.clamp(1, self.tokens) {
            let lock = Flock::lock(self.open(index)?, FlockArg::LockExclusive)
                .map_err(|(_, e)| self.lock_error(index, e))?;
            locks.push(lock);
        }
        Ok(CpuTokens { _locks: locks })
    }

    fn lock_error(&self, index: usize, e: nix::errno::Errno) -> VmError {
        VmError::io(
            "lock",
            self.dir.join(format!("cpu{index}")),
            std::io::Error::from(e),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Instant;

    #[test]
    fn a_test_waits_for_a_boot_and_a_boot_for_a_test() {
        let dir = tempfile::tempdir().unwrap();
        let gate = CpuGate::new(dir.path(), 2);
        let boot = gate.any().unwrap();
        assert_eq!(boot.count(), 1);
        let other_boot = gate.any().unwrap();
        let (tx, rx) = mpsc::channel();
        let waiting = {
            let gate = gate.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                let test = gate.take(4).unwrap();
                tx.send((test.count(), started.elapsed())).unwrap();
                std::thread::sleep(Duration::from_millis(100));
            })
        };
        std::thread::sleep(Duration::from_millis(150));
        assert!(rx.try_recv().is_err(), "the test ran beside two boots");
        drop(boot);
        drop(other_boot);
        let (count, waited) = rx.recv().unwrap();
        assert_eq!(count, 2, "a test takes at most every token");
        assert!(waited >= Duration::from_millis(140), "{waited:?}");
        let started = Instant::now();
        let _next_boot = gate.any().unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(50),
            "a boot ran beside a test"
        );
        waiting.join().unwrap();
    }
}
