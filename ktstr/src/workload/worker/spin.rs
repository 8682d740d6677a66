//! CPU-bound loops: SpinWait, YieldHeavy, Mixed and Bursty, and the `spin_burst` unit of work they share.

use std::hint::{black_box, spin_loop};

use super::meter::{Meter, CHECKPOINT_UNITS};
use super::wait::sleep_sampled;
use crate::workload::syscall::{now_ns, sched_yield};

/// `units` iterations of an opaque counter increment with a spin-loop hint; returns `units`.
#[inline]
pub fn spin_burst(units: u64) -> u64 {
    let mut count = 0u64;
    for _ in 0..units {
        count = black_box(count + 1);
        spin_loop();
    }
    count
}

pub(crate) fn spin_wait(meter: &mut Meter) {
    loop {
        meter.add(spin_burst(CHECKPOINT_UNITS));
        if !meter.tick() {
            return;
        }
    }
}

pub(crate) fn yield_heavy(meter: &mut Meter) {
    loop {
        meter.add(1);
        sched_yield();
        if !meter.tick_checkpoint() {
            return;
        }
    }
}

pub(crate) fn mixed(meter: &mut Meter) {
    loop {
        meter.add(spin_burst(CHECKPOINT_UNITS));
        sched_yield();
        if !meter.tick_checkpoint() {
            return;
        }
    }
}

/// Spins in 1024-unit chunks for `burst_ms`, then sleeps `sleep_ms`.
pub(crate) fn bursty(meter: &mut Meter, burst_ms: u64, sleep_ms: u64) {
    loop {
        if !spin_for(meter, burst_ms * 1_000_000) || !sleep_sampled(meter, sleep_ms * 1_000_000) {
            return;
        }
    }
}

/// Spins in 1024-unit chunks for `duration_ns`; returns false once the worker must stop.
pub(crate) fn spin_for(meter: &mut Meter, duration_ns: u64) -> bool {
    let end = now_ns() + duration_ns;
    loop {
        meter.add(spin_burst(CHECKPOINT_UNITS));
        if !meter.tick() {
            return false;
        }
        if now_ns() >= end {
            return true;
        }
    }
}
