//! Stands for a scheduler project's own code; its tests live in tests/sched.rs.
