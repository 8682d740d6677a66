//! IoSync: rewrite a per-worker temporary file in 4 KiB blocks, then sleep briefly.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::meter::Meter;
use super::wait::sleep_sampled;
use super::SetupError;

/// Blocks written per round; each counts as one work unit.
const BLOCKS: u64 = 16;
const BLOCK_BYTES: usize = 4096;
/// Pause after each round.
const PAUSE_NS: u64 = 100_000;

static BLOCK: [u8; BLOCK_BYTES] = [0xa5; BLOCK_BYTES];

/// The worker's own file, truncated and rewritten each round.
pub(crate) struct IoFile(OwnedFd);

impl IoFile {
    pub(crate) fn open(path: &CStr) -> Result<IoFile, SetupError> {
        let flags = libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC;
        // SAFETY: a NUL-terminated path; the returned fd is owned below.
        let fd = unsafe { libc::open(path.as_ptr(), flags, 0o600) };
        if fd < 0 {
            return Err(SetupError::IoFile);
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        Ok(IoFile(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Truncates the file and writes `BLOCKS` blocks; returns the work units done.
    pub(crate) fn write_round(&self) -> u64 {
        let fd = self.0.as_raw_fd();
        // SAFETY: plain syscalls on an owned fd with a static buffer.
        unsafe {
            libc::ftruncate(fd, 0);
            for block in 0..BLOCKS {
                libc::pwrite(
                    fd,
                    BLOCK.as_ptr().cast(),
                    BLOCK_BYTES,
                    (block as usize * BLOCK_BYTES) as libc::off_t,
                );
            }
        }
        BLOCKS
    }

    /// One IoSync iteration: a write round, then a short sampled sleep. Returns false once the worker must stop.
    pub(crate) fn round(&self, meter: &mut Meter) -> bool {
        meter.add(self.write_round());
        let slept = sleep_sampled(meter, PAUSE_NS);
        meter.tick_checkpoint() && slept
    }
}

pub(crate) fn io_sync(meter: &mut Meter, file: &IoFile) {
    while file.round(meter) {}
}
