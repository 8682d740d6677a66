//! `ScxExit`: why sched_ext detached a scheduler, from the kernel log and the scheduler's own `EXIT:` line.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ScxLogEvent;

/// Why sched_ext detached a scheduler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScxExit {
    /// The ops name, as `/sys/kernel/sched_ext/root/ops` showed it.
    pub scheduler: String,
    /// The kernel's exit reason, such as `runnable task stall`.
    pub reason: String,
    /// The exit message, such as `busybox[89] failed to run for 7.106s`.
    pub detail: Option<String>,
}

/// The kernel's exit reasons (`scx_exit_reason()` in kernel/sched/ext.c).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScxExitKind {
    /// User space unloaded it: a clean stop.
    Unregistered,
    UnregisteredBpf,
    UnregisteredKernel,
    SysRq,
    RuntimeError,
    BpfError,
    /// The watchdog found a runnable task that did not run in time.
    Stall,
    /// A reason this kernel version does not print.
    Other,
}

const REASONS: [(&str, ScxExitKind); 7] = [
    ("unregistered from user space", ScxExitKind::Unregistered),
    ("unregistered from BPF", ScxExitKind::UnregisteredBpf),
    (
        "unregistered from the main kernel",
        ScxExitKind::UnregisteredKernel,
    ),
    ("disabled by sysrq-S", ScxExitKind::SysRq),
    ("runtime error", ScxExitKind::RuntimeError),
    ("scx_bpf_error", ScxExitKind::BpfError),
    ("runnable task stall", ScxExitKind::Stall),
];

/// A task the watchdog found stalled: `comm[pid] failed to run for S.MMMs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskStall {
    pub comm: String,
    pub pid: u32,
    pub stalled_for: Duration,
}

impl ScxExit {
    pub fn kind(&self) -> ScxExitKind {
        REASONS
            .iter()
            .find(|(reason, _)| *reason == self.reason)
            .map_or(ScxExitKind::Other, |(_, kind)| *kind)
    }

    /// Whether the scheduler was ejected rather than unloaded; an unknown reason counts as an error.
    pub fn is_error(&self) -> bool {
        matches!(
            self.kind(),
            ScxExitKind::RuntimeError
                | ScxExitKind::BpfError
                | ScxExitKind::Stall
                | ScxExitKind::Other
        )
    }

    /// The stalled task named by a stall's detail.
    pub fn stall(&self) -> Option<TaskStall> {
        TaskStall::parse(self.detail.as_deref()?)
    }

    /// The last exit of `ops_name` after its last enable, from kernel log messages and the scheduler's output.
    ///
    /// The kernel's reason and message win; the scheduler's `EXIT:` line fills in what the log lacks.
    pub fn from_logs<S: AsRef<str>>(ops_name: &str, kmsg: &[S], output: &str) -> Option<ScxExit> {
        let mut kernel: Option<(String, Option<String>)> = None;
        for event in kmsg
            .iter()
            .filter_map(|line| ScxLogEvent::parse(line.as_ref()))
        {
            match event {
                ScxLogEvent::Enabled { scheduler, .. } if scheduler == ops_name => kernel = None,
                ScxLogEvent::Disabled { scheduler, reason } if scheduler == ops_name => {
                    kernel = Some((reason, None));
                }
                ScxLogEvent::ExitMessage { scheduler, message } if scheduler == ops_name => {
                    if let Some((_, detail @ None)) = &mut kernel {
                        *detail = Some(message);
                    }
                }
                _ => {}
            }
        }
        let user = output
            .lines()
            .rev()
            .filter_map(ScxLogEvent::parse)
            .find_map(|event| match event {
                ScxLogEvent::UserExit { reason, message } => Some((reason, message)),
                _ => None,
            });
        let (reason, detail) = match (kernel, user) {
            (Some((reason, detail)), user) => (reason, detail.or(user.and_then(|(_, m)| m))),
            (None, Some(user)) => user,
            (None, None) => return None,
        };
        Some(ScxExit {
            scheduler: ops_name.to_string(),
            reason,
            detail,
        })
    }
}

impl TaskStall {
    /// Parses `comm[pid] failed to run for S.MMMs`; `comm` may itself hold brackets or spaces.
    pub fn parse(text: &str) -> Option<TaskStall> {
        let (task, seconds) = text.rsplit_once(" failed to run for ")?;
        let (comm, pid) = task.strip_suffix(']')?.rsplit_once('[')?;
        let (whole, millis) = seconds.strip_suffix('s')?.split_once('.')?;
        if millis.len() != 3 {
            return None;
        }
        let ms = digits(whole)?
            .checked_mul(1000)?
            .checked_add(digits(millis)?)?;
        Some(TaskStall {
            comm: comm.to_string(),
            pid: u32::try_from(digits(pid)?).ok()?,
            stalled_for: Duration::from_millis(ms),
        })
    }
}

/// A non-empty run of ASCII digits as a number.
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
#[path = "exit_tests.rs"]
mod tests;
