//! Anonymous `MAP_SHARED` regions mapped before fork: per-worker iteration counters and futex words.

use std::io;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64};

/// Bytes per slot: one cache line, so workers never write to a line another worker writes.
const SLOT_BYTES: usize = 64;

/// Types that are valid when all-zero and safe to share between processes through atomics.
///
/// # Safety
/// The all-zero bit pattern must be a valid `Self`, and `Self` must fit one slot.
pub(crate) unsafe trait ZeroedSlot: Sync {}

/// One worker's live iteration count.
#[repr(C, align(64))]
pub(crate) struct CounterSlot(pub(crate) AtomicU64);

/// The futex word of one worker group and the time its last waker stamped before waking.
#[repr(C, align(64))]
pub(crate) struct FutexSlot {
    pub(crate) word: AtomicU32,
    pub(crate) stamp_ns: AtomicU64,
}

// SAFETY: both are plain atomics, valid as zero, and 64 bytes by their alignment.
unsafe impl ZeroedSlot for CounterSlot {}
// SAFETY: as above.
unsafe impl ZeroedSlot for FutexSlot {}

/// `len` zeroed slots of `T` in memory shared with every process forked after mapping.
pub(crate) struct SharedSlots<T: ZeroedSlot> {
    base: NonNull<u8>,
    len: usize,
    _slot: PhantomData<T>,
}

// SAFETY: the region holds only atomics (`ZeroedSlot: Sync`) and is unmapped only by the owner's Drop.
unsafe impl<T: ZeroedSlot> Send for SharedSlots<T> {}
// SAFETY: as above.
unsafe impl<T: ZeroedSlot> Sync for SharedSlots<T> {}

impl<T: ZeroedSlot> SharedSlots<T> {
    pub(crate) fn map(len: usize) -> io::Result<Self> {
        const {
            assert!(
                std::mem::size_of::<T>() <= SLOT_BYTES && std::mem::align_of::<T>() <= SLOT_BYTES
            )
        };
        let bytes = len.max(1) * SLOT_BYTES;
        // SAFETY: a fresh anonymous mapping; the kernel zero-fills it.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base =
            NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(SharedSlots {
            base,
            len,
            _slot: PhantomData,
        })
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        (0..self.len).filter_map(|i| self.get(i))
    }

    /// Slot `index`, or `None` past the end.
    pub(crate) fn get(&self, index: usize) -> Option<&T> {
        // SAFETY: in bounds, 64-byte aligned inside a page-aligned mapping, valid as zero, and alive for `&self`.
        (index < self.len)
            .then(|| unsafe { &*self.base.as_ptr().add(index * SLOT_BYTES).cast::<T>() })
    }
}

impl<T: ZeroedSlot> Drop for SharedSlots<T> {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping created in `map`; no borrow of it outlives `self`.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.len.max(1) * SLOT_BYTES) };
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    #[test]
    fn slots_start_zeroed_and_are_distinct() {
        let slots = SharedSlots::<CounterSlot>::map(3).expect("mmap");
        assert_eq!(slots.iter().count(), 3);
        for i in 0..3 {
            assert_eq!(slots.get(i).map(|s| s.0.load(Ordering::Relaxed)), Some(0));
        }
        if let Some(slot) = slots.get(1) {
            slot.0.store(7, Ordering::Relaxed);
        }
        assert_eq!(slots.get(0).map(|s| s.0.load(Ordering::Relaxed)), Some(0));
        assert_eq!(slots.get(1).map(|s| s.0.load(Ordering::Relaxed)), Some(7));
        assert!(slots.get(3).is_none());
    }

    #[test]
    fn writes_in_a_forked_child_are_visible_to_the_parent() {
        let slots = SharedSlots::<FutexSlot>::map(1).expect("mmap");
        // SAFETY: the child only stores to an atomic and calls `_exit`.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            if let Some(slot) = slots.get(0) {
                slot.word.store(42, Ordering::Release);
            }
            // SAFETY: ends the child without running parent destructors.
            unsafe { libc::_exit(0) };
        }
        assert!(pid > 0, "fork failed");
        let mut status = 0;
        // SAFETY: reaps the child just forked.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(
            slots.get(0).map(|s| s.word.load(Ordering::Acquire)),
            Some(42)
        );
    }
}
