//! Guest kernels: ktstr's kconfig fragment, building a sched_ext kernel and the in-tree schedulers
//! from a source tree or tarball, the on-disk cache of built kernels, and which kernel a VM test boots.

mod build;
mod build_step;
mod cache;
mod entry;
mod error;
mod flavor;
mod fragment;
mod image;
mod lock;
mod logged_command;
mod resolve;
mod source;
mod tools;
mod version;

pub use build::{build_kernel, BuildOutcome, BuildRequest};
pub use build_step::{BuildStep, SCHEDULERS};
pub use cache::{Cache, CleanReport, Listing};
pub use entry::{cache_key, CacheEntry, Metadata};
pub use error::{ErrorKind, KernelError};
pub use flavor::{KernelFlavor, FLAVOR_ENV};
pub use fragment::{Fragment, KconfigOption, Wanted, BASE_CONFIG_TARGET};
pub use image::check_bzimage;
pub use lock::KeyLock;
pub(crate) use lock::LockMode;
pub use logged_command::{BuildEvent, TAIL_LINES};
pub use resolve::{
    resolve_kernel, resolve_kernel_flavor, resolve_kernel_in, KernelOrigin, ResolvedKernel,
    KERNEL_ENV,
};
pub use source::{KernelSource, SourceId, DEBIAN_SOURCE_PACKAGE, DEBIAN_TARBALL};
pub use tools::check_prerequisites;
pub use version::KernelVersion;
