//! Kernel build, cache and resolution: the pipeline against fake sources (fast), the bad-input
//! errors, and a boot of the real cached kernel under QEMU with scx_simple attached.

mod boot;
mod build;
mod fake;
mod resolve;
