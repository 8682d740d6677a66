//! Scoring a bench run as the harness judges a VM test: the outcome class and the pinned reason and
//! detail together (`VmTest::accepts`, carried as `TrialOutcome::as_expected`). A run in the expected
//! class for another reason is a miss with a column of its own, so a table counts only right reasons.

use std::fmt;

use ktstr::harness::{HarnessError, VmTest};
use ktstr::outcome::{OutcomeKind, TrialOutcome};

/// Where one run lands: its outcome class, or the right class for another reason, or nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Landed {
    /// The observed class; the expected one only when the pinned reason and detail are there too.
    Class(OutcomeKind),
    /// The expected class without the pinned reason or detail.
    RightClassWrongReason,
    CouldNotRun,
}

impl Landed {
    pub fn of(test: &VmTest, run: &Result<TrialOutcome, HarnessError>) -> Landed {
        match run {
            Err(_) => Landed::CouldNotRun,
            Ok(o) if !o.verdict.as_expected && o.verdict.kind == test.expected() => {
                Landed::RightClassWrongReason
            }
            Ok(o) => Landed::Class(o.verdict.kind),
        }
    }

    /// Whether the run is what `test` expects: its class for its reason.
    pub fn is_expected(self, test: &VmTest) -> bool {
        self == Landed::Class(test.expected())
    }
}

impl fmt::Display for Landed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Landed::Class(kind) => write!(f, "{kind:?}"),
            Landed::RightClassWrongReason => f.write_str("right class, wrong reason"),
            Landed::CouldNotRun => f.write_str("could not run"),
        }
    }
}

/// What `test` must end in: its class, and its pins when it has any.
pub fn expected(test: &VmTest) -> String {
    match test.expectation() {
        pins if pins.is_empty() => format!("{:?}", test.expected()),
        pins => format!("{:?} with {pins}", test.expected()),
    }
}

/// Why a run is a miss, or `None` when it is what its test expects.
pub fn miss(test: &VmTest, run: &Result<TrialOutcome, HarnessError>) -> Option<String> {
    let landed = Landed::of(test, run);
    let prefix = match landed {
        Landed::RightClassWrongReason => "right class, wrong reason: ",
        _ => "",
    };
    match run {
        _ if landed.is_expected(test) => None,
        Err(e) => Some(format!("could not run: {e}")),
        Ok(o) => Some(format!(
            "{prefix}{:?}: {} (expected {})",
            o.verdict.kind,
            o.verdict.reason,
            expected(test)
        )),
    }
}
