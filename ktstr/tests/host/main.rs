//! Host integration tests.

mod cgroup;
mod topology;
