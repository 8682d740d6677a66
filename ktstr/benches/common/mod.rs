//! What every VM bench binary does first: be the guest's `/init` when it is PID 1, and do nothing for
//! `--list`; plus the run count given on the command line.

use ktstr::harness::VmTest;

/// Runs the guest role as PID 1 (never returns); false when the harness only asked for `--list`.
pub fn host_should_run(tests: &[VmTest]) -> bool {
    if std::process::id() == 1 {
        ktstr::pipeline::run_guest(tests);
    }
    !std::env::args().any(|a| a == "--list")
}

/// The first number among the arguments (`cargo bench --bench NAME -- N`), else `default`.
pub fn runs(default: usize) -> usize {
    nth_number(0).unwrap_or(default)
}

/// The `n`th number among the arguments (`cargo bench --bench NAME -- N J`).
pub fn nth_number(n: usize) -> Option<usize> {
    std::env::args().filter_map(|a| a.parse().ok()).nth(n)
}
