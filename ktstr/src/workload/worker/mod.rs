//! The worker side of a fork: one loop per work-type family, the `Meter` they report through, and the
//! entry point that applies affinity and policy, runs the loop and writes the report. Everything here runs
//! in the forked child; see `fork` for what it may touch.

mod cache_walk;
mod churn;
mod futex;
mod io;
mod meter;
mod mutex;
mod page_fault;
mod pipe;
mod reservoir;
mod run;
mod schedstat;
mod sequence;
mod spin;
pub(crate) mod stop;
mod wait;

pub(crate) use run::{run, ChildSpec, SetupError};
pub use spin::spin_burst;
