//! Why a scheduler could not load, read from what it printed: libbpf's log (a kernel symbol, kfunc,
//! BTF type or attach point the kernel lacks) and the verifier's log (the rejected program, its
//! instruction, source line and reason). Where a missing piece is a known kernel option, the
//! diagnosis names the option to add.

use serde::{Deserialize, Serialize};

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

fn option_for(name: &str) -> Option<&'static str> {
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
fn quoted_after<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &line[line.find(prefix)? + prefix.len()..];
    let rest = rest.strip_prefix('\'')?;
    Some(&rest[..rest.find('\'')?])
}

/// The verifier's log between libbpf's markers. A long log may have lost its start to the output
/// limit; then the log runs from the start of what was kept, and the program is named by libbpf's
/// `failed to load` line after it.
fn verifier_rejection(lines: &[&str]) -> Option<LoadDiagnosis> {
    let is_begin = |l: &&str| l.contains("-- BEGIN PROG LOAD LOG --");
    let is_end = |l: &&str| l.contains("-- END PROG LOAD LOG --");
    let (begin, end) = match lines.iter().rposition(is_begin) {
        Some(b) => (
            Some(b),
            lines[b..]
                .iter()
                .position(is_end)
                .map_or(lines.len(), |e| b + e),
        ),
        None => (None, lines.iter().rposition(is_end)?),
    };
    let program = begin
        .and_then(|b| quoted_after(lines[b], "prog "))
        .or_else(|| {
            lines[end..]
                .iter()
                .find(|l| l.contains("failed to load") || l.contains("load failed"))
                .and_then(|l| quoted_after(l, "prog "))
        })
        .unwrap_or("?")
        .to_string();
    let log: Vec<&str> = lines[begin.map_or(0, |b| b + 1)..end]
        .iter()
        .map(|l| l.trim_end())
        .filter(|l| !l.is_empty())
        .collect();
    let is_summary = |l: &str| {
        l.starts_with("processed ")
            || l.starts_with("verification time")
            || l.starts_with("stack depth")
            || l.starts_with("max_states_per_insn")
    };
    let reason_at = log.iter().rposition(|l| !is_summary(l))?;
    let reason = log[reason_at].trim().to_string();
    let instruction_at = log[..reason_at].iter().rposition(|l| {
        l.split_once(": (")
            .is_some_and(|(n, _)| n.trim().parse::<u32>().is_ok())
    });
    let source_at = log[..reason_at]
        .iter()
        .rposition(|l| l.trim_start().starts_with("; "));
    let source_line = |i: usize| {
        let text = log[i].trim_start().trim_start_matches("; ");
        match text.rsplit_once(" @ ") {
            Some((code, place)) => (place.trim(), code.trim()),
            None => ("", text.trim()),
        }
    };
    let in_header = |i: usize| {
        let (place, _) = source_line(i);
        place
            .rsplit_once(':')
            .is_some_and(|(file, _)| file.ends_with(".h"))
    };
    let source = source_at.map(|i| {
        let (place, code) = source_line(i);
        let here = format!("{place} ({code})");
        // A macro or inline helper in a header says little; name the scheduler's line that used it.
        let caller = in_header(i)
            .then(|| {
                log[..i]
                    .iter()
                    .rposition(|l| l.trim_start().starts_with("; "))
            })
            .flatten()
            .filter(|&c| !in_header(c))
            .map(source_line);
        match caller {
            Some((place, code)) => format!("{here}, reached from {place} ({code})"),
            None => here,
        }
    });
    let from = [instruction_at, source_at]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(reason_at);
    let evidence: Vec<String> = log[from..=reason_at]
        .iter()
        .map(|l| l.to_string())
        .collect();
    let evidence = evidence[evidence.len().saturating_sub(8)..].to_vec();
    let kernel_option = reason
        .contains("failed to find the address for kernel symbol")
        .then_some("CONFIG_KALLSYMS_ALL")
        .or_else(|| quoted_symbol(&reason).and_then(option_for))
        .map(str::to_string);
    Some(LoadDiagnosis {
        cause: LoadCause::VerifierRejected {
            program,
            reason,
            instruction: instruction_at.map(|i| log[i].trim().to_string()),
            source,
        },
        evidence,
        kernel_option,
    })
}

fn quoted_symbol(line: &str) -> Option<&str> {
    let start = line.find('\'')? + 1;
    let len = line[start..].find('\'')?;
    Some(&line[start..start + len])
}

/// libbpf's own complaints about something the kernel lacks, most specific first.
fn libbpf_missing(lines: &[&str]) -> Option<LoadDiagnosis> {
    type Matcher = fn(&str) -> Option<LoadCause>;
    let matchers: [Matcher; 5] = [
        |l| {
            let name = quoted_after(l, "extern (func ksym) ")?;
            l.contains("not found")
                .then(|| LoadCause::MissingKfunc { name: name.into() })
        },
        |l| {
            let symbol = quoted_after(l, "extern (var ksym) ")?;
            l.contains("not found")
                .then(|| LoadCause::MissingKernelSymbol {
                    symbol: symbol.into(),
                })
        },
        |l| {
            let rest = &l[l.find("struct_ops init_kern ")? + "struct_ops init_kern ".len()..];
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
        },
        |l| {
            let name = quoted_after(l, "failed to find kernel BTF type ID of ")
                .or_else(|| quoted_after(l, "failed to find BTF for extern "))?;
            Some(LoadCause::MissingBtf { name: name.into() })
        },
        |l| {
            let kinds = ["tracepoint ", "kprobe ", "uprobe ", "raw_tracepoint "];
            let target = kinds.iter().find_map(|k| quoted_after(l, k))?;
            (l.contains("failed") && (l.contains("No such file") || l.contains("perf event"))).then(
                || LoadCause::MissingAttachPoint {
                    target: target.into(),
                },
            )
        },
    ];
    matchers.iter().find_map(|matcher| {
        let (line, cause) = lines
            .iter()
            .filter(|l| l.contains("libbpf"))
            .find_map(|l| matcher(l).map(|cause| (l.trim().to_string(), cause)))?;
        let name = match &cause {
            LoadCause::MissingKernelSymbol { symbol } => symbol.as_str(),
            LoadCause::MissingKfunc { name } | LoadCause::MissingBtf { name } => name.as_str(),
            LoadCause::MissingAttachPoint { target } => target.as_str(),
            _ => "",
        };
        Some(LoadDiagnosis {
            kernel_option: option_for(name).map(str::to_string),
            cause,
            evidence: vec![line],
        })
    })
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
