//! How far a run of several trials is: one stderr line each time a trial finishes (done, running, failed,
//! skipped, waiting, and an estimate of the time left), and a table of every trial at the end.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::harness::Standing;

/// One finished trial.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    /// The outcome class, or `not run`.
    pub outcome: String,
    pub standing: Standing,
    pub wall: Duration,
}

#[derive(Default)]
struct State {
    running: usize,
    rows: Vec<Row>,
}

/// Shared by the trials of one run.
pub struct Progress {
    total: usize,
    jobs: usize,
    started: Instant,
    state: Mutex<State>,
}

impl Progress {
    pub fn new(total: usize, jobs: usize) -> Progress {
        Progress {
            total,
            jobs: jobs.max(1),
            started: Instant::now(),
            state: Mutex::new(State::default()),
        }
    }

    pub fn begin(&self) {
        self.lock().running += 1;
    }

    /// Records a finished trial and, when the run has more than one, prints the progress line.
    pub fn end(&self, row: Row) {
        let line = {
            let mut state = self.lock();
            state.running = state.running.saturating_sub(1);
            state.rows.push(row);
            self.line(&state)
        };
        if self.total > 1 {
            eprintln!("{line}");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `ktstr: 5/12 done (1 unexpected, 1 skipped), 2 running, 5 waiting, 1m40s elapsed, about 2m10s left`.
    fn line(&self, state: &State) -> String {
        let done = state.rows.len();
        let failed = count(&state.rows, Standing::Unexpected);
        let skipped = count(&state.rows, Standing::Skipped);
        let waiting = self.total.saturating_sub(done + state.running);
        let elapsed = self.started.elapsed();
        let left = remaining(&state.rows, state.running, waiting, self.jobs);
        format!(
            "ktstr: {done}/{} done ({failed} unexpected, {skipped} skipped), {} running, {waiting} waiting, {} elapsed, about {} left",
            self.total,
            state.running,
            clock(elapsed),
            clock(left)
        )
    }

    /// Every finished trial: name, outcome, whether it was the expected one, wall time.
    pub fn summary_table(&self) -> String {
        let state = self.lock();
        let mut table = comfy_table::Table::new();
        table
            .load_preset(comfy_table::presets::ASCII_BORDERS_ONLY_CONDENSED)
            .set_header(["trial", "outcome", "expected", "wall"]);
        let mut rows = state.rows.clone();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        for row in &rows {
            table.add_row([
                row.name.clone(),
                row.outcome.clone(),
                match row.standing {
                    Standing::AsExpected => "yes",
                    Standing::Skipped => "skipped",
                    Standing::Unexpected => "NO",
                }
                .to_string(),
                format!("{:.1} s", row.wall.as_secs_f64()),
            ]);
        }
        format!(
            "{table}\n{} trial(s), {} unexpected, {} skipped, {} wall with {} at once",
            rows.len(),
            count(&rows, Standing::Unexpected),
            count(&rows, Standing::Skipped),
            clock(self.started.elapsed()),
            self.jobs
        )
    }
}

fn count(rows: &[Row], standing: Standing) -> usize {
    rows.iter().filter(|r| r.standing == standing).count()
}

/// The time left: the mean wall so far times the trials still to finish (a running one counts half),
/// spread over the jobs.
fn remaining(rows: &[Row], running: usize, waiting: usize, jobs: usize) -> Duration {
    if rows.is_empty() {
        return Duration::ZERO;
    }
    let mean = rows.iter().map(|r| r.wall.as_secs_f64()).sum::<f64>() / rows.len() as f64;
    let trials = waiting as f64 + running as f64 / 2.0;
    Duration::from_secs_f64(mean * trials / jobs as f64)
}

/// `2m05s`, or `42s` under a minute.
fn clock(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        _ => format!("{}m{:02}s", secs / 60, secs % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, standing: Standing, secs: u64) -> Row {
        let outcome = match standing {
            Standing::AsExpected => "Passed",
            Standing::Skipped => "Skipped",
            Standing::Unexpected => "ChecksFailed",
        };
        Row {
            name: name.into(),
            outcome: outcome.into(),
            standing,
            wall: Duration::from_secs(secs),
        }
    }

    #[test]
    fn the_line_counts_every_state_and_estimates_what_is_left() {
        let progress = Progress::new(7, 2);
        for _ in 0..4 {
            progress.begin();
        }
        progress.end(row("a", Standing::AsExpected, 10));
        progress.end(row("b", Standing::Unexpected, 20));
        progress.end(row("c", Standing::Skipped, 15));
        let state = progress.lock();
        let line = progress.line(&state);
        assert!(
            line.starts_with("ktstr: 3/7 done (1 unexpected, 1 skipped), 1 running, 3 waiting,"),
            "{line}"
        );
        // mean 15 s × (3 waiting + 1 running / 2) / 2 jobs = 26 s
        assert!(line.ends_with("about 26s left"), "{line}");
    }

    #[test]
    fn the_summary_lists_each_trial_once_sorted_and_a_skip_is_neither_pass_nor_failure() {
        let progress = Progress::new(3, 1);
        progress.end(row("z/x", Standing::AsExpected, 65));
        progress.end(row("a/x", Standing::Unexpected, 3));
        progress.end(row("m/x", Standing::Skipped, 4));
        let table = progress.summary_table();
        let a = table.find("a/x").unwrap();
        let z = table.find("z/x").unwrap();
        assert!(a < z);
        assert!(table.contains("NO") && table.contains("65.0 s"), "{table}");
        let skip_row = table.lines().find(|l| l.contains("m/x")).unwrap();
        assert!(
            skip_row.contains("Skipped") && skip_row.contains("skipped"),
            "{table}"
        );
        assert!(
            table.contains("3 trial(s), 1 unexpected, 1 skipped"),
            "{table}"
        );
        assert_eq!(clock(Duration::from_secs(125)), "2m05s");
    }
}
