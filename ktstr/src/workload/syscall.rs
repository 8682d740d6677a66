//! Thin syscall wrappers used by the parent and by workers; none of them allocates or takes a lock.

use std::io;
use std::sync::atomic::AtomicU32;

/// Bits of CPU ids in the affinity buffers: enough for `CONFIG_NR_CPUS=8192`.
const MAX_CPUS: usize = 8192;

pub(crate) fn now_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

pub(crate) fn thread_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; both clocks always exist on Linux.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn timespec(ns: u64) -> libc::timespec {
    libc::timespec {
        tv_sec: (ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (ns % 1_000_000_000) as libc::c_long,
    }
}

/// Sleeps until the absolute `CLOCK_MONOTONIC` time `deadline_ns` or until a signal arrives.
pub(crate) fn sleep_until(deadline_ns: u64) {
    let ts = timespec(deadline_ns);
    // SAFETY: `ts` outlives the call; an EINTR return simply ends the sleep early.
    unsafe {
        libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &ts,
            std::ptr::null_mut(),
        )
    };
}

/// The CPU the caller runs on, or `None` if the kernel cannot say.
pub(crate) fn current_cpu() -> Option<usize> {
    // SAFETY: no arguments; returns -1 on failure.
    usize::try_from(unsafe { libc::sched_getcpu() }).ok()
}

pub(crate) fn sched_yield() {
    // SAFETY: no arguments.
    unsafe { libc::sched_yield() };
}

/// `FUTEX_WAIT` on a word in a shared mapping, woken by another process or after `timeout_ns`.
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32, timeout_ns: u64) {
    let ts = timespec(timeout_ns);
    // SAFETY: `word` is a valid aligned u32 for the call; a mismatch, timeout or signal just returns.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
        )
    };
}

/// `FUTEX_WAKE` up to `count` waiters of a word in a shared mapping.
pub(crate) fn futex_wake(word: &AtomicU32, count: i32) {
    // SAFETY: `word` is a valid aligned u32 for the call.
    unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, count) };
}

/// A `sched_setaffinity` mask holding `cpus`.
pub(crate) fn affinity_mask(cpus: impl IntoIterator<Item = usize>) -> Vec<u64> {
    let mut words = vec![0u64; 1];
    for cpu in cpus {
        if cpu / 64 >= words.len() {
            words.resize(cpu / 64 + 1, 0);
        }
        words[cpu / 64] |= 1 << (cpu % 64);
    }
    words
}

/// `sched_setaffinity(pid, mask)`; pid 0 is the caller.
pub(crate) fn set_affinity(pid: libc::pid_t, mask: &[u64]) -> io::Result<()> {
    // SAFETY: the kernel reads `mask.len() * 8` bytes from a live slice.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_sched_setaffinity,
            pid,
            std::mem::size_of_val(mask),
            mask.as_ptr(),
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The CPUs the caller may run on.
pub(crate) fn get_affinity() -> io::Result<Vec<usize>> {
    let mut words = [0u64; MAX_CPUS / 64];
    // SAFETY: the kernel writes at most `size_of_val(&words)` bytes into the live buffer.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_sched_getaffinity,
            0,
            std::mem::size_of_val(&words),
            words.as_mut_ptr(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    let cpus = (0..MAX_CPUS).filter(|cpu| words[cpu / 64] & (1 << (cpu % 64)) != 0);
    Ok(cpus.collect())
}

/// `setpriority(PRIO_PROCESS, 0, nice)`: the calling process's nice value.
pub(crate) fn set_nice(nice: i32) -> io::Result<()> {
    // SAFETY: plain integer arguments.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) } < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `sched_setscheduler(0, policy, priority)`.
pub(crate) fn set_scheduler(policy: libc::c_int, priority: libc::c_int) -> io::Result<()> {
    let param = libc::sched_param {
        sched_priority: priority,
    };
    // SAFETY: `param` is valid for the call.
    if unsafe { libc::sched_setscheduler(0, policy, &param) } < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_set_the_right_bits() {
        let cases: [(&[usize], &[u64]); 3] =
            [(&[], &[0]), (&[0, 3], &[0b1001]), (&[64, 1], &[0b10, 1])];
        for (cpus, words) in cases {
            assert_eq!(affinity_mask(cpus.iter().copied()), words, "{cpus:?}");
        }
    }

    #[test]
    fn own_affinity_round_trips() {
        let cpus = get_affinity().expect("sched_getaffinity");
        assert!(!cpus.is_empty());
        set_affinity(0, &affinity_mask(cpus.iter().copied())).expect("sched_setaffinity");
        assert_eq!(get_affinity().expect("sched_getaffinity"), cpus);
    }
}
