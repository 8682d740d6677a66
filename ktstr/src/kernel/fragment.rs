//! The kconfig fragment ktstr applies over a small base config, its hash, and the check that a
//! finished `.config` really has every option the fragment asks for.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::error::KernelError;

/// The make target that produces the base config the fragment is applied over.
pub const BASE_CONFIG_TARGET: &str = "tinyconfig";

/// Bumped when the build recipe changes in a way that makes old cache entries unfit.
const RECIPE_VERSION: &str = "ktstr-kernel-recipe-1";

const KTSTR_FRAGMENT: &str = include_str!("../../kernel/ktstr.kconfig");

/// The value a fragment line demands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// `CONFIG_NAME=value`.
    Value(String),
    /// `# CONFIG_NAME is not set`.
    Unset,
}

/// One required option, `name` including its `CONFIG_` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KconfigOption {
    pub name: String,
    pub wanted: Wanted,
}

/// A parsed kconfig fragment: the text appended to `.config` and the options it requires.
#[derive(Debug, Clone)]
pub struct Fragment {
    text: String,
    options: Vec<KconfigOption>,
}

impl Fragment {
    /// The fragment shipped with ktstr (`ktstr/kernel/ktstr.kconfig`).
    pub fn ktstr() -> Fragment {
        Fragment::parse(KTSTR_FRAGMENT).expect("the shipped fragment parses; a unit test checks it")
    }

    /// Parses fragment text; every non-comment line must be `CONFIG_X=v` or `# CONFIG_X is not set`.
    pub fn parse(text: &str) -> Result<Fragment, KernelError> {
        let mut options = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            match parse_line(line) {
                Some(Line::Option(option)) => options.push(option),
                Some(Line::Blank) => {}
                None => {
                    return Err(KernelError::BadFragment {
                        line_no: i + 1,
                        line: raw.to_string(),
                    })
                }
            }
        }
        Ok(Fragment {
            text: text.to_string(),
            options,
        })
    }

    /// The fragment text, to append to a base `.config`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The options the fragment requires, in file order.
    pub fn options(&self) -> &[KconfigOption] {
        &self.options
    }

    /// A short stable hash of the base target, the recipe version and the options (comments and
    /// blank lines do not count, so editing them keeps cached kernels fit).
    pub fn hash(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [BASE_CONFIG_TARGET, RECIPE_VERSION] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        for opt in &self.options {
            match &opt.wanted {
                Wanted::Value(v) => hasher.update(format!("{}={v}\n", opt.name)),
                Wanted::Unset => hasher.update(format!("# {} is not set\n", opt.name)),
            }
        }
        hasher.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The required options a finished `.config` does not satisfy, as `CONFIG_X (wanted y, got n)`.
    pub fn unmet_in(&self, dot_config: &str) -> Vec<String> {
        let actual = parse_dot_config(dot_config);
        self.options
            .iter()
            .filter_map(|opt| {
                let got = actual.get(opt.name.as_str()).copied();
                let wanted = match &opt.wanted {
                    Wanted::Value(v) if got == Some(v.as_str()) => return None,
                    Wanted::Unset if got.is_none() => return None,
                    Wanted::Value(v) => v.as_str(),
                    Wanted::Unset => "unset",
                };
                Some(format!(
                    "{} (wanted {wanted}, got {})",
                    opt.name,
                    got.unwrap_or("unset")
                ))
            })
            .collect()
    }
}

enum Line {
    Option(KconfigOption),
    Blank,
}

fn parse_line(line: &str) -> Option<Line> {
    if let Some(rest) = line.strip_prefix("# CONFIG_") {
        let name = rest.strip_suffix(" is not set")?;
        return valid_name(name).then(|| {
            Line::Option(KconfigOption {
                name: format!("CONFIG_{name}"),
                wanted: Wanted::Unset,
            })
        });
    }
    if line.is_empty() || line.starts_with('#') {
        return Some(Line::Blank);
    }
    let (name, value) = line.strip_prefix("CONFIG_")?.split_once('=')?;
    (valid_name(name) && !value.is_empty()).then(|| {
        Line::Option(KconfigOption {
            name: format!("CONFIG_{name}"),
            wanted: Wanted::Value(value.to_string()),
        })
    })
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Maps each set option of a `.config` to its value; unset and absent options are left out.
fn parse_dot_config(text: &str) -> HashMap<&str, &str> {
    text.lines()
        .filter(|l| l.starts_with("CONFIG_"))
        .filter_map(|l| l.split_once('='))
        .filter(|(_, v)| *v != "n")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shipped_fragment_sets_every_option_the_design_lists() {
        let design = "BPF BPF_SYSCALL BPF_JIT BPF_JIT_ALWAYS_ON SCHED_CLASS_EXT DEBUG_INFO DEBUG_INFO_BTF SMP SCHED_MC \
            SCHED_SMT NUMA ACPI_NUMA X86_64_ACPI_NUMA CGROUPS CPUSETS CGROUP_SCHED FAIR_GROUP_SCHED EXT_GROUP_SCHED \
            CGROUP_FREEZER SCHEDSTATS SCHED_DEBUG PSI BLK_DEV_INITRD DEVTMPFS DEVTMPFS_MOUNT TMPFS SERIAL_8250_CONSOLE \
            PCI VIRTIO_PCI VIRTIO_CONSOLE PVH KVM_GUEST PARAVIRT IKCONFIG_PROC DEBUG_FS FTRACE FUNCTION_TRACER KPROBES \
            KPROBE_EVENTS BPF_EVENTS PERF_EVENTS MAGIC_SYSRQ PANIC_ON_OOPS NET UNIX FUTEX EPOLL SIGNALFD TIMERFD EVENTFD \
            SHMEM AIO POSIX_TIMERS MULTIUSER FILE_LOCKING MEMBARRIER RSEQ BINFMT_ELF BINFMT_SCRIPT PROC_FS SYSFS TTY \
            PRINTK HIGH_RES_TIMERS HYPERVISOR_GUEST";
        let f = Fragment::ktstr();
        let wanted = |name: &str| {
            f.options()
                .iter()
                .find(|o| o.name == name)
                .map(|o| o.wanted.clone())
        };
        for name in design.split_whitespace() {
            assert_eq!(
                wanted(&format!("CONFIG_{name}")),
                Some(Wanted::Value("y".into())),
                "CONFIG_{name}"
            );
        }
        let nr_cpus = wanted("CONFIG_NR_CPUS");
        assert!(matches!(nr_cpus, Some(Wanted::Value(n)) if n.parse::<u32>().unwrap() >= 256));
        assert_eq!(wanted("CONFIG_MODULES"), Some(Wanted::Unset));
    }

    #[test]
    fn bad_lines_are_rejected_with_their_number() {
        for (text, line_no) in [
            ("CONFIG_A=y\nCONFIG_B\n", 2),
            ("FOO=y", 1),
            ("CONFIG_a=y", 1),
            ("CONFIG_A=", 1),
            ("# CONFIG_A is set", 1),
        ] {
            match Fragment::parse(text) {
                Err(KernelError::BadFragment { line_no: got, .. }) => {
                    assert_eq!(got, line_no, "{text:?}")
                }
                other => panic!("{text:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn unmet_options_are_named() {
        let f = Fragment::parse("CONFIG_A=y\nCONFIG_N=256\n# CONFIG_M is not set\nCONFIG_B=y\n")
            .unwrap();
        let config = "CONFIG_A=y\nCONFIG_N=64\nCONFIG_M=y\n# CONFIG_B is not set\n";
        assert_eq!(
            f.unmet_in(config),
            [
                "CONFIG_N (wanted 256, got 64)",
                "CONFIG_M (wanted unset, got y)",
                "CONFIG_B (wanted y, got unset)"
            ]
        );
        assert!(f
            .unmet_in("CONFIG_A=y\nCONFIG_N=256\nCONFIG_B=y\n")
            .is_empty());
    }

    #[test]
    fn hash_tracks_options_not_comments() {
        let a = Fragment::parse("CONFIG_A=y\n").unwrap();
        let b = Fragment::parse("CONFIG_A=n\n").unwrap();
        assert_eq!(
            a.hash(),
            Fragment::parse("# a comment\n\nCONFIG_A=y\n")
                .unwrap()
                .hash()
        );
        assert_ne!(
            a.hash(),
            Fragment::parse("# CONFIG_A is not set\n").unwrap().hash()
        );
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hash().len(), 12);
    }

    proptest! {
        #[test]
        fn rendered_options_parse_back(opts in proptest::collection::vec(("[A-Z][A-Z0-9_]{0,12}", proptest::option::of("[a-z0-9\"]{1,5}")), 0..20)) {
            let text: String = opts.iter().map(|(name, value)| match value {
                Some(v) => format!("CONFIG_{name}={v}\n"),
                None => format!("# CONFIG_{name} is not set\n"),
            }).collect();
            let parsed = Fragment::parse(&text).unwrap();
            prop_assert_eq!(parsed.options().len(), opts.len());
            for (opt, (name, value)) in parsed.options().iter().zip(&opts) {
                prop_assert_eq!(&opt.name, &format!("CONFIG_{name}"));
                prop_assert_eq!(&opt.wanted, &value.clone().map_or(Wanted::Unset, Wanted::Value));
            }
        }

        #[test]
        fn parse_never_panics(text in ".{0,200}") {
            let _ = Fragment::parse(&text);
        }
    }
}
