//! The host↔guest contract of one trial, typed end to end: the [`TrialSpec`] that goes out on the kernel
//! command line, and every [`GuestMessage`] that comes back over the channel, the [`GuestReport`] among
//! them. `vm` carries these as opaque serde types; `harness` (host) and `guest` both speak only this.

mod message;
mod report;
mod spec;

pub use message::{GuestMessage, START_LINE};
pub use report::{error_chain, GuestReport, SchedExtSeen, TestEnd, TopologySeen};
pub use spec::TrialSpec;
