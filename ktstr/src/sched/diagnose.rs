//! Why a scheduler could not load, read from what it printed: libbpf's log (a kernel symbol, kfunc,
//! BTF type or attach point the kernel lacks) and the verifier's log (the rejected program, its
//! instruction, source line and reason). Where a missing piece is a known kernel option, the
//! diagnosis names the option to add.

use serde::{Deserialize, Serialize};

use super::verifier_log::verifier_rejection;

/// What kept the scheduler from loading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LoadCause {
    /// A kernel variable the BPF code references (a `__ksym`) is not in the kernel.
    MissingKernelSymbol { symbol: String },
    /// A kfunc the BPF code calls is not in the kernel.
    MissingKfunc { name: String },
    /// A struct_ops member (a `sched_ext_ops` callback) this kernel does not have.
    MissingOpsMember { ops: String, member: String },
    /// A BTF type or function the program needs is not in the kernel's BTF.
    MissingBtf { name: String },
    /// A tracepoint, kprobe or similar attach point is missing.
    MissingAttachPoint { target: String },
    /// The verifier rejected a program.
    VerifierRejected {
        program: String,
        reason: String,
        instruction: Option<String>,
        source: Option<String>,
    },
    /// The scheduler refused its command line.
    BadArguments,
}

/// A diagnosis: the cause, the lines that show it, and the fix when one is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadDiagnosis {
    pub cause: LoadCause,
    /// The scheduler's own lines that show the cause, in order.
    pub evidence: Vec<String>,
    /// The kernel option to enable, when the missing piece is a known one.
    pub kernel_option: Option<String>,
}

impl LoadDiagnosis {
    /// One line for a verdict: what is missing or rejected, and what to do.
    pub fn summary(&self) -> String {
        let what = match &self.cause {
            LoadCause::MissingKernelSymbol { symbol } => {
                format!("the kernel has no symbol {symbol:?} that its BPF code references")
            }
            LoadCause::MissingKfunc { name } => format!("the kernel has no kfunc {name:?}"),
            LoadCause::MissingOpsMember { ops, member } => {
                format!("this kernel's struct {ops} has no member {member:?}")
            }
            LoadCause::MissingBtf { name } => format!("the kernel's BTF has no {name:?}"),
            LoadCause::MissingAttachPoint { target } => {
                format!("the kernel has no attach point {target:?}")
            }
            LoadCause::VerifierRejected {
                program,
                reason,
                source,
                ..
            } => {
                let at = source
                    .as_deref()
                    .map_or(String::new(), |s| format!(" at {s}"));
                format!("the verifier rejected program {program:?}{at}: {reason}")
            }
            LoadCause::BadArguments => format!(
                "it rejected its arguments: {}",
                self.evidence.first().map_or("", String::as_str)
            ),
        };
        match (&self.kernel_option, &self.cause) {
            (Some(option), _) => format!("{what}; build the kernel with {option}=y"),
            (None, LoadCause::MissingKfunc { .. } | LoadCause::MissingOpsMember { .. }) => {
                format!("{what}; this scheduler release targets a newer kernel: use an older release or a newer kernel")
            }
            _ => what,
        }
    }
}

/// Kernel symbols and attach points production schedulers use, with the option that provides each.
const KNOWN_OPTIONS: [(&str, &str); 6] = [
    ("cpufreq_cpu_data", "CONFIG_CPU_FREQ"),
    ("syscalls/", "CONFIG_FTRACE_SYSCALLS"),
    ("syscalls:", "CONFIG_FTRACE_SYSCALLS"),
    ("kheaders", "CONFIG_IKHEADERS"),
    ("uprobe", "CONFIG_UPROBE_EVENTS"),
    ("kprobe", "CONFIG_KPROBE_EVENTS"),
];

pub(super) fn option_for(name: &str) -> Option<&'static str> {
    KNOWN_OPTIONS
        .iter()
        .find(|(key, _)| name.contains(key))
        .map(|(_, option)| *option)
}

/// Reads a failed scheduler's output; `None` when nothing in it explains the failure.
pub fn diagnose_load_failure(output: &str) -> Option<LoadDiagnosis> {
    let output = strip_ansi(output);
    let lines: Vec<&str> = output.lines().collect();
    verifier_rejection(&lines)
        .or_else(|| libbpf_missing(&lines))
        .or_else(|| bad_arguments(&lines))
}

/// `text` without terminal escape sequences (the colours of a `tracing` logger writing to a file).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        if chars.next_if_eq(&'[').is_some() {
            while chars.next().is_some_and(|c| !c.is_ascii_alphabetic()) {}
        }
    }
    out
}

/// The text after `prefix`'s first quoted name: `prog 'NAME'` → `NAME`.
pub(super) fn quoted_after<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &line[line.find(prefix)? + prefix.len()..];
    let rest = rest.strip_prefix('\'')?;
    Some(&rest[..rest.find('\'')?])
}

/// libbpf's own complaints about something the kernel lacks, most specific first.
fn libbpf_missing(lines: &[&str]) -> Option<LoadDiagnosis> {
    const MATCHERS: [fn(&str) -> Option<LoadCause>; 5] = [
        missing_kfunc,
        missing_kernel_symbol,
        missing_ops_member,
        missing_btf,
        missing_attach_point,
    ];
    MATCHERS.iter().find_map(|matcher| {
        let (line, cause) = lines
            .iter()
            .filter(|l| l.contains("libbpf"))
            .find_map(|l| matcher(l).map(|cause| (l.trim().to_string(), cause)))?;
        Some(LoadDiagnosis {
            kernel_option: missing_name(&cause)
                .and_then(option_for)
                .map(str::to_string),
            cause,
            evidence: vec![line],
        })
    })
}

fn missing_kfunc(line: &str) -> Option<LoadCause> {
    let name = quoted_after(line, "extern (func ksym) ")?;
    line.contains("not found")
        .then(|| LoadCause::MissingKfunc { name: name.into() })
}

fn missing_kernel_symbol(line: &str) -> Option<LoadCause> {
    let symbol = quoted_after(line, "extern (var ksym) ")?;
    line.contains("not found")
        .then(|| LoadCause::MissingKernelSymbol {
            symbol: symbol.into(),
        })
}

fn missing_ops_member(line: &str) -> Option<LoadCause> {
    const PREFIX: &str = "struct_ops init_kern ";
    let rest = &line[line.find(PREFIX)? + PREFIX.len()..];
    let ops = rest.split(':').next()?.trim();
    let member = rest
        .split("Cannot find member ")
        .nth(1)?
        .split_whitespace()
        .next()?;
    Some(LoadCause::MissingOpsMember {
        ops: ops.into(),
        member: member.into(),
    })
}

fn missing_btf(line: &str) -> Option<LoadCause> {
    let name = quoted_after(line, "failed to find kernel BTF type ID of ")
        .or_else(|| quoted_after(line, "failed to find BTF for extern "))?;
    Some(LoadCause::MissingBtf { name: name.into() })
}

fn missing_attach_point(line: &str) -> Option<LoadCause> {
    let kinds = ["tracepoint ", "kprobe ", "uprobe ", "raw_tracepoint "];
    let target = kinds.iter().find_map(|k| quoted_after(line, k))?;
    let failed =
        line.contains("failed") && (line.contains("No such file") || line.contains("perf event"));
    failed.then(|| LoadCause::MissingAttachPoint {
        target: target.into(),
    })
}

/// The kernel symbol, kfunc, BTF name or attach point a cause says is missing.
fn missing_name(cause: &LoadCause) -> Option<&str> {
    match cause {
        LoadCause::MissingKernelSymbol { symbol } => Some(symbol),
        LoadCause::MissingKfunc { name } | LoadCause::MissingBtf { name } => Some(name),
        LoadCause::MissingAttachPoint { target } => Some(target),
        LoadCause::MissingOpsMember { .. }
        | LoadCause::VerifierRejected { .. }
        | LoadCause::BadArguments => None,
    }
}

/// A command-line parser's complaint (clap's `error: ...`, getopt's `invalid option`).
fn bad_arguments(lines: &[&str]) -> Option<LoadDiagnosis> {
    let line = lines.iter().find(|l| {
        let l = l.trim_start();
        l.starts_with("error: unexpected argument")
            || l.starts_with("error: invalid value")
            || l.starts_with("error: unrecognized")
            || l.contains("invalid option --")
            || l.contains("unrecognized option")
    })?;
    Some(LoadDiagnosis {
        cause: LoadCause::BadArguments,
        evidence: vec![line.trim().to_string()],
        kernel_option: None,
    })
}

#[cfg(test)]
#[path = "diagnose_tests.rs"]
mod tests;
