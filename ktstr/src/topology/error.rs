//! Errors from topology parsing, validation and discovery.

/// A topology or cpu-list problem, named with its fix.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    #[error("bad cpu list {text:?}: {part:?} is not a CPU number or a low-high range; write it like 0-3,5,7-9")]
    BadCpuList { text: String, part: String },
}
