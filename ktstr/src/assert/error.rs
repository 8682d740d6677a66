//! Errors from validating an `Assert`.

/// A threshold that no measurement could be compared against, named with its fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AssertError {
    #[error("Assert::{field} is {value}, which is not a finite number; set a finite value >= 0 or leave it None to inherit")]
    NotFinite { field: &'static str, value: f64 },
    #[error("Assert::{field} is {value}, but thresholds cannot be negative; set a value >= 0 or leave it None to inherit")]
    Negative { field: &'static str, value: f64 },
}
