//! `RunningScheduler`: an attached scheduler — its liveness, output, exit reason — and `stop`, which ends it
//! and returns `SchedulerEnd`. Dropping it kills and reaps the scheduler.

use std::path::Path;
use std::process::ExitStatus;
use std::time::Duration;

use super::output::OutputFile;
use super::process::{ProcState, SchedProcess};
use super::{ScxExit, StopError};

/// A scheduler that sched_ext reported enabled.
#[derive(Debug)]
pub struct RunningScheduler {
    name: String,
    ops_name: String,
    attach_time: Duration,
    stop_grace: Duration,
    // Declared before `output` so the process dies before its output file is removed.
    process: SchedProcess,
    output: OutputFile,
}

/// How a scheduler ended.
#[derive(Debug)]
pub struct SchedulerEnd {
    pub status: ExitStatus,
    /// It had exited before `stop` was called: it died during the test.
    pub ended_on_its_own: bool,
    /// It ignored SIGINT for the stop grace and was SIGKILLed.
    pub killed: bool,
    /// Its stdout and stderr, the last `OUTPUT_LIMIT` bytes.
    pub output: String,
}

impl RunningScheduler {
    pub(crate) fn new(
        name: String,
        process: SchedProcess,
        ops_name: String,
        attach_time: Duration,
        output: OutputFile,
        stop_grace: Duration,
    ) -> RunningScheduler {
        RunningScheduler {
            name,
            ops_name,
            attach_time,
            stop_grace,
            process,
            output,
        }
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The name from the spec.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name sched_ext reported in `root/ops`.
    pub fn ops_name(&self) -> &str {
        &self.ops_name
    }

    /// From spawn to sched_ext reporting it enabled.
    pub fn attach_time(&self) -> Duration {
        self.attach_time
    }

    /// The file holding its stdout and stderr; removed when this value goes away.
    pub fn output_path(&self) -> &Path {
        self.output.path()
    }

    /// Whether the process is still running; an exit is reaped and its status remembered.
    pub fn alive(&mut self) -> bool {
        matches!(self.process.poll(), ProcState::Running)
    }

    /// Its exit status once it has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        match self.process.poll() {
            ProcState::Exited(status) => Some(status),
            ProcState::Running | ProcState::Lost(_) => None,
        }
    }

    /// Its stdout and stderr so far, the last `OUTPUT_LIMIT` bytes.
    pub fn output(&self) -> String {
        self.output.tail()
    }

    /// The last `max_lines` lines of its output.
    pub fn output_tail(&self, max_lines: usize) -> String {
        self.output.tail_lines(max_lines)
    }

    /// Why sched_ext detached it, from kernel log messages (`KmsgRecord::text`) and its `EXIT:` line.
    pub fn sched_ext_exit<S: AsRef<str>>(&self, kmsg_lines: &[S]) -> Option<ScxExit> {
        ScxExit::from_logs(&self.ops_name, kmsg_lines, &self.output())
    }

    /// SIGINT to its process group, up to the stop grace to exit, then SIGKILL; always reaps.
    pub fn stop(mut self) -> Result<SchedulerEnd, StopError> {
        let stopped = self.process.stop(self.stop_grace);
        let output = self.output();
        match stopped.status {
            Ok(status) => Ok(SchedulerEnd {
                status,
                ended_on_its_own: stopped.ended_on_its_own,
                killed: stopped.killed,
                output,
            }),
            Err(errno) => Err(StopError {
                pid: self.pid(),
                source: errno.into(),
                output,
            }),
        }
    }
}
