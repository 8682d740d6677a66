//! MutexContention: a group of workers sharing one futex-based lock (0 free, 1 held, 2 held with waiters).

use std::sync::atomic::{AtomicU32, Ordering};

use super::meter::Meter;
use super::spin::spin_burst;
use super::stop;
use super::wait::STOP_POLL_NS;
use crate::workload::shm::FutexSlot;
use crate::workload::syscall::{futex_wait, futex_wake, now_ns};

const FREE: u32 = 0;
const HELD: u32 = 1;
const CONTENDED: u32 = 2;

/// Takes the lock; a contended acquisition is sampled as a wake latency. Returns false on a stop request.
fn acquire(meter: &mut Meter, lock: &AtomicU32) -> bool {
    if lock
        .compare_exchange(FREE, HELD, Ordering::Acquire, Ordering::Relaxed)
        .is_ok()
    {
        return true;
    }
    let from = now_ns();
    while lock.swap(CONTENDED, Ordering::Acquire) != FREE {
        if stop::requested_or_orphaned() {
            meter.blocked(from, now_ns());
            return false;
        }
        futex_wait(lock, CONTENDED, STOP_POLL_NS);
    }
    let to = now_ns();
    meter.blocked(from, to);
    meter.wake_sample(to - from);
    true
}

fn release(lock: &AtomicU32) {
    if lock.swap(FREE, Ordering::Release) == CONTENDED {
        futex_wake(lock, 1);
    }
}

/// Spin `work_iters` outside the lock, then `hold_iters` inside it.
pub(crate) fn contend(meter: &mut Meter, slot: &FutexSlot, hold_iters: u64, work_iters: u64) {
    loop {
        meter.add(spin_burst(work_iters));
        if !acquire(meter, &slot.word) {
            return;
        }
        meter.add(spin_burst(hold_iters));
        release(&slot.word);
        if !meter.tick_checkpoint() {
            return;
        }
    }
}
