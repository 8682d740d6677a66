//! Per-key advisory file locks: a build holds its key exclusively, a user of an entry holds it
//! shared, and `clean` removes only what it can lock exclusively without waiting.

use std::fs::{File, OpenOptions};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::error::KernelError;

/// A held lock on one cache key; released on drop.
#[derive(Debug)]
pub struct KeyLock {
    _flock: Flock<File>,
}

/// How to take a [`KeyLock`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum LockMode {
    /// Wait for exclusive ownership (building a key).
    Exclusive,
    /// Wait for shared use (booting an entry).
    Shared,
    /// Exclusive, but give up at once if anyone holds it (cleaning).
    TryExclusive,
}

impl KeyLock {
    /// Takes the lock in `path` (created if missing); `Ok(None)` only for a busy `TryExclusive`.
    pub(crate) fn acquire(path: &Path, mode: LockMode) -> Result<Option<KeyLock>, KernelError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| KernelError::io("open lock file", path, e))?;
        let arg = match mode {
            LockMode::Exclusive => FlockArg::LockExclusive,
            LockMode::Shared => FlockArg::LockShared,
            LockMode::TryExclusive => FlockArg::LockExclusiveNonblock,
        };
        loop {
            match Flock::lock(
                file.try_clone()
                    .map_err(|e| KernelError::io("open lock file", path, e))?,
                arg,
            ) {
                Ok(flock) => return Ok(Some(KeyLock { _flock: flock })),
                Err((_, Errno::EWOULDBLOCK)) => return Ok(None),
                Err((_, Errno::EINTR)) => continue,
                Err((_, errno)) => return Err(KernelError::io("lock", path, errno.into())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_excludes_and_shared_shares() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.lock");
        let held = KeyLock::acquire(&path, LockMode::Exclusive)
            .unwrap()
            .unwrap();
        assert!(KeyLock::acquire(&path, LockMode::TryExclusive)
            .unwrap()
            .is_none());
        drop(held);
        let a = KeyLock::acquire(&path, LockMode::Shared).unwrap().unwrap();
        let b = KeyLock::acquire(&path, LockMode::Shared).unwrap().unwrap();
        assert!(KeyLock::acquire(&path, LockMode::TryExclusive)
            .unwrap()
            .is_none());
        drop((a, b));
        assert!(KeyLock::acquire(&path, LockMode::TryExclusive)
            .unwrap()
            .is_some());
    }
}
