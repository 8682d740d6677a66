//! The test binary's `main`: the guest role as PID 1, otherwise a libtest-compatible host harness.

use libtest_mimic::{Arguments, Failed, Trial};

use super::verdict::{render, write_record};
use super::{run_vm_test, VmTest};

/// Runs `tests`: as PID 1 inside a VM, the trial named on the kernel command line; otherwise each
/// selected test in its own VM, listed and filtered like `cargo test`. Never returns.
pub fn main(tests: Vec<VmTest>) -> ! {
    if std::process::id() == 1 {
        run_guest(&tests);
    }
    if let Some(name) = duplicate_name(&tests) {
        eprintln!(
            "ktstr: two tests are named {name:?}; a #[ktstr_test] is named after its function, so rename one"
        );
        std::process::exit(2);
    }
    if let Err(why) = check_declarations(&tests) {
        eprintln!("ktstr: {why}");
        std::process::exit(2);
    }
    crate::vm::TrialDir::sweep_orphans(&std::env::temp_dir());
    let mut args = Arguments::from_args();
    // VMs are timed; running several at once on a small host would distort what they measure.
    args.test_threads.get_or_insert(1);
    let trials = tests
        .into_iter()
        .map(|test| match test.host_only {
            true => Trial::test(test.trial_name(), move || judge_on_host(&test)).with_kind("host"),
            false => Trial::test(test.trial_name(), move || judge(&test)),
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    let leftovers = qemu_children();
    if !leftovers.is_empty() {
        eprintln!("ktstr: QEMU processes outlived their trials: {leftovers:?}");
        std::process::exit(101);
    }
    conclusion.exit()
}

/// Every test's declaration resolved (profile, topology within its constraints) before anything runs,
/// so a mistake in one stops the binary with its name instead of failing a trial minutes in.
fn check_declarations(tests: &[VmTest]) -> Result<(), String> {
    for test in tests {
        test.resolved()
            .map_err(|e| format!("test {}: {e}", test.name))?;
    }
    Ok(())
}

/// A name two of `tests` share.
fn duplicate_name(tests: &[VmTest]) -> Option<&str> {
    let mut names: Vec<&str> = tests.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    names.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
}

/// Every `#[ktstr_test]` linked into this binary, sorted by name.
pub fn registered_tests() -> Vec<VmTest> {
    let mut tests: Vec<VmTest> = crate::__private::KTSTR_TESTS
        .iter()
        .map(|build| build())
        .collect();
    tests.sort_by(|a, b| a.name.cmp(&b.name));
    tests
}

/// The guest role over `tests`: PID 1 runs the one the kernel command line names. Never returns.
pub fn run_guest(tests: &[VmTest]) -> ! {
    crate::guest::run_guest(&|name| tests.iter().find(|t| t.name == name).map(|t| t.func))
}

fn judge(test: &VmTest) -> Result<(), Failed> {
    let outcome = run_vm_test(test).map_err(|e| Failed::from(format!("could not run: {e}")))?;
    let text = render(&outcome, test.expect);
    println!("{text}");
    match write_record(&outcome) {
        Ok(path) => println!("run record: {}", path.display()),
        Err(e) => println!("run record not written: {e}"),
    }
    if test.accepts(outcome.kind, &outcome.reason, &outcome.detail_kinds()) {
        Ok(())
    } else if outcome.kind == test.expect {
        Err(Failed::from(format!(
            "{text}\nthe outcome class is as expected, but the verdict lacks {}",
            test.expectation()
        )))
    } else {
        Err(Failed::from(text))
    }
}

fn judge_on_host(test: &VmTest) -> Result<(), Failed> {
    let outcome =
        super::run_host_test(test).map_err(|e| Failed::from(format!("could not run: {e}")))?;
    println!("{}", outcome.text);
    let details: Vec<_> = outcome
        .result
        .iter()
        .flat_map(|r| r.details.iter().map(|d| d.kind))
        .collect();
    match test.accepts(outcome.kind, &outcome.reason, &details) {
        true => Ok(()),
        false => Err(Failed::from(outcome.text)),
    }
}

/// Pids of QEMU processes that are children of this process.
fn qemu_children() -> Vec<u32> {
    crate::guest::children_of(std::process::id())
        .into_iter()
        .filter(|(_, comm)| comm.contains("qemu"))
        .map(|(pid, _)| pid)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assert::AssertResult;
    use crate::scenario::Ctx;

    fn nothing(_: &Ctx) -> anyhow::Result<AssertResult> {
        Ok(AssertResult::pass())
    }

    #[test]
    fn duplicate_test_names_are_found() {
        let tests = [
            VmTest::new("a", nothing),
            VmTest::new("b", nothing),
            VmTest::new("a", nothing),
        ];
        assert_eq!(duplicate_name(&tests), Some("a"));
        assert_eq!(duplicate_name(&tests[..2]), None);
    }
}
