//! Harness overhead of a VM trial: (trial wall time − scenario duration) ÷ (bare QEMU boot → poweroff of the
//! same kernel with a trivial init), both measured in this run, interleaved. Goal: 1.2 or less.
//! Run with `cargo bench --bench harness_overhead [ROUNDS]` (default 5; needs `ktstr kernel build`).

use std::path::Path;
use std::time::{Duration, Instant};

use ktstr::harness::{run_vm_test, OutcomeKind, VmTest};
use ktstr::kernel::resolve_kernel;
use ktstr::prelude::*;

mod common;
use ktstr::vm::{
    Accel, InitramfsCache, InitramfsSpec, KernelCmdline, QemuExit, QemuProcess, TrialDir,
    VmRequest, VmSpec,
};

const ROUNDS: usize = 5;
const DURATION: Duration = Duration::from_secs(2);

fn two_cgroups(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(
        ctx,
        vec![CgroupDef::named("cg_0"), CgroupDef::named("cg_1")],
    )?)
}

fn tests() -> Vec<VmTest> {
    vec![VmTest::new("overhead_two_cgroups", two_cgroups).duration(DURATION)]
}

/// Boots the kernel with a busybox script that powers off at once; returns spawn → QEMU exit.
fn bare_boot(kernel: &Path, scratch: &Path) -> anyhow::Result<Duration> {
    let script = scratch.join("init.sh");
    std::fs::write(&script, "#!/bin/busybox sh\n/bin/busybox poweroff -f\n")?;
    let initramfs = InitramfsCache::from_env()?.base(&InitramfsSpec::new(&script))?;
    let dir = TrialDir::new()?;
    let spec = VmSpec::new(VmRequest {
        topology: Topology::DEFAULT,
        memory_mb: None,
        kernel: kernel.to_path_buf(),
        initramfs: initramfs.path,
        cmdline: KernelCmdline::base(),
        console_log: dir.console_log(),
        channel_socket: dir.channel_socket(),
        accel: Accel::detect()?,
    })?;
    let started = Instant::now();
    let mut qemu = QemuProcess::spawn(&spec, dir)?;
    match qemu.wait_until(started + Duration::from_secs(120))? {
        QemuExit::Exited(_) => Ok(started.elapsed()),
        QemuExit::TimedOut => anyhow::bail!("the bare guest did not power off within 120 s"),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let tests = tests();
    if !common::host_should_run(&tests) {
        return Ok(());
    }
    let kernel = resolve_kernel()?;
    let scratch = tempfile::tempdir()?;
    let (mut bare, mut overhead) = (Vec::new(), Vec::new());
    for round in 0..common::runs(ROUNDS) {
        let boot = bare_boot(kernel.image(), scratch.path())?.as_secs_f64();
        let outcome = run_vm_test(&tests[0])?;
        anyhow::ensure!(
            outcome.kind == OutcomeKind::Passed,
            "the trial did not pass: {}",
            outcome.reason
        );
        let trial = outcome.wall_ms as f64 / 1000.0 - DURATION.as_secs_f64();
        println!(
            "round {round}: bare boot→poweroff {boot:.2} s, trial − duration {trial:.2} s \
             (host prep {} ms, boot to first message {:?} ms)",
            outcome.prep_ms, outcome.boot_ms
        );
        bare.push(boot);
        overhead.push(trial);
    }
    let (bare, overhead) = (median(bare), median(overhead));
    println!("median bare boot→poweroff: {bare:.2} s");
    println!("median trial wall − scenario duration: {overhead:.2} s");
    println!(
        "harness overhead ratio: {:.2} (goal ≤ 1.2)",
        overhead / bare
    );
    Ok(())
}
