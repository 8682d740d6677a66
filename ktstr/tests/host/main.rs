//! Host integration tests: one module per area.

mod kernel;
