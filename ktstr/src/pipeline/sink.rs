//! The run stage's events and their consumers. Sinks see every event in one order, one event at a time
//! (what they print stays whole when several trials run at once): the run record first, so that the
//! verdict text and the JSON line can name the file it went to.

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use super::progress::{Progress, Row};
use crate::harness::{HostOutcome, Standing, VmTest};
use crate::outcome::TrialOutcome;

/// One repeat of a VM trial, finished.
pub struct Finished<'a> {
    pub test: &'a VmTest,
    /// This run's repeat (from 0) and how many the trial makes.
    pub repeat: u32,
    pub repeats: u32,
    pub outcome: &'a TrialOutcome,
    pub standing: Standing,
    /// Where the record went, once the record sink wrote it.
    pub record: OnceLock<Result<PathBuf, String>>,
}

/// What the run stage reports, in order per trial: `Started`, then `Finished` per repeat (or `HostFinished`,
/// or `CouldNotRun`), then `Ended` with the trial's row.
pub enum Event<'a> {
    Started {
        name: &'a str,
    },
    Finished(&'a Finished<'a>),
    HostFinished {
        test: &'a VmTest,
        outcome: &'a HostOutcome,
        standing: Standing,
    },
    /// The trial could not be run at all (bad input found late, a VM that could not start).
    CouldNotRun {
        name: &'a str,
        error: &'a str,
    },
    Ended(&'a Row),
}

/// A consumer of the run stage's events.
pub trait Sink: Send + Sync {
    fn event(&self, event: &Event<'_>);
}

/// The sinks of one run, called in order under one lock.
pub struct Sinks {
    sinks: Vec<Box<dyn Sink>>,
    one_at_a_time: Mutex<()>,
}

impl Sinks {
    pub fn new(sinks: Vec<Box<dyn Sink>>) -> Sinks {
        Sinks {
            sinks,
            one_at_a_time: Mutex::new(()),
        }
    }

    pub fn emit(&self, event: &Event<'_>) {
        let _whole = self.one_at_a_time.lock().unwrap_or_else(|p| p.into_inner());
        for sink in &self.sinks {
            sink.event(event);
        }
    }
}

/// Writes each finished repeat as a run record into this process's run directory.
pub struct Records;

impl Sink for Records {
    fn event(&self, event: &Event<'_>) {
        let Event::Finished(finished) = event else {
            return;
        };
        let written =
            crate::runs::write_record(finished.outcome, finished.repeat).map_err(|e| e.to_string());
        let _ = finished.record.set(written);
    }
}

/// The verdict block of every trial on stdout, with the record it was written to.
pub struct VerdictText;

impl VerdictText {
    /// The block `finished` prints: the verdict, its repeat when there are several, and the record.
    pub fn text(finished: &Finished) -> String {
        let mut text = finished.outcome.render();
        if finished.repeats > 1 {
            text = format!(
                "--- repeat {}/{} ---\n{text}",
                finished.repeat + 1,
                finished.repeats
            );
        }
        match finished.record.get() {
            Some(Ok(path)) => text += &format!("run record: {}\n", path.display()),
            Some(Err(e)) => text += &format!("run record not written: {e}\n"),
            None => {}
        }
        text
    }
}

impl Sink for VerdictText {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::Finished(finished) => println!("{}", VerdictText::text(finished)),
            Event::HostFinished { outcome, .. } => println!("{}", outcome.text),
            Event::CouldNotRun { name, error } => {
                println!("=== ktstr {name}: could not run: {error}\n")
            }
            Event::Started { .. } | Event::Ended(_) => {}
        }
    }
}

/// One line of JSON per verdict on stdout (`ktstr run --json`).
pub struct JsonLines;

impl JsonLines {
    pub fn line(event: &Event<'_>) -> Option<serde_json::Value> {
        Some(match event {
            Event::Finished(f) => {
                let (o, result) = (f.outcome, f.outcome.result());
                serde_json::json!({
                    "test": o.trial.name,
                    "kind": o.verdict.kind,
                    "as_expected": o.verdict.as_expected,
                    "reason": o.verdict.reason,
                    "topology": o.trial.topology,
                    "scheduler": o.scheduler.name,
                    "profile": o.scheduler.profile,
                    "accel": o.vm.accel,
                    "repeat": f.repeat,
                    "wall_ms": o.timings.wall_ms,
                    "details": result.map(|r| &r.details),
                    "stats": result.map(|r| &r.stats),
                    "record": f.record.get().and_then(|r| r.as_ref().ok()),
                })
            }
            Event::HostFinished {
                test,
                outcome,
                standing,
            } => {
                let result = outcome.result.as_ref();
                serde_json::json!({
                    "test": test.trial_name(),
                    "host": true,
                    "kind": outcome.kind,
                    "as_expected": *standing == Standing::AsExpected,
                    "reason": outcome.reason,
                    "details": result.map(|r| &r.details),
                    "stats": result.map(|r| &r.stats),
                    "wall_ms": outcome.wall_ms,
                })
            }
            Event::CouldNotRun { name, error } => {
                serde_json::json!({"test": name, "error": error})
            }
            Event::Started { .. } | Event::Ended(_) => return None,
        })
    }
}

impl Sink for JsonLines {
    fn event(&self, event: &Event<'_>) {
        if let Some(line) = JsonLines::line(event) {
            println!("{line}");
        }
    }
}

/// A sink shared with whoever reads it afterwards (the progress table, a bench's tally).
impl<S: Sink + ?Sized> Sink for std::sync::Arc<S> {
    fn event(&self, event: &Event<'_>) {
        (**self).event(event)
    }
}

impl Sink for Progress {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::Started { .. } => self.begin(),
            Event::Ended(row) => self.end((*row).clone()),
            _ => {}
        }
    }
}
