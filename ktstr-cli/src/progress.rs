//! Shows a kernel build's progress: a spinner with the step and the latest make line on a
//! terminal, one line per step otherwise.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use ktstr::kernel::BuildEvent;

/// Renders [`BuildEvent`]s to stderr.
pub struct BuildProgress {
    bar: ProgressBar,
    lines: u64,
}

impl BuildProgress {
    pub fn new() -> BuildProgress {
        let bar = ProgressBar::new_spinner();
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {prefix} ({pos} lines) {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        BuildProgress { bar, lines: 0 }
    }

    /// Takes one event from the build.
    pub fn observe(&mut self, event: BuildEvent<'_>) {
        match event {
            BuildEvent::StepStarted { step, index, total } => {
                let prefix = format!("[{index}/{total}] {step}");
                if self.bar.is_hidden() {
                    eprintln!("ktstr: {prefix}");
                }
                self.bar.set_prefix(prefix);
            }
            BuildEvent::Output(line) => {
                self.lines += 1;
                self.bar.set_position(self.lines);
                self.bar.set_message(line.trim().to_string());
            }
        }
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
