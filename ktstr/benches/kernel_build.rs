//! Kernel build timings: a cold build of Debian's linux-source-6.12 into an empty cache for each
//! flavor (wall time and the CPU seconds of the build's processes, side by side, with the debug
//! flavor's cost as a ratio of the default's), then the cache-hit time of the default request
//! (median of 20). Goals on 2 cores: default cold <= 6 min, hit < 1 s.
//!
//! `cargo bench --bench kernel_build` runs all; `KTSTR_BENCH_FLAVORS=default` limits the cold builds to
//! the named flavors; `KTSTR_BENCH_COLD=0` skips them and times the hit against the user's cache
//! (which must already hold the default kernel).

use std::time::{Duration, Instant};

use ktstr::kernel::{build_kernel, BuildOutcome, BuildRequest, Cache, KernelFlavor, KernelSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let request = |flavor| -> Result<BuildRequest, Box<dyn std::error::Error>> {
        Ok(BuildRequest {
            source: KernelSource::debian_installing()?,
            flavor,
            jobs: None,
            force: false,
        })
    };
    let cold = std::env::var("KTSTR_BENCH_COLD").map_or(true, |v| v != "0");
    let flavors: Vec<KernelFlavor> = match std::env::var("KTSTR_BENCH_FLAVORS") {
        Ok(list) => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
        Err(_) => KernelFlavor::ALL.to_vec(),
    };
    let scratch = tempfile::tempdir()?;
    let cache = if cold {
        Cache::at(scratch.path())
    } else {
        Cache::from_env()?
    };
    if cold {
        let mut costs = Vec::new();
        for flavor in flavors {
            let (cpu_before, started) = (children_cpu_secs(), Instant::now());
            let outcome = build_kernel(&cache, &request(flavor)?, &mut |_| {})?;
            let (took, cpu) = (started.elapsed(), children_cpu_secs() - cpu_before);
            assert!(
                matches!(outcome, BuildOutcome::Built(_)),
                "an empty cache cannot hit"
            );
            println!(
                "kernel build cold, {flavor} flavor: {} wall, {cpu:.0} CPU-s -> {}",
                minutes(took),
                outcome.entry().key()
            );
            costs.push((flavor, cpu));
        }
        if let [(a, base), rest @ ..] = costs.as_slice() {
            for (flavor, cpu) in rest {
                println!("{flavor} / {a} build CPU: {:.2}", cpu / base);
            }
        }
    }
    let default = request(KernelFlavor::Default)?;
    let mut hits: Vec<Duration> = (0..20)
        .map(|_| {
            let started = Instant::now();
            let outcome = build_kernel(&cache, &default, &mut |_| {})?;
            match outcome {
                BuildOutcome::Hit(_) => Ok(started.elapsed()),
                BuildOutcome::Built(_) => Err("the second build was not a cache hit".into()),
            }
        })
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    hits.sort();
    println!(
        "kernel build cache hit: median {:.0} us, max {:.0} us",
        micros(hits[hits.len() / 2]),
        micros(hits[hits.len() - 1])
    );
    Ok(())
}

/// User plus system CPU seconds of this process's waited-for children (make, cc, ...).
fn children_cpu_secs() -> f64 {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN);
    usage.map_or(0.0, |u| {
        let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
        secs(u.user_time()) + secs(u.system_time())
    })
}

fn minutes(d: Duration) -> String {
    format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
