//! The guest role: the test binary as PID 1 inside the VM.

mod system;
mod trial;

pub use trial::run_guest;
