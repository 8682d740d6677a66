//! Loops that churn kernel state between bursts: ForkExit, NiceSweep, AffinityChurn and PolicyChurn.

use super::meter::Meter;
use super::reservoir::XorShift;
use super::spin::spin_burst;
use super::wait::yield_sampled;
use crate::workload::syscall::{
    affinity_mask, get_affinity, now_ns, set_affinity, set_scheduler, sleep_until,
};
use crate::workload::SchedPolicy;

/// Forks a child that exits at once and reaps it; the fork-to-reap time is the wake sample.
pub(crate) fn fork_exit(meter: &mut Meter) {
    loop {
        let from = now_ns();
        // SAFETY: the worker is single-threaded; the child only calls `_exit`.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: ends the short-lived child without touching inherited state.
            unsafe { libc::_exit(0) };
        }
        if pid > 0 {
            reap(pid);
            let to = now_ns();
            meter.blocked(from, to);
            meter.wake_sample(to - from);
            meter.add(1);
        } else {
            sleep_until(now_ns() + 1_000_000);
        }
        if !meter.tick_checkpoint() {
            return;
        }
    }
}

fn reap(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: waits for our own child; EINTR (a stop signal) just retries since the child exits at once.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
        && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
    {}
}

fn nice_of_self() -> libc::c_int {
    // SAFETY: reads the caller's nice value; -1 is ambiguous only on error, which cannot happen for ourselves.
    unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
}

fn set_nice(nice: libc::c_int) -> bool {
    // SAFETY: changes only the caller's nice value.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) == 0 }
}

/// Walks nice values -20..=19 (negative ones skipped once refused), spinning and yielding at each; restores
/// the starting nice value at the end.
pub(crate) fn nice_sweep(meter: &mut Meter) {
    let original = nice_of_self();
    let mut negatives_allowed = true;
    let mut next = -20;
    loop {
        meter.add(spin_burst(512));
        if next >= 0 {
            set_nice(next);
        } else if negatives_allowed {
            negatives_allowed = set_nice(next);
        }
        next = if next >= 19 { -20 } else { next + 1 };
        yield_sampled(meter);
        if !meter.tick_checkpoint() {
            break;
        }
    }
    set_nice(original);
}

/// Spins, then pins itself to a random CPU of its starting mask and yields.
pub(crate) fn affinity_churn(meter: &mut Meter, spin_iters: u64, seed: u64) {
    let allowed = get_affinity().unwrap_or_default();
    let mut rng = XorShift::new(seed);
    loop {
        meter.add(spin_burst(spin_iters));
        if !allowed.is_empty() {
            let cpu = allowed[rng.below(allowed.len() as u64) as usize];
            // A refused CPU (hot-unplugged or outside a new cpuset) just leaves the mask as it was.
            let _ = set_affinity(0, &affinity_mask([cpu]));
        }
        yield_sampled(meter);
        if !meter.tick_checkpoint() {
            break;
        }
    }
    let _ = set_affinity(0, &affinity_mask(allowed));
}

/// Policies PolicyChurn cycles through; the real-time ones are dropped once the kernel refuses them.
const CHURN_POLICIES: [(libc::c_int, libc::c_int); 5] = [
    (libc::SCHED_OTHER, 0),
    (libc::SCHED_BATCH, 0),
    (libc::SCHED_IDLE, 0),
    (libc::SCHED_FIFO, 1),
    (libc::SCHED_RR, 1),
];

/// Spins, switches to the next scheduling policy and yields; restores `configured` at the end.
pub(crate) fn policy_churn(meter: &mut Meter, spin_iters: u64, configured: SchedPolicy) {
    let mut rt_allowed = true;
    for step in 0.. {
        meter.add(spin_burst(spin_iters));
        let (policy, priority) = CHURN_POLICIES[step % CHURN_POLICIES.len()];
        if priority == 0 {
            let _ = set_scheduler(policy, 0);
        } else if rt_allowed {
            rt_allowed = set_scheduler(policy, priority).is_ok();
        }
        yield_sampled(meter);
        if !meter.tick_checkpoint() {
            break;
        }
    }
    let (policy, priority) = configured.to_raw();
    let _ = set_scheduler(policy, priority);
}
