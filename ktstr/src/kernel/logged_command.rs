//! Runs build commands with their combined output going line by line to the build log and to the
//! caller's observer, keeping the last lines for the error when a command fails.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::build_step::{Argv, BuildStep};
use super::error::KernelError;

/// How many log lines a failed step's error carries.
pub const TAIL_LINES: usize = 40;

/// Progress reported while a build runs.
#[derive(Debug, Clone, Copy)]
pub enum BuildEvent<'a> {
    /// A step began; `index` counts from 1 up to `total`.
    StepStarted {
        step: BuildStep,
        index: usize,
        total: usize,
    },
    /// One line of a build tool's output (it also goes to the log file).
    Output(&'a str),
}

/// The log of one build plus the observer that watches it.
pub(crate) struct StepLog<'o> {
    file: File,
    path: PathBuf,
    tail: VecDeque<String>,
    observer: &'o mut dyn FnMut(BuildEvent<'_>),
}

impl<'o> StepLog<'o> {
    /// Starts a fresh log at `path`.
    pub(crate) fn create(
        path: &Path,
        observer: &'o mut dyn FnMut(BuildEvent<'_>),
    ) -> Result<Self, KernelError> {
        let file = File::create(path).map_err(|e| KernelError::io("create", path, e))?;
        Ok(StepLog {
            file,
            path: path.to_path_buf(),
            tail: VecDeque::new(),
            observer,
        })
    }

    /// Announces a step to the observer and the log.
    pub(crate) fn start(&mut self, step: BuildStep, index: usize, total: usize) {
        self.line(&format!("ktstr: step {index}/{total}: {step}"));
        (self.observer)(BuildEvent::StepStarted { step, index, total });
    }

    /// Records one line in the log, the tail and the observer.
    pub(crate) fn line(&mut self, line: &str) {
        let _ = writeln!(self.file, "{line}");
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line.to_string());
        (self.observer)(BuildEvent::Output(line));
    }

    /// Runs `argv` to completion; a non-zero exit becomes [`KernelError::StepFailed`].
    pub(crate) fn run(&mut self, step: BuildStep, argv: &Argv) -> Result<(), KernelError> {
        self.line(&format!("ktstr: $ {}", argv.join(" ")));
        let spawn_err = |source| KernelError::Spawn {
            program: argv[0].clone(),
            source,
        };
        let (reader, writer) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|errno| spawn_err(errno.into()))?;
        let (reader, writer) = (File::from(reader), File::from(writer));
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(writer.try_clone().map_err(spawn_err)?)
            .stderr(writer);
        let mut child = cmd.spawn().map_err(spawn_err)?;
        drop(cmd);
        let mut reader = BufReader::new(reader);
        let mut buf = Vec::new();
        while reader.read_until(b'\n', &mut buf).map_err(spawn_err)? > 0 {
            let text = String::from_utf8_lossy(&buf);
            self.line(text.trim_end_matches(['\n', '\r']));
            buf.clear();
        }
        let status = child.wait().map_err(spawn_err)?;
        if status.success() {
            return Ok(());
        }
        Err(self.failure(
            &format!("{step} (`{} ... {}`)", argv[0], argv[argv.len() - 1]),
            status.to_string(),
        ))
    }

    /// A [`KernelError::StepFailed`] for `what`, carrying the log's path and last lines.
    pub(crate) fn failure(&mut self, what: &str, status: String) -> KernelError {
        let _ = self.file.flush();
        let tail = self
            .tail
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n");
        KernelError::StepFailed {
            step: what.to_string(),
            status,
            log: self.path.clone(),
            tail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(parts: &[&str]) -> Argv {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn output_reaches_log_and_observer_and_failure_carries_the_last_40_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("b.log");
        let mut seen = Vec::new();
        let mut observer = |e: BuildEvent<'_>| {
            if let BuildEvent::Output(l) = e {
                seen.push(l.to_string());
            }
        };
        let mut steps = StepLog::create(&log, &mut observer).unwrap();
        steps
            .run(
                BuildStep::Kernel,
                &argv(&["sh", "-c", "echo out; echo err >&2"]),
            )
            .unwrap();
        let err = steps
            .run(BuildStep::Kernel, &argv(&["sh", "-c", "seq 1 100; exit 3"]))
            .unwrap_err();
        match &err {
            KernelError::StepFailed {
                tail,
                log: path,
                status,
                ..
            } => {
                let lines: Vec<&str> = tail.lines().collect();
                assert_eq!(lines.len(), TAIL_LINES);
                assert_eq!((lines[0], lines[39]), ("61", "100"));
                assert_eq!(path, &log);
                assert!(status.contains('3'), "{status}");
            }
            other => panic!("{other:?}"),
        }
        drop(steps);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.contains("out\n") && text.contains("err\n") && text.contains("\n100\n"),
            "{text}"
        );
        assert!(seen.contains(&"err".to_string()) && seen.contains(&"100".to_string()));
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut observer = |_: BuildEvent<'_>| {};
        let mut steps = StepLog::create(&dir.path().join("l"), &mut observer).unwrap();
        let err = steps
            .run(BuildStep::Extract, &argv(&["ktstr-no-such-program"]))
            .unwrap_err();
        assert!(matches!(err, KernelError::Spawn { .. }), "{err:?}");
    }
}
