//! Host integration tests.

mod cgroup;
mod topology;
mod vm;
