//! The QEMU accelerator: KVM where the host can run guests on it, TCG otherwise; `KTSTR_ACCEL` forces one.
//!
//! `/dev/kvm` alone is not enough: a paravirtual nested KVM opens fine but fails an unmodified kernel with
//! "emulation failure", and such hosts do not show `vmx`/`svm` in `/proc/cpuinfo`. Both must hold for KVM.

use std::fmt;
use std::fs::OpenOptions;

use serde::{Deserialize, Serialize};

use super::VmError;

/// The environment variable that forces an accelerator: `kvm` or `tcg`.
pub const ACCEL_ENV: &str = "KTSTR_ACCEL";

/// How QEMU runs guest code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Accel {
    /// Hardware virtualization through `/dev/kvm`.
    Kvm,
    /// QEMU's software emulator, one host thread per vCPU.
    Tcg,
}

impl fmt::Display for Accel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        })
    }
}

impl Accel {
    /// Chooses from this host: `KTSTR_ACCEL`, whether `/dev/kvm` opens read-write, and `/proc/cpuinfo` flags.
    pub fn detect() -> Result<Accel, VmError> {
        let override_env = match std::env::var(ACCEL_ENV) {
            Ok(value) => Some(value),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(value)) => {
                return Err(VmError::BadAccelOverride {
                    value: value.to_string_lossy().into_owned(),
                })
            }
        };
        let kvm_opens = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .is_ok();
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo")
            .map_err(|e| VmError::io("read", "/proc/cpuinfo", e))?;
        decide(
            override_env.as_deref(),
            kvm_opens,
            cpuinfo_has_virt_flag(&cpuinfo),
        )
    }
}

/// The accelerator for an optional override and the host's facts; an override is checked, not trusted.
pub fn decide(
    override_env: Option<&str>,
    kvm_opens: bool,
    cpuinfo_flags_has_vmx_or_svm: bool,
) -> Result<Accel, VmError> {
    match override_env {
        Some("kvm") if kvm_opens => Ok(Accel::Kvm),
        Some("kvm") => Err(VmError::KvmUnavailable),
        Some("tcg") => Ok(Accel::Tcg),
        Some(other) => Err(VmError::BadAccelOverride {
            value: other.to_string(),
        }),
        None if kvm_opens && cpuinfo_flags_has_vmx_or_svm => Ok(Accel::Kvm),
        None => Ok(Accel::Tcg),
    }
}

/// Whether any `flags` line of `/proc/cpuinfo` text lists `vmx` (Intel) or `svm` (AMD).
pub(crate) fn cpuinfo_has_virt_flag(cpuinfo: &str) -> bool {
    cpuinfo
        .lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(key, _)| key.trim() == "flags")
        .any(|(_, flags)| flags.split_whitespace().any(|f| f == "vmx" || f == "svm"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_table() {
        let cases = [
            (None, true, true, Some(Accel::Kvm)),
            (None, true, false, Some(Accel::Tcg)),
            (None, false, true, Some(Accel::Tcg)),
            (None, false, false, Some(Accel::Tcg)),
            (Some("kvm"), true, false, Some(Accel::Kvm)),
            (Some("kvm"), true, true, Some(Accel::Kvm)),
            (Some("tcg"), true, true, Some(Accel::Tcg)),
            (Some("tcg"), false, false, Some(Accel::Tcg)),
            (Some("kvm"), false, true, None),
        ];
        for (env, opens, flags, want) in cases {
            let got = decide(env, opens, flags).ok();
            assert_eq!(got, want, "env {env:?}, kvm opens {opens}, vmx/svm {flags}");
        }
    }

    #[test]
    fn forced_kvm_without_dev_kvm_says_why() {
        let err = decide(Some("kvm"), false, true).expect_err("no /dev/kvm");
        assert!(matches!(err, VmError::KvmUnavailable), "{err:?}");
        assert!(err.to_string().contains("KTSTR_ACCEL=tcg"), "{err}");
    }

    #[test]
    fn unknown_override_names_the_accepted_values() {
        for value in ["", "KVM", "hvf", "tcg ", "auto"] {
            let err = decide(Some(value), true, true).expect_err(value);
            let VmError::BadAccelOverride { value: got } = &err else {
                panic!("{value:?}: {err:?}");
            };
            assert_eq!(got, value);
            assert!(err.to_string().contains("kvm or tcg"), "{err}");
        }
    }

    #[test]
    fn display_matches_the_override_spelling() {
        for accel in [Accel::Kvm, Accel::Tcg] {
            assert_eq!(
                decide(Some(&accel.to_string()), true, true).ok(),
                Some(accel)
            );
        }
    }

    #[test]
    fn cpuinfo_flags() {
        let cases = [
            ("flags\t\t: fpu vme vmx sse\n", true),
            ("flags\t\t: fpu svm\n", true),
            ("flags\t\t: fpu vme sse hypervisor\n", false),
            ("model name\t: vmx svm\nflags\t\t: fpu\n", false),
            ("flags\t\t: fpu vmxon\n", false),
            (
                "processor\t: 0\nflags\t\t: fpu\n\nprocessor\t: 1\nflags\t\t: vmx\n",
                true,
            ),
            ("", false),
        ];
        for (text, want) in cases {
            assert_eq!(cpuinfo_has_virt_flag(text), want, "{text:?}");
        }
    }
}
