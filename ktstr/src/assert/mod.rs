//! Checks over worker reports: layered thresholds, verdicts with details and stats, human rendering.

mod checks;
mod config;
mod error;
mod evaluate;
#[cfg(test)]
mod fixture;
mod math;
mod measure;
mod render;
mod result;
mod stats;

pub use config::{
    Assert, DEFAULT_MAX_GAP_MS_DEBUG, DEFAULT_MAX_GAP_MS_RELEASE, DEFAULT_MAX_SPREAD_PCT_DEBUG,
    DEFAULT_MAX_SPREAD_PCT_RELEASE,
};
pub use error::AssertError;
pub use render::ReportHeader;
pub use result::{AssertDetail, AssertResult, DetailKind, NotJudged};
pub use stats::{CgroupStats, ScenarioStats};
