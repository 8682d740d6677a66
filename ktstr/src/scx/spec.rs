//! `SchedulerSpec`: the scheduler as the guest receives it in the trial spec, all it needs to launch it.

use serde::{Deserialize, Serialize};

/// A scheduler as the guest receives it in the trial spec; `guest_binary` is `None` for EEVDF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulerSpec {
    pub name: String,
    pub guest_binary: Option<String>,
    pub args: Vec<String>,
    /// Appended for one more start when the scheduler fails to load, to capture libbpf's log.
    #[serde(default)]
    pub diagnostic_args: Vec<String>,
}

impl SchedulerSpec {
    /// Whether this is the kernel's own scheduler, with nothing to launch.
    pub fn is_eevdf(&self) -> bool {
        self.guest_binary.is_none()
    }
}
