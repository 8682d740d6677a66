//! Checks over worker reports: layered thresholds, verdicts with details and stats, human rendering.

mod checks;
mod config;
mod error;
mod evaluate;
#[cfg(test)]
mod fixture;
mod math;
mod measure;
mod phase;
mod render;
mod result;
mod stats;

pub use config::{Assert, DEFAULT_MAX_GAP_MS, DEFAULT_MAX_SPREAD_PCT};
pub use error::AssertError;
pub(crate) use phase::allowed_union;
pub use phase::CpusetPhase;
pub use render::ReportHeader;
pub use result::{AssertDetail, AssertResult, DetailKind, NotJudged};
pub use stats::{CgroupStats, ScenarioStats};
