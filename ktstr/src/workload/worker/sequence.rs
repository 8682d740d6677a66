//! Sequence: run each phase for its duration, in order, then start over.

use super::io::IoFile;
use super::meter::Meter;
use super::spin::spin_for;
use super::wait::{sleep_sampled, yield_sampled};
use crate::workload::syscall::now_ns;
use crate::workload::Phase;

pub(crate) fn sequence(meter: &mut Meter, first: Phase, rest: &[Phase], io: Option<&IoFile>) {
    loop {
        for phase in std::iter::once(&first).chain(rest) {
            if !run_phase(meter, *phase, io) {
                return;
            }
        }
    }
}

/// Runs one phase; returns false once the worker must stop.
fn run_phase(meter: &mut Meter, phase: Phase, io: Option<&IoFile>) -> bool {
    let duration_ns = u64::try_from(phase.duration().as_nanos()).unwrap_or(u64::MAX);
    let end = now_ns().saturating_add(duration_ns);
    match phase {
        Phase::Spin(_) => spin_for(meter, duration_ns),
        Phase::Sleep(_) => sleep_sampled(meter, duration_ns),
        Phase::Yield(_) => loop {
            meter.add(1);
            yield_sampled(meter);
            if !meter.tick_checkpoint() {
                return false;
            }
            if now_ns() >= end {
                return true;
            }
        },
        Phase::Io(_) => loop {
            // The worker opens the file before its loop whenever a Sequence has an Io phase.
            let Some(file) = io else { return false };
            if !file.round(meter) {
                return false;
            }
            if now_ns() >= end {
                return true;
            }
        },
    }
}
