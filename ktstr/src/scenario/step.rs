//! `Step`, `Setup` and `HoldSpec`: one phase of a scenario and how long it lasts.

use std::time::Duration;

use super::{CgroupDef, Ctx, Op};

/// Cgroups a step creates: a literal list, or a function of the context.
#[derive(Clone)]
pub enum Setup {
    Defs(Vec<CgroupDef>),
    Factory(fn(&Ctx) -> Vec<CgroupDef>),
}

impl Setup {
    pub(crate) fn defs(&self, ctx: &Ctx) -> Vec<CgroupDef> {
        match self {
            Setup::Defs(defs) => defs.clone(),
            Setup::Factory(make) => make(ctx),
        }
    }
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Setup::Defs(defs) => f.debug_tuple("Defs").field(defs).finish(),
            Setup::Factory(_) => f.write_str("Factory(..)"),
        }
    }
}

impl From<Vec<CgroupDef>> for Setup {
    fn from(defs: Vec<CgroupDef>) -> Self {
        Setup::Defs(defs)
    }
}

/// How long a step lasts once its ops and setup are applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HoldSpec {
    /// A fraction of `ctx.duration`.
    Frac(f64),
    Fixed(Duration),
    /// Set up once, then re-apply the ops every `interval` until scenario start + `ctx.duration`.
    Loop {
        interval: Duration,
    },
}

impl HoldSpec {
    /// Holds for the whole scenario duration.
    pub const FULL: HoldSpec = HoldSpec::Frac(1.0);

    /// Rejects holds that would make a step meaningless.
    pub fn validate(&self) -> Result<(), HoldError> {
        match *self {
            HoldSpec::Fixed(d) if d.is_zero() => Err(HoldError::ZeroFixed),
            HoldSpec::Frac(f) if !f.is_finite() || f <= 0.0 => Err(HoldError::BadFrac(f)),
            HoldSpec::Loop { interval } if interval.is_zero() => Err(HoldError::ZeroInterval),
            _ => Ok(()),
        }
    }

    /// The hold time of a non-loop step.
    pub(crate) fn duration(&self, total: Duration) -> Duration {
        match *self {
            HoldSpec::Frac(f) => total.mul_f64(f.max(0.0)),
            HoldSpec::Fixed(d) => d,
            HoldSpec::Loop { .. } => Duration::ZERO,
        }
    }
}

/// A hold that would make a step meaningless.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum HoldError {
    #[error(
        "HoldSpec::Fixed(0) holds for no time; give a positive duration or use HoldSpec::FULL"
    )]
    ZeroFixed,
    #[error("HoldSpec::Frac({0}) is not a positive finite fraction of the duration; use e.g. HoldSpec::Frac(0.5)")]
    BadFrac(f64),
    #[error(
        "HoldSpec::Loop with a zero interval would spin; give a positive interval such as 100 ms"
    )]
    ZeroInterval,
}

/// One phase of a scenario: ops applied first, then the setup's cgroups, then the hold.
#[derive(Debug, Clone)]
pub struct Step {
    pub setup: Setup,
    pub ops: Vec<Op>,
    pub hold: HoldSpec,
}

impl Step {
    /// A step that only applies ops.
    pub fn new(ops: Vec<Op>, hold: HoldSpec) -> Self {
        Step {
            setup: Setup::Defs(Vec::new()),
            ops,
            hold,
        }
    }

    /// A step that creates the given cgroups.
    pub fn with_defs(defs: impl Into<Setup>, hold: HoldSpec) -> Self {
        Step {
            setup: defs.into(),
            ops: Vec::new(),
            hold,
        }
    }

    /// Replaces the ops.
    pub fn set_ops(mut self, ops: Vec<Op>) -> Self {
        self.ops = ops;
        self
    }
}

impl super::WithOps for Step {
    fn ops_mut(&mut self) -> &mut Vec<Op> {
        &mut self.ops
    }
}
