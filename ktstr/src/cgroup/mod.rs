//! Cgroup v2 management: the `CgroupOps` trait, the real filesystem manager, an in-memory double, RAII groups.

mod ops;

pub use ops::{CgroupError, CgroupOps};
