//! Kernel flavors: the default guest kernel, and a lock-debugging one built on request. Each flavor is
//! ktstr's fragment plus the flavor's own options, so each has its own config hash and cache entries.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::KernelError;
use super::fragment::Fragment;

/// Picks the flavor of the kernel a VM test boots when the test names none.
pub const FLAVOR_ENV: &str = "KTSTR_KERNEL_FLAVOR";

const DEBUG_FRAGMENT: &str = include_str!("../../kernel/debug.kconfig");

/// Which kernel configuration to build or boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelFlavor {
    /// `ktstr/kernel/ktstr.kconfig`: what sched_ext and production schedulers need.
    #[default]
    Default,
    /// The default plus `ktstr/kernel/debug.kconfig`: lockdep and sleep-in-atomic checks.
    Debug,
}

impl KernelFlavor {
    pub const ALL: [KernelFlavor; 2] = [KernelFlavor::Default, KernelFlavor::Debug];

    pub fn name(self) -> &'static str {
        match self {
            KernelFlavor::Default => "default",
            KernelFlavor::Debug => "debug",
        }
    }

    /// The whole fragment this flavor applies over the base config.
    pub fn fragment(self) -> Fragment {
        match self {
            KernelFlavor::Default => Fragment::ktstr(),
            KernelFlavor::Debug => {
                let text = format!("{}\n{DEBUG_FRAGMENT}", Fragment::ktstr().text());
                Fragment::parse(&text).expect("the shipped fragments parse; a unit test checks it")
            }
        }
    }

    /// The flavor `KTSTR_KERNEL_FLAVOR` names, or the default when it is unset or empty.
    pub fn from_env() -> Result<KernelFlavor, KernelError> {
        match std::env::var(FLAVOR_ENV) {
            Ok(text) if !text.is_empty() => text.parse(),
            _ => Ok(KernelFlavor::Default),
        }
    }
}

impl fmt::Display for KernelFlavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KernelFlavor {
    type Err = KernelError;

    fn from_str(text: &str) -> Result<KernelFlavor, KernelError> {
        KernelFlavor::ALL
            .into_iter()
            .find(|f| f.name() == text)
            .ok_or_else(|| KernelError::UnknownFlavor {
                value: text.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Wanted;

    #[test]
    fn debug_is_the_default_plus_lock_debugging() {
        let default = KernelFlavor::Default.fragment();
        let debug = KernelFlavor::Debug.fragment();
        assert_ne!(default.hash(), debug.hash());
        for opt in default.options() {
            assert!(debug.options().contains(opt), "{opt:?}");
        }
        for name in ["CONFIG_PROVE_LOCKING", "CONFIG_DEBUG_ATOMIC_SLEEP"] {
            let wanted = debug.options().iter().find(|o| o.name == name);
            assert_eq!(wanted.map(|o| &o.wanted), Some(&Wanted::Value("y".into())));
            assert!(default.options().iter().all(|o| o.name != name), "{name}");
        }
    }

    #[test]
    fn names_parse_back_and_unknown_ones_are_errors() {
        for flavor in KernelFlavor::ALL {
            assert_eq!(flavor.name().parse::<KernelFlavor>().unwrap(), flavor);
        }
        let err = "lockdep".parse::<KernelFlavor>().unwrap_err();
        assert!(err.to_string().contains("default, debug"), "{err}");
    }
}
