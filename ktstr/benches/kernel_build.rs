//! Kernel build timings: a cold build of Debian's linux-source-6.12 into an empty cache, then the
//! cache-hit time of the same request (median of 20). Goals on 2 cores: cold <= 6 min, hit < 1 s.
//!
//! `cargo bench --bench kernel_build` runs both; `KTSTR_BENCH_COLD=0` skips the cold build and
//! times the hit against the user's cache (which must already hold the kernel).

use std::time::{Duration, Instant};

use ktstr::kernel::{build_kernel, BuildOutcome, BuildRequest, Cache, KernelSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let request = BuildRequest {
        source: KernelSource::debian_installing()?,
        jobs: None,
        force: false,
    };
    let cold = std::env::var("KTSTR_BENCH_COLD").map_or(true, |v| v != "0");
    let scratch = tempfile::tempdir()?;
    let cache = if cold {
        Cache::at(scratch.path())
    } else {
        Cache::from_env()?
    };
    if cold {
        let started = Instant::now();
        let outcome = build_kernel(&cache, &request, &mut |_| {})?;
        let took = started.elapsed();
        assert!(
            matches!(outcome, BuildOutcome::Built(_)),
            "an empty cache cannot hit"
        );
        println!(
            "kernel build cold: {} ({} s) -> {}",
            minutes(took),
            took.as_secs(),
            outcome.entry().key()
        );
    }
    let mut hits: Vec<Duration> = (0..20)
        .map(|_| {
            let started = Instant::now();
            let outcome = build_kernel(&cache, &request, &mut |_| {})?;
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

fn minutes(d: Duration) -> String {
    format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
