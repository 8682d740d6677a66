//! System reads that several layers share: the kernel log, `/proc/<pid>/stat`, and where ktstr keeps its
//! cache. A leaf: it imports no other module of the crate.

mod cache_root;
mod kmsg;
mod proc_stat;

pub use cache_root::{cache_root, cache_root_from};
pub use kmsg::{oom_killed, read_kmsg, KmsgError, KmsgRecord, KMSG_PATH};
pub use proc_stat::{process_alive, ProcStat};
