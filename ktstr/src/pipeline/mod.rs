//! One trial pipeline for test binaries and `ktstr run`: *plan* (tests → a typed list of trials: gauntlet
//! expansion, repeats, the budget's selection, and why a variant cannot run here), *run* (each trial in
//! its own VM or on the host, several at once, emitting typed events), and *sinks* (the run record, the
//! verdict text, the JSON line and the progress display, each a consumer of those events).
//!
//! `ktstr::main!` is the libtest adapter over it (`libtest`); `ktstr run` is the command-line adapter.
//! Neither plans, runs or renders on its own.

pub mod budget;
pub mod gauntlet;
mod libtest;
mod plan;
mod progress;
mod run;
mod sink;

pub use libtest::{main, registered_tests, run_guest};
pub use plan::{plan, Action, Plan, PlanInputs, PlannedTrial};
pub use progress::{Progress, Row};
pub use run::{default_jobs, execute, run_all, SkipPolicy, Tally, TrialResult};
pub use sink::{Event, Finished, JsonLines, Records, Sink, Sinks, VerdictText};
