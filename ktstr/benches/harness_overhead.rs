//! Harness overhead of a VM trial: (trial wall time − scenario duration) ÷ (bare QEMU boot → poweroff of the
//! same kernel with a trivial init), measured in this run, interleaved, with `/init` slimmed of its debug
//! sections (the default) and as built (`KTSTR_LEAN_INIT=0`). Goal: 1.1 or less.
//! Run with `cargo bench --bench harness_overhead [ROUNDS]` (default 5; needs `ktstr kernel build`).

use std::path::Path;
use std::time::{Duration, Instant};

use ktstr::harness::{run_vm_test, VmTest};
use ktstr::kernel::resolve_kernel;
use ktstr::outcome::OutcomeKind;
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

/// One trial with `/init` slim (`lean`) or as built: (wall − duration, boot to first message), seconds.
fn trial(test: &VmTest, lean: bool) -> anyhow::Result<(f64, f64)> {
    // Single-threaded: the variable is read by this thread's trial only.
    std::env::set_var(ktstr::vm::LEAN_ENV, if lean { "1" } else { "0" });
    let outcome = run_vm_test(test)?;
    anyhow::ensure!(
        outcome.verdict.kind == OutcomeKind::Passed,
        "the trial did not pass: {}",
        outcome.verdict.reason
    );
    let overhead = outcome.timings.wall_ms as f64 / 1000.0 - DURATION.as_secs_f64();
    let boot = outcome.timings.boot_ms.unwrap_or_default() as f64 / 1000.0;
    Ok((overhead, boot))
}

fn main() -> anyhow::Result<()> {
    let tests = tests();
    if !common::host_should_run(&tests) {
        return Ok(());
    }
    let kernel = resolve_kernel()?;
    let scratch = tempfile::tempdir()?;
    let (mut bare, mut lean, mut full) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..common::runs(ROUNDS) {
        let boot = bare_boot(kernel.image(), scratch.path())?.as_secs_f64();
        let slim = trial(&tests[0], true)?;
        let built = trial(&tests[0], false)?;
        println!(
            "round {round}: bare boot→poweroff {boot:.2} s | slim /init: trial − duration {:.2} s, boot to first \
             message {:.2} s | /init as built: {:.2} s, {:.2} s",
            slim.0, slim.1, built.0, built.1
        );
        bare.push(boot);
        lean.push(slim);
        full.push(built);
    }
    let bare = median(bare);
    let pick = |v: &[(f64, f64)], f: fn(&(f64, f64)) -> f64| median(v.iter().map(f).collect());
    let (lean_over, lean_boot) = (pick(&lean, |x| x.0), pick(&lean, |x| x.1));
    let (full_over, full_boot) = (pick(&full, |x| x.0), pick(&full, |x| x.1));
    println!("median bare boot→poweroff: {bare:.2} s");
    println!("median boot to first guest message: slim {lean_boot:.2} s, as built {full_boot:.2} s (ratio {:.2})", lean_boot / full_boot);
    println!(
        "median trial wall − scenario duration: slim {lean_over:.2} s, as built {full_over:.2} s"
    );
    println!(
        "harness overhead ratio P1 (trial − duration ÷ bare boot): slim {:.2}, as built {:.2} (goal ≤ 1.1)",
        lean_over / bare,
        full_over / bare
    );
    Ok(())
}
