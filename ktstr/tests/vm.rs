//! ktstr's own VM tests, written exactly as a scheduler author would: each `#[ktstr_test]` boots a
//! sched_ext kernel under QEMU with the topology it names, under a scheduler declared in
//! `ktstr::schedulers`. Run with `cargo test --test vm` (needs `ktstr kernel build`, and `ktstr scheduler
//! install` of the schedulers in real_schedulers.txt); `-- --list` shows every trial as
//! `fn/scheduler/topology/profile`.

//!
//! The trials live in `guest/suite.rs`, which the fidelity bench shares.

#[path = "guest/suite.rs"]
mod suite;

ktstr::main!();
