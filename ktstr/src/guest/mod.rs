//! The guest role: the test binary as PID 1 inside the VM. It speaks only `protocol`; the test functions
//! come from whoever calls [`run_guest`], so this module depends on no host-side type.

mod kmsg_stream;
mod link;
mod shell;
mod system;
mod test_process;
mod trial;

pub use shell::ShellSpec;
pub(crate) use system::children_of;
pub use trial::run_guest;
