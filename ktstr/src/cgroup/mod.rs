//! Cgroup v2 management: the `CgroupOps` trait, the real filesystem manager, an in-memory double, RAII groups.

mod cgroupfs;
mod controllers;
mod error;
mod group;
mod manager;
mod memory;
mod mount;
mod name;
mod ops;

pub use controllers::Controllers;
pub use error::CgroupError;
pub use group::CgroupGroup;
pub use manager::CgroupManager;
pub use memory::{CgroupEvent, CgroupOp, Fault, MemCgroups};
pub use mount::{cgroup2_mounts, find_cgroup2_mount};
pub use name::validate_cgroup_name;
pub use ops::CgroupOps;
