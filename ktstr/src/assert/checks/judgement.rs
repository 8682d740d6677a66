//! `Judgement`: the failures a check found, and a note when it could judge nothing (or not everything).

use crate::assert::AssertDetail;

/// What one check concluded over one cgroup's reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Judgement {
    pub failures: Vec<AssertDetail>,
    /// Why the check judged nothing, or what it left out; the verdict shows it as "not judged".
    pub not_judged: Option<String>,
}

impl Judgement {
    pub(crate) fn failures(failures: Vec<AssertDetail>) -> Self {
        Judgement {
            failures,
            not_judged: None,
        }
    }

    pub(crate) fn not_judged(reason: impl Into<String>) -> Self {
        Judgement {
            failures: Vec::new(),
            not_judged: Some(reason.into()),
        }
    }

    /// Adds a note about what was left out of an otherwise judged check.
    pub(crate) fn leaving_out(mut self, note: Option<String>) -> Self {
        self.not_judged = note;
        self
    }
}

impl From<Option<AssertDetail>> for Judgement {
    fn from(failure: Option<AssertDetail>) -> Self {
        Judgement::failures(failure.into_iter().collect())
    }
}

impl From<Vec<AssertDetail>> for Judgement {
    fn from(failures: Vec<AssertDetail>) -> Self {
        Judgement::failures(failures)
    }
}
