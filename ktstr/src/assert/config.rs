//! `Assert`: layered check thresholds where every field is optional and `None` inherits.
//!
//! Three layers merge in order, the later `Some` winning:
//! `Assert::default_checks().merge(&scheduler).merge(&test)`.
//!
//! The time-based defaults below are calibrated under QEMU TCG: docs/tcg-calibration.md.

use serde::{Deserialize, Serialize};

use super::AssertError;

/// Built-in scheduling gap threshold, in milliseconds; the same in every build profile.
pub const DEFAULT_MAX_GAP_MS: u64 = 2000;
/// Built-in fairness spread threshold, in percent; the same in every build profile.
pub const DEFAULT_MAX_SPREAD_PCT: f64 = 15.0;

/// Which worker checks run and with what thresholds; `None` inherits from the layer below.
///
/// ```
/// use ktstr::assert::Assert;
/// const SCHED: Assert = Assert::NO_OVERRIDES.max_gap_ms(5000);
/// const TEST: Assert = Assert::NO_OVERRIDES.check_isolation();
/// let merged = Assert::default_checks().merge(&SCHED).merge(&TEST);
/// assert_eq!(merged.effective_max_gap_ms(), 5000);
/// assert_eq!(merged.isolation, Some(true));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Assert {
    /// Starvation check; also enables the gap and fairness spread checks.
    pub not_starved: Option<bool>,
    /// Workers must stay on their cgroup's cpuset.
    pub isolation: Option<bool>,
    pub max_gap_ms: Option<u64>,
    pub max_spread_pct: Option<f64>,
    /// Coefficient of variation of per-worker work units per CPU-second.
    pub max_throughput_cv: Option<f64>,
    /// Floor of work units per CPU-second, per worker.
    pub min_work_rate: Option<f64>,
    pub max_p99_wake_latency_ns: Option<u64>,
    pub max_wake_latency_cv: Option<f64>,
    /// Floor of iterations per wall-clock second, per worker.
    pub min_iteration_rate: Option<f64>,
    /// Ceiling of total migrations over total iterations.
    pub max_migration_ratio: Option<f64>,
}

/// A resolved threshold and whether a layer set it (built-ins are not mentioned in messages).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Limit<T> {
    pub value: T,
    pub explicit: bool,
}

impl<T> Limit<T> {
    pub(crate) const fn explicit(value: T) -> Self {
        Limit {
            value,
            explicit: true,
        }
    }

    pub(crate) const fn built_in(value: T) -> Self {
        Limit {
            value,
            explicit: false,
        }
    }
}

/// Later `Some` wins; `const` so merged layers can be constants.
const fn pick<T: Copy>(base: Option<T>, over: Option<T>) -> Option<T> {
    match over {
        Some(_) => over,
        None => base,
    }
}

impl Assert {
    /// Every field `None`: the identity of `merge`.
    pub const NO_OVERRIDES: Assert = Assert {
        not_starved: None,
        isolation: None,
        max_gap_ms: None,
        max_spread_pct: None,
        max_throughput_cv: None,
        min_work_rate: None,
        max_p99_wake_latency_ns: None,
        max_wake_latency_cv: None,
        min_iteration_rate: None,
        max_migration_ratio: None,
    };

    /// The bottom layer: starvation (with gap and spread) on, everything else off.
    pub const fn default_checks() -> Assert {
        Assert::NO_OVERRIDES.check_not_starved()
    }

    pub const fn check_not_starved(mut self) -> Self {
        self.not_starved = Some(true);
        self
    }

    /// Turns off starvation, gap and spread checks, even when a lower layer enabled them.
    pub const fn no_starvation_check(mut self) -> Self {
        self.not_starved = Some(false);
        self
    }

    pub const fn check_isolation(mut self) -> Self {
        self.isolation = Some(true);
        self
    }

    /// Turns off the isolation check, even when a lower layer enabled it.
    pub const fn no_isolation_check(mut self) -> Self {
        self.isolation = Some(false);
        self
    }

    pub const fn max_gap_ms(mut self, ms: u64) -> Self {
        self.max_gap_ms = Some(ms);
        self
    }

    pub const fn max_spread_pct(mut self, pct: f64) -> Self {
        self.max_spread_pct = Some(pct);
        self
    }

    pub const fn max_throughput_cv(mut self, cv: f64) -> Self {
        self.max_throughput_cv = Some(cv);
        self
    }

    pub const fn min_work_rate(mut self, units_per_cpu_sec: f64) -> Self {
        self.min_work_rate = Some(units_per_cpu_sec);
        self
    }

    pub const fn max_p99_wake_latency_ns(mut self, ns: u64) -> Self {
        self.max_p99_wake_latency_ns = Some(ns);
        self
    }

    pub const fn max_wake_latency_cv(mut self, cv: f64) -> Self {
        self.max_wake_latency_cv = Some(cv);
        self
    }

    pub const fn min_iteration_rate(mut self, per_sec: f64) -> Self {
        self.min_iteration_rate = Some(per_sec);
        self
    }

    pub const fn max_migration_ratio(mut self, ratio: f64) -> Self {
        self.max_migration_ratio = Some(ratio);
        self
    }

    /// Field-wise merge: each `Some` in `other` replaces the value in `self`.
    pub const fn merge(&self, other: &Assert) -> Assert {
        Assert {
            not_starved: pick(self.not_starved, other.not_starved),
            isolation: pick(self.isolation, other.isolation),
            max_gap_ms: pick(self.max_gap_ms, other.max_gap_ms),
            max_spread_pct: pick(self.max_spread_pct, other.max_spread_pct),
            max_throughput_cv: pick(self.max_throughput_cv, other.max_throughput_cv),
            min_work_rate: pick(self.min_work_rate, other.min_work_rate),
            max_p99_wake_latency_ns: pick(
                self.max_p99_wake_latency_ns,
                other.max_p99_wake_latency_ns,
            ),
            max_wake_latency_cv: pick(self.max_wake_latency_cv, other.max_wake_latency_cv),
            min_iteration_rate: pick(self.min_iteration_rate, other.min_iteration_rate),
            max_migration_ratio: pick(self.max_migration_ratio, other.max_migration_ratio),
        }
    }

    /// True when `assert_cgroup` would run at least one check over worker reports.
    pub const fn has_worker_checks(&self) -> bool {
        matches!(self.not_starved, Some(true))
            || matches!(self.isolation, Some(true))
            || self.max_throughput_cv.is_some()
            || self.min_work_rate.is_some()
            || self.max_p99_wake_latency_ns.is_some()
            || self.max_wake_latency_cv.is_some()
            || self.min_iteration_rate.is_some()
            || self.max_migration_ratio.is_some()
    }

    /// Gap threshold in force: `max_gap_ms`, else [`DEFAULT_MAX_GAP_MS`].
    pub const fn effective_max_gap_ms(&self) -> u64 {
        self.gap_limit().value
    }

    /// Spread threshold in force: `max_spread_pct`, else [`DEFAULT_MAX_SPREAD_PCT`].
    pub const fn effective_max_spread_pct(&self) -> f64 {
        self.spread_limit().value
    }

    pub(crate) const fn gap_limit(&self) -> Limit<u64> {
        match self.max_gap_ms {
            Some(value) => Limit::explicit(value),
            None => Limit::built_in(DEFAULT_MAX_GAP_MS),
        }
    }

    pub(crate) const fn spread_limit(&self) -> Limit<f64> {
        match self.max_spread_pct {
            Some(value) => Limit::explicit(value),
            None => Limit::built_in(DEFAULT_MAX_SPREAD_PCT),
        }
    }

    /// Rejects thresholds that are NaN, infinite or negative.
    pub fn validate(&self) -> Result<(), AssertError> {
        let floats = [
            ("max_spread_pct", self.max_spread_pct),
            ("max_throughput_cv", self.max_throughput_cv),
            ("min_work_rate", self.min_work_rate),
            ("max_wake_latency_cv", self.max_wake_latency_cv),
            ("min_iteration_rate", self.min_iteration_rate),
            ("max_migration_ratio", self.max_migration_ratio),
        ];
        for (field, value) in floats {
            match value {
                Some(value) if !value.is_finite() => {
                    return Err(AssertError::NotFinite { field, value })
                }
                Some(value) if value < 0.0 => return Err(AssertError::Negative { field, value }),
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_later_some_wins_and_none_inherits() {
        let cases = [
            (Assert::default_checks(), Assert::NO_OVERRIDES, Some(true)),
            (
                Assert::default_checks(),
                Assert::NO_OVERRIDES.no_starvation_check(),
                Some(false),
            ),
            (
                Assert::NO_OVERRIDES.no_starvation_check(),
                Assert::NO_OVERRIDES.check_not_starved(),
                Some(true),
            ),
            (Assert::NO_OVERRIDES, Assert::NO_OVERRIDES, None),
        ];
        for (base, over, want) in cases {
            assert_eq!(
                base.merge(&over).not_starved,
                want,
                "{base:?} merged with {over:?}"
            );
        }
    }

    #[test]
    fn three_layers_merge_field_by_field() {
        let sched = Assert::NO_OVERRIDES
            .max_gap_ms(5000)
            .check_isolation()
            .max_spread_pct(20.0);
        let test = Assert::NO_OVERRIDES.max_gap_ms(700).no_isolation_check();
        let merged = Assert::default_checks().merge(&sched).merge(&test);
        assert_eq!(merged.not_starved, Some(true));
        assert_eq!(merged.isolation, Some(false));
        assert_eq!(merged.max_gap_ms, Some(700));
        assert_eq!(merged.max_spread_pct, Some(20.0));
        assert_eq!(merged.max_migration_ratio, None);
    }

    #[test]
    fn no_overrides_is_the_merge_identity() {
        let full = Assert::default_checks()
            .check_isolation()
            .max_gap_ms(1)
            .max_spread_pct(2.0)
            .max_throughput_cv(0.3)
            .min_work_rate(4.0)
            .max_p99_wake_latency_ns(5)
            .max_wake_latency_cv(0.6)
            .min_iteration_rate(7.0)
            .max_migration_ratio(0.8);
        assert_eq!(full.merge(&Assert::NO_OVERRIDES), full);
        assert_eq!(Assert::NO_OVERRIDES.merge(&full), full);
        assert_eq!(Assert::default(), Assert::NO_OVERRIDES);
    }

    #[test]
    fn has_worker_checks_follows_enabled_checks() {
        let cases = [
            (Assert::NO_OVERRIDES, false),
            (Assert::default_checks(), true),
            (Assert::NO_OVERRIDES.no_starvation_check(), false),
            (Assert::NO_OVERRIDES.check_isolation(), true),
            (Assert::NO_OVERRIDES.no_isolation_check(), false),
            (Assert::NO_OVERRIDES.max_migration_ratio(0.5), true),
            (Assert::NO_OVERRIDES.max_p99_wake_latency_ns(1000), true),
            (Assert::NO_OVERRIDES.max_gap_ms(100), false),
        ];
        for (a, want) in cases {
            assert_eq!(a.has_worker_checks(), want, "{a:?}");
        }
    }

    #[test]
    fn built_in_thresholds_are_the_same_in_every_build_profile() {
        let a = Assert::default_checks();
        assert_eq!(a.effective_max_gap_ms(), 2000);
        assert_eq!(a.effective_max_spread_pct(), 15.0);
        assert!(!a.gap_limit().explicit);
        let a = a.max_gap_ms(10).max_spread_pct(1.5);
        assert_eq!(a.gap_limit(), Limit::explicit(10));
        assert_eq!(a.spread_limit(), Limit::explicit(1.5));
    }

    #[test]
    fn validate_rejects_non_finite_and_negative_thresholds() {
        let cases = [
            (
                Assert::NO_OVERRIDES.max_spread_pct(f64::NAN),
                "max_spread_pct",
            ),
            (
                Assert::NO_OVERRIDES.max_throughput_cv(f64::INFINITY),
                "max_throughput_cv",
            ),
            (Assert::NO_OVERRIDES.min_work_rate(-1.0), "min_work_rate"),
            (
                Assert::NO_OVERRIDES.max_wake_latency_cv(f64::NEG_INFINITY),
                "max_wake_latency_cv",
            ),
            (
                Assert::NO_OVERRIDES.min_iteration_rate(-0.5),
                "min_iteration_rate",
            ),
            (
                Assert::NO_OVERRIDES.max_migration_ratio(f64::NAN),
                "max_migration_ratio",
            ),
        ];
        for (a, field) in cases {
            let err = a.validate().expect_err(field);
            let text = err.to_string();
            assert!(
                text.contains(field) && text.contains("None to inherit"),
                "{text}"
            );
        }
    }

    #[test]
    fn validate_accepts_zero_and_ordinary_thresholds() {
        let a = Assert::default_checks()
            .max_spread_pct(0.0)
            .max_throughput_cv(0.25)
            .min_work_rate(1e9);
        assert_eq!(a.validate(), Ok(()));
        assert_eq!(Assert::NO_OVERRIDES.validate(), Ok(()));
    }
}
