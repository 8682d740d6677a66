//! Running a trial in a QEMU VM: accelerator choice, the validated `VmSpec` and its QEMU command line, the
//! kernel command line, the initramfs (cpio + ELF closure, content-cached), the guest→host message channel (generic over the message type),
//! and the QEMU process guard.

mod accel;
mod archive;
mod capacity;
mod channel;
mod cleanup;
mod cmdline;
mod cpu_gate;
mod elf;
mod error;
mod guest_port;
mod initramfs;
mod initramfs_cache;
mod lean;
mod libsearch;
mod process;
mod qemu;
mod spec;
mod trial_dir;

pub use accel::{decide, Accel, ACCEL_ENV};
pub use capacity::{check_capacity, check_capacity_on, vcpu_limit};
pub use channel::{ChannelEvent, ChannelReader};
pub use cleanup::{cleanup, CleanupReport};
pub use cmdline::{KernelCmdline, Param, MAX_CMDLINE_LEN, SHELL_KEY, TRIAL_KEY};
pub use cpu_gate::{CpuGate, CpuTokens};
pub use error::VmError;
pub use guest_port::GuestChannel;
pub use initramfs::{write_trial_initramfs, InitramfsSpec, TrialFile, HOST_BUSYBOX};
pub(crate) use initramfs_cache::hex;
pub use initramfs_cache::{
    cache_cap, ktstr_cache_dir, BaseInitramfs, InitramfsCache, TrimReport, CACHE_CAP_ENV,
    DEFAULT_CACHE_CAP_MB,
};
pub use lean::{lean_copy, lean_init_enabled, LEAN_ENV};
pub use process::{QemuExit, QemuProcess};
pub use qemu::{qemu_argv, CHANNEL_PORT_NAME, QEMU_BINARY};
pub use spec::{VmRequest, VmSpec, MIN_MEMORY_MB};
pub use trial_dir::TrialDir;
