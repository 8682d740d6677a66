//! `Meter`: what a worker measures while it loops — work counts, checkpoints (scheduling gaps and CPU
//! changes), wake latency samples, and CPU/wall/schedstat totals — turned into a `WorkerReport` at the end.
//!
//! A checkpoint runs whenever `work_units` crosses a multiple of 1024, and after every iteration that made a
//! blocking call or syscall (`tick_checkpoint`), so each work type checkpoints at least every few ms of work.
//! Time a worker spends blocked by choice (sleep, futex or pipe wait, waitpid) is cut out of the gap clock
//! with `blocked`; a yield is not, because a yielding worker stays runnable.

use std::sync::atomic::{AtomicU64, Ordering};

use super::reservoir::{Reservoir, RESERVOIR_CAP};
use super::schedstat::Schedstat;
use super::stop;
use crate::workload::syscall::{current_cpu, now_ns, thread_cpu_ns};
use crate::workload::{Migration, WorkerReport};

/// Work units between two unit-driven checkpoints.
pub(crate) const CHECKPOINT_UNITS: u64 = 1024;
/// How often a checkpoint also checks that the parent is alive.
const PARENT_CHECK_NS: u64 = 100_000_000;
/// Migrations listed in the report; `migration_count` counts all of them.
pub(crate) const MAX_MIGRATIONS: usize = 10_000;

/// A worker's running measurements.
pub(crate) struct Meter<'a> {
    counter: &'a AtomicU64,
    work_units: u64,
    iterations: u64,
    next_checkpoint_units: u64,
    start_ns: u64,
    last_checkpoint_ns: u64,
    next_parent_check_ns: u64,
    cpu: Option<usize>,
    max_gap_ns: u64,
    max_gap_cpu: usize,
    max_gap_at_ns: u64,
    migration_count: u64,
    migrations: Vec<Migration>,
    cpus_seen: Vec<u64>,
    wake: Reservoir,
    is_messenger: bool,
    cpu_start_ns: u64,
    schedstat_start: Schedstat,
}

impl<'a> Meter<'a> {
    /// Starts the clocks at `started_ns` (when the parent opened the start gate, so time a starved worker
    /// waited before its first instruction counts as a gap); `counter` is its live iteration count.
    pub(crate) fn start(counter: &'a AtomicU64, seed: u64, started_ns: u64) -> Self {
        let schedstat_start = Schedstat::read_own();
        let cpu_start_ns = thread_cpu_ns();
        let start_ns = started_ns.min(now_ns());
        let mut meter = Meter {
            counter,
            work_units: 0,
            iterations: 0,
            next_checkpoint_units: CHECKPOINT_UNITS,
            start_ns,
            last_checkpoint_ns: start_ns,
            next_parent_check_ns: start_ns + PARENT_CHECK_NS,
            cpu: current_cpu(),
            max_gap_ns: 0,
            max_gap_cpu: 0,
            max_gap_at_ns: 0,
            migration_count: 0,
            migrations: Vec::new(),
            cpus_seen: Vec::new(),
            wake: Reservoir::new(RESERVOIR_CAP, seed),
            is_messenger: false,
            cpu_start_ns,
            schedstat_start,
        };
        if let Some(cpu) = meter.cpu {
            meter.mark_cpu(cpu);
        }
        meter
    }

    #[inline(always)]
    pub(crate) fn add(&mut self, units: u64) {
        self.work_units += units;
    }

    /// Ends a pure-work iteration; returns false once the worker must stop.
    #[inline(always)]
    pub(crate) fn tick(&mut self) -> bool {
        self.count_iteration();
        if self.work_units >= self.next_checkpoint_units {
            self.checkpoint();
        }
        !stop::requested()
    }

    /// Ends an iteration that made a syscall: always checkpoints. Returns false once the worker must stop.
    pub(crate) fn tick_checkpoint(&mut self) -> bool {
        self.count_iteration();
        self.checkpoint();
        !stop::requested()
    }

    #[inline(always)]
    fn count_iteration(&mut self) {
        self.iterations += 1;
        self.counter.store(self.iterations, Ordering::Relaxed);
    }

    #[inline(never)]
    fn checkpoint(&mut self) {
        self.next_checkpoint_units = (self.work_units / CHECKPOINT_UNITS + 1) * CHECKPOINT_UNITS;
        let now = now_ns();
        let cpu = current_cpu();
        self.note_gap(now, cpu.unwrap_or(0));
        let previous_ns = std::mem::replace(&mut self.last_checkpoint_ns, now);
        if let Some(cpu) = cpu.filter(|&c| Some(c) != self.cpu) {
            self.note_migration(previous_ns, now, cpu);
        }
        if now >= self.next_parent_check_ns {
            self.next_parent_check_ns = now + PARENT_CHECK_NS;
            stop::requested_or_orphaned();
        }
    }

    fn note_gap(&mut self, end_ns: u64, cpu: usize) {
        let gap = end_ns.saturating_sub(self.last_checkpoint_ns);
        if gap > self.max_gap_ns {
            self.max_gap_ns = gap;
            self.max_gap_cpu = cpu;
            self.max_gap_at_ns = end_ns.saturating_sub(self.start_ns);
        }
    }

    /// `from_seen_ns` is the last checkpoint on the previous CPU, `now` the first on `to_cpu`.
    fn note_migration(&mut self, from_seen_ns: u64, now: u64, to_cpu: usize) {
        if let Some(from_cpu) = self.cpu {
            self.migration_count += 1;
            if self.migrations.len() < MAX_MIGRATIONS {
                self.migrations.push(Migration {
                    at_ns: now.saturating_sub(self.start_ns),
                    from_seen_until_ns: from_seen_ns.saturating_sub(self.start_ns),
                    from_cpu,
                    to_cpu,
                });
            }
        }
        self.cpu = Some(to_cpu);
        self.mark_cpu(to_cpu);
    }

    fn mark_cpu(&mut self, cpu: usize) {
        if cpu / 64 >= self.cpus_seen.len() {
            self.cpus_seen.resize(cpu / 64 + 1, 0);
        }
        self.cpus_seen[cpu / 64] |= 1 << (cpu % 64);
    }

    /// The worker chose to block from `from_ns` to `to_ns`; that span is not a scheduling gap.
    pub(crate) fn blocked(&mut self, from_ns: u64, to_ns: u64) {
        self.note_gap(from_ns, self.cpu.unwrap_or(0));
        self.last_checkpoint_ns = to_ns;
    }

    pub(crate) fn wake_sample(&mut self, latency_ns: u64) {
        self.wake.push(latency_ns);
    }

    pub(crate) fn set_messenger(&mut self) {
        self.is_messenger = true;
    }

    /// Closes the last checkpoint interval and builds the report of a loop that ended normally.
    pub(crate) fn finish(mut self) -> WorkerReport {
        self.checkpoint();
        let wall_time_ns = now_ns().saturating_sub(self.start_ns);
        let cpu_time_ns = thread_cpu_ns().saturating_sub(self.cpu_start_ns);
        let sched = Schedstat::read_own().since(self.schedstat_start);
        let cpus_used = (0..self.cpus_seen.len() * 64)
            .filter(|cpu| self.cpus_seen[cpu / 64] & (1 << (cpu % 64)) != 0)
            .collect();
        let (resume_latencies_ns, wake_sample_total) = self.wake.into_parts();
        WorkerReport {
            work_units: self.work_units,
            iterations: self.iterations,
            cpu_time_ns,
            wall_time_ns,
            started_at_ns: self.start_ns,
            off_cpu_ns: wall_time_ns.saturating_sub(cpu_time_ns),
            schedstat_cpu_time_ns: sched.cpu_time_ns,
            schedstat_run_delay_ns: sched.run_delay_ns,
            schedstat_run_count: sched.run_count,
            migration_count: self.migration_count,
            migrations: self.migrations,
            cpus_used,
            max_gap_ms: self.max_gap_ns / 1_000_000,
            max_gap_cpu: self.max_gap_cpu,
            max_gap_at_ms: self.max_gap_at_ns / 1_000_000,
            resume_latencies_ns,
            wake_sample_total,
            completed: true,
            is_messenger: self.is_messenger,
            ..WorkerReport::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_crossings_drive_checkpoints_and_gaps() {
        let counter = AtomicU64::new(0);
        let mut meter = Meter::start(&counter, 1, now_ns());
        meter.add(10);
        assert!(meter.tick() || stop::requested());
        let first = meter.last_checkpoint_ns;
        assert_eq!(first, meter.start_ns, "a checkpoint ran before 1024 units");
        std::thread::sleep(std::time::Duration::from_millis(30));
        meter.add(CHECKPOINT_UNITS);
        meter.tick();
        assert!(meter.last_checkpoint_ns > first);
        assert_eq!(counter.load(Ordering::Relaxed), 2);
        let report = meter.finish();
        assert!(report.max_gap_ms >= 30, "gap {} ms", report.max_gap_ms);
        assert_eq!(
            (report.work_units, report.iterations),
            (10 + CHECKPOINT_UNITS, 2)
        );
        assert!(!report.cpus_used.is_empty());
        assert!(report.completed);
    }

    #[test]
    fn blocked_time_is_not_a_gap() {
        let counter = AtomicU64::new(0);
        let mut meter = Meter::start(&counter, 1, now_ns());
        let from = now_ns();
        std::thread::sleep(std::time::Duration::from_millis(50));
        meter.blocked(from, now_ns());
        meter.wake_sample(5);
        meter.tick_checkpoint();
        let report = meter.finish();
        assert!(
            report.max_gap_ms < 50,
            "sleep counted as a gap: {} ms",
            report.max_gap_ms
        );
        assert_eq!(
            (report.resume_latencies_ns, report.wake_sample_total),
            (vec![5], 1)
        );
    }

    #[test]
    fn migrations_are_recorded_and_capped() {
        let counter = AtomicU64::new(0);
        let mut meter = Meter::start(&counter, 1, now_ns());
        meter.cpu = Some(0);
        for i in 0..MAX_MIGRATIONS + 5 {
            meter.note_migration(meter.start_ns, meter.start_ns, 1 + i % 2);
        }
        assert_eq!(meter.migration_count, (MAX_MIGRATIONS + 5) as u64);
        assert_eq!(meter.migrations.len(), MAX_MIGRATIONS);
        assert_eq!(
            meter.migrations[0],
            Migration {
                at_ns: 0,
                from_seen_until_ns: 0,
                from_cpu: 0,
                to_cpu: 1
            }
        );
        assert_eq!(meter.cpus_seen[0] & 0b110, 0b110);
    }
}
