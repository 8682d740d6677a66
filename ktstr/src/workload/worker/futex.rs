//! Futex loops over a group's shared slot: FutexPingPong (a pair passing a turn) and FutexFanOut (one
//! messenger waking its receivers). The waker stamps the time before waking, so the woken worker samples
//! wake-to-run latency.

use std::sync::atomic::{AtomicU32, Ordering};

use super::meter::Meter;
use super::spin::spin_burst;
use super::stop;
use super::wait::STOP_POLL_NS;
use crate::workload::shm::FutexSlot;
use crate::workload::syscall::{futex_wait, futex_wake, now_ns};

/// Blocks until `word` differs from `seen`; returns its new value, or `None` on a stop request.
fn wait_for_change(meter: &mut Meter, slot: &FutexSlot, seen: u32) -> Option<u32> {
    let current = slot.word.load(Ordering::Acquire);
    if current != seen {
        return Some(current);
    }
    let from = now_ns();
    let current = loop {
        if stop::requested_or_orphaned() {
            meter.blocked(from, now_ns());
            return None;
        }
        futex_wait(&slot.word, seen, STOP_POLL_NS);
        let current = slot.word.load(Ordering::Acquire);
        if current != seen {
            break current;
        }
    };
    let to = now_ns();
    meter.blocked(from, to);
    meter.wake_sample(to.saturating_sub(slot.stamp_ns.load(Ordering::Relaxed)));
    Some(current)
}

/// Publishes `value` with a fresh stamp and wakes up to `count` waiters.
fn publish(word: &AtomicU32, slot: &FutexSlot, value: u32, count: i32) {
    slot.stamp_ns.store(now_ns(), Ordering::Relaxed);
    word.store(value, Ordering::Release);
    futex_wake(word, count);
}

/// The pair's word holds whose turn it is (rank 0 first); each turn is a spin, then the turn passes over.
pub(crate) fn ping_pong(meter: &mut Meter, slot: &FutexSlot, rank: usize, spin_iters: u64) {
    let me = u32::from(rank != 0);
    loop {
        let mut turn = slot.word.load(Ordering::Acquire);
        while turn != me {
            match wait_for_change(meter, slot, turn) {
                Some(value) => turn = value,
                None => return,
            }
        }
        meter.add(spin_burst(spin_iters));
        publish(&slot.word, slot, 1 - me, 1);
        if !meter.tick_checkpoint() {
            return;
        }
    }
}

/// Rank 0 is the messenger: it spins, bumps the generation and wakes every receiver. Receivers wait for a
/// new generation, then spin.
pub(crate) fn fan_out(meter: &mut Meter, slot: &FutexSlot, rank: usize, spin_iters: u64) {
    if rank == 0 {
        meter.set_messenger();
    }
    let mut seen = slot.word.load(Ordering::Acquire);
    loop {
        if rank == 0 {
            meter.add(spin_burst(spin_iters));
            seen = seen.wrapping_add(1);
            publish(&slot.word, slot, seen, i32::MAX);
        } else {
            match wait_for_change(meter, slot, seen) {
                Some(value) => seen = value,
                None => return,
            }
            meter.add(spin_burst(spin_iters));
        }
        if !meter.tick_checkpoint() {
            return;
        }
    }
}
