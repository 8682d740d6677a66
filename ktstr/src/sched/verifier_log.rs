//! The verifier's log as libbpf prints it when a program is rejected, read into a `LoadDiagnosis`: the
//! program, the rejected instruction, the source line (and the scheduler's line that reached it when the
//! source is a header) and the reason.

use super::diagnose::{option_for, quoted_after, LoadCause, LoadDiagnosis};

/// Lines of the log a verdict quotes, at most.
const EVIDENCE_LINES: usize = 8;

/// The diagnosis of a verifier rejection in the scheduler's output lines, if it holds one.
pub(super) fn verifier_rejection(lines: &[&str]) -> Option<LoadDiagnosis> {
    let log = VerifierLog::find(lines)?;
    let reason_at = log.reason_at()?;
    let reason = log.lines[reason_at].trim().to_string();
    let instruction_at = log.instruction_at(reason_at);
    let source_at = log.source_at(reason_at);
    let from = [instruction_at, source_at]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(reason_at);
    Some(LoadDiagnosis {
        evidence: log.evidence(from, reason_at),
        kernel_option: kernel_option(&reason).map(str::to_string),
        cause: LoadCause::VerifierRejected {
            instruction: instruction_at.map(|i| log.lines[i].trim().to_string()),
            source: source_at.map(|i| log.source(i)),
            program: log.program,
            reason,
        },
    })
}

/// The verifier's log: its non-empty lines and the program it is about.
struct VerifierLog<'a> {
    program: String,
    lines: Vec<&'a str>,
}

impl<'a> VerifierLog<'a> {
    /// The log between libbpf's markers. A long log may have lost its start to the output limit; then
    /// the log runs from the start of what was kept, and the program is named by libbpf's `failed to
    /// load` line after it.
    fn find(lines: &[&'a str]) -> Option<VerifierLog<'a>> {
        let is_begin = |l: &&str| l.contains("-- BEGIN PROG LOAD LOG --");
        let is_end = |l: &&str| l.contains("-- END PROG LOAD LOG --");
        let (begin, end) = match lines.iter().rposition(is_begin) {
            Some(b) => {
                let end = lines[b..].iter().position(is_end);
                (Some(b), end.map_or(lines.len(), |e| b + e))
            }
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
        let lines = lines[begin.map_or(0, |b| b + 1)..end]
            .iter()
            .map(|l| l.trim_end())
            .filter(|l| !l.is_empty())
            .collect();
        Some(VerifierLog { program, lines })
    }

    /// The reason: the last line before the verifier's closing statistics.
    fn reason_at(&self) -> Option<usize> {
        let is_summary = |l: &str| {
            l.starts_with("processed ")
                || l.starts_with("verification time")
                || l.starts_with("stack depth")
                || l.starts_with("max_states_per_insn")
        };
        self.lines.iter().rposition(|l| !is_summary(l))
    }

    /// The last instruction (`12: (85) call ...`) before the reason.
    fn instruction_at(&self, reason_at: usize) -> Option<usize> {
        self.lines[..reason_at].iter().rposition(|l| {
            l.split_once(": (")
                .is_some_and(|(n, _)| n.trim().parse::<u32>().is_ok())
        })
    }

    /// The last source line (`; code @ file.c:12`) before `before`.
    fn source_at(&self, before: usize) -> Option<usize> {
        self.lines[..before]
            .iter()
            .rposition(|l| l.trim_start().starts_with("; "))
    }

    /// The source line `i` as `place (code)`. A macro or inline helper in a header says little, so the
    /// scheduler's own line that used it is named too.
    fn source(&self, i: usize) -> String {
        let (place, code) = self.source_line(i);
        let here = format!("{place} ({code})");
        let caller = self
            .in_header(i)
            .then(|| self.source_at(i))
            .flatten()
            .filter(|&c| !self.in_header(c))
            .map(|c| self.source_line(c));
        match caller {
            Some((place, code)) => format!("{here}, reached from {place} ({code})"),
            None => here,
        }
    }

    /// A source line's `(file:line, code)`.
    fn source_line(&self, i: usize) -> (&'a str, &'a str) {
        let text = self.lines[i].trim_start().trim_start_matches("; ");
        match text.rsplit_once(" @ ") {
            Some((code, place)) => (place.trim(), code.trim()),
            None => ("", text.trim()),
        }
    }

    fn in_header(&self, i: usize) -> bool {
        let (place, _) = self.source_line(i);
        place
            .rsplit_once(':')
            .is_some_and(|(file, _)| file.ends_with(".h"))
    }

    /// The lines `from..=to`, at most the last `EVIDENCE_LINES` of them.
    fn evidence(&self, from: usize, to: usize) -> Vec<String> {
        let lines = &self.lines[from..=to];
        lines[lines.len().saturating_sub(EVIDENCE_LINES)..]
            .iter()
            .map(|l| l.to_string())
            .collect()
    }
}

/// The kernel option that provides what the reason says is missing, when it is a known one.
fn kernel_option(reason: &str) -> Option<&'static str> {
    reason
        .contains("failed to find the address for kernel symbol")
        .then_some("CONFIG_KALLSYMS_ALL")
        .or_else(|| quoted_symbol(reason).and_then(option_for))
}

/// The first `'quoted'` name in `line`.
fn quoted_symbol(line: &str) -> Option<&str> {
    let start = line.find('\'')? + 1;
    let len = line[start..].find('\'')?;
    Some(&line[start..start + len])
}
