//! Checks over worker reports: layered thresholds, verdicts with details and stats, human rendering.

mod config;
mod error;

pub use config::{
    Assert, DEFAULT_MAX_GAP_MS_DEBUG, DEFAULT_MAX_GAP_MS_RELEASE, DEFAULT_MAX_SPREAD_PCT_DEBUG,
    DEFAULT_MAX_SPREAD_PCT_RELEASE,
};
pub use error::AssertError;
