//! SpinWait's work-unit rate inside a real forked worker against a bare loop doing the same per-unit work
//! (`spin_burst`) in this process, in interleaved trials pinned to one CPU. A third column runs the bare loop
//! in a forked worker too (a Custom work type), which separates the cost of SpinWait's bookkeeping from
//! the cost of being a separate process. Rates are units per CPU-second, so other load on the machine
//! changes wall time, not the comparison. Goal: SpinWait within 3 % of the bare loop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ktstr::workload::{
    spin_burst, AffinityMode, WorkType, WorkerReport, WorkloadConfig, WorkloadHandle,
};

const TRIALS: usize = 20;
const TRIAL: Duration = Duration::from_millis(300);
const BURST: u64 = 1024;

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Pins the calling thread to the last CPU it may use and returns that CPU.
fn pin_to_last_cpu() -> usize {
    // SAFETY: plain-data set filled and then reused for the call.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set);
        let cpu = (0..libc::CPU_SETSIZE as usize)
            .rev()
            .find(|&c| libc::CPU_ISSET(c, &set))
            .unwrap_or(0);
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set);
        cpu
    }
}

/// The bare loop as a Custom worker: bursts until stopped, nothing else.
fn bare_worker(stop: &AtomicBool) -> WorkerReport {
    let cpu_start = thread_cpu_ns();
    let mut work_units = 0;
    while !stop.load(Ordering::Relaxed) {
        work_units += spin_burst(BURST);
    }
    let cpu_time_ns = thread_cpu_ns() - cpu_start;
    WorkerReport {
        work_units,
        cpu_time_ns,
        completed: true,
        ..WorkerReport::default()
    }
}

/// Units per CPU-second of one worker of `work_type` pinned to `cpu`.
fn worker_rate(work_type: WorkType, cpu: usize) -> f64 {
    let config = WorkloadConfig::new(work_type).affinity(AffinityMode::SingleCpu(cpu));
    let mut handle = WorkloadHandle::spawn(&config).expect("spawn a worker");
    handle.start();
    std::thread::sleep(TRIAL);
    let report = handle.stop_and_collect().remove(0);
    assert!(
        report.completed,
        "the worker did not report: {:?}",
        report.exit_info
    );
    report.work_units as f64 / report.cpu_time_ns as f64 * 1e9
}

/// Units per CPU-second of the bursts in this thread, with no bookkeeping at all.
fn in_process_rate() -> f64 {
    let cpu_start = thread_cpu_ns();
    let end = Instant::now() + TRIAL;
    let mut units = 0u64;
    while Instant::now() < end {
        for _ in 0..64 {
            units += spin_burst(BURST);
        }
    }
    units as f64 / (thread_cpu_ns() - cpu_start) as f64 * 1e9
}

/// Sorts `values` and returns the middle one.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let cpu = pin_to_last_cpu();
    println!("spin_rate: {TRIALS} interleaved trials of {TRIAL:?} per loop, pinned to CPU {cpu}");
    let mut rates: [Vec<f64>; 3] = Default::default();
    let mut ratios: [Vec<f64>; 2] = Default::default();
    for trial in 0..TRIALS {
        let mut trial_rates = [0.0; 3];
        for k in 0..3 {
            let which = (k + trial) % 3;
            trial_rates[which] = match which {
                0 => worker_rate(WorkType::SpinWait, cpu),
                1 => worker_rate(WorkType::custom("BareLoop", bare_worker), cpu),
                _ => in_process_rate(),
            };
        }
        let [spin, bare_worker, bare] = trial_rates;
        println!(
            "  trial {trial:2}: SpinWait {:.2}  bare worker {:.2}  bare in-process {:.2} Munits/cpu-s",
            spin / 1e6,
            bare_worker / 1e6,
            bare / 1e6
        );
        ratios[0].push(spin / bare);
        ratios[1].push(spin / bare_worker);
        for (all, rate) in rates.iter_mut().zip(trial_rates) {
            all.push(rate);
        }
    }
    let [spin, bare_worker, bare] = rates.map(|mut r| median(&mut r) / 1e6);
    println!("median Munits/cpu-s: SpinWait {spin:.2}, bare worker {bare_worker:.2}, bare in-process {bare:.2}");
    let [vs_bare, vs_bare_worker] = ratios.map(|mut r| median(&mut r));
    println!("SpinWait / bare in-process: {vs_bare:.4} (median of trial ratios; goal >= 0.97)");
    println!("SpinWait / bare worker:     {vs_bare_worker:.4} (bookkeeping alone)");
}
