//! Blocking steps shared by work loops, each bounded to 100 ms slices so a stop request is seen promptly.

use super::meter::Meter;
use super::stop;
use crate::workload::syscall::{now_ns, sched_yield, sleep_until};

/// Longest a worker blocks before it looks at the stop flag again.
pub(crate) const STOP_POLL_NS: u64 = 100_000_000;

/// Sleeps `duration_ns`; samples how late the wake-up came. Returns false if a stop request cut it short.
pub(crate) fn sleep_sampled(meter: &mut Meter, duration_ns: u64) -> bool {
    let from = now_ns();
    let deadline = from + duration_ns;
    let mut now = from;
    while now < deadline {
        if stop::requested_or_orphaned() {
            meter.blocked(from, now);
            return false;
        }
        sleep_until(deadline.min(now + STOP_POLL_NS));
        now = now_ns();
    }
    meter.blocked(from, now);
    meter.wake_sample(now - deadline);
    true
}

/// `sched_yield`, sampling how long it took to run again.
pub(crate) fn yield_sampled(meter: &mut Meter) {
    let from = now_ns();
    sched_yield();
    meter.wake_sample(now_ns().saturating_sub(from));
}
