//! PageFaultChurn: fault random pages of a private region in, drop them all with `MADV_DONTNEED`, spin.

use super::meter::Meter;
use super::reservoir::XorShift;
use super::spin::spin_burst;
use super::SetupError;

/// A private anonymous mapping without transparent huge pages, unmapped on drop.
struct Region {
    base: *mut u8,
    len: usize,
}

impl Region {
    fn map(len: usize) -> Result<Region, SetupError> {
        // SAFETY: a fresh private anonymous mapping.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(SetupError::Memory);
        }
        // SAFETY: advice on the mapping just created; failure only leaves THP enabled.
        unsafe { libc::madvise(ptr, len, libc::MADV_NOHUGEPAGE) };
        Ok(Region {
            base: ptr.cast(),
            len,
        })
    }

    fn touch(&self, offset: usize) {
        if offset < self.len {
            // SAFETY: in bounds of a live writable mapping.
            unsafe { self.base.add(offset).write_volatile(1) };
        }
    }

    fn drop_pages(&self) {
        // SAFETY: discards the contents of our own private mapping.
        unsafe { libc::madvise(self.base.cast(), self.len, libc::MADV_DONTNEED) };
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping created in `map`.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

pub(crate) fn page_fault_churn(
    meter: &mut Meter,
    region_kb: usize,
    touches_per_cycle: usize,
    spin_iters: u64,
    seed: u64,
) -> Result<(), SetupError> {
    // SAFETY: sysconf has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
        .unwrap_or(4096)
        .max(1);
    let region = Region::map(region_kb.max(1) * 1024)?;
    let pages = (region.len / page).max(1) as u64;
    let mut rng = XorShift::new(seed);
    loop {
        for _ in 0..touches_per_cycle {
            region.touch(rng.below(pages) as usize * page);
        }
        region.drop_pages();
        meter.add(spin_burst(spin_iters));
        if !meter.tick_checkpoint() {
            return Ok(());
        }
    }
}
