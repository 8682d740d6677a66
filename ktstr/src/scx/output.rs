//! The scheduler's output file: stdout and stderr share one file (no reader thread, so the guest init stays
//! single-threaded), read back as a bounded tail and removed with its owner.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::process::Stdio;

use tempfile::TempPath;

/// How much of the scheduler's output is kept for reports: its last 64 KiB.
pub const OUTPUT_LIMIT: usize = 64 * 1024;

/// A file collecting a scheduler's stdout and stderr; removed on drop.
#[derive(Debug)]
pub(crate) struct OutputFile {
    path: TempPath,
}

impl OutputFile {
    /// Creates `dir/ktstr-sched-<name>-XXXXXX.log` and the two handles a child writes through.
    pub(crate) fn create(dir: &Path, name: &str) -> io::Result<(OutputFile, Stdio, Stdio)> {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let file = tempfile::Builder::new()
            .prefix(&format!("ktstr-sched-{safe}-"))
            .suffix(".log")
            .tempfile_in(dir)?;
        let (file, path) = file.into_parts();
        let stderr = file.try_clone()?;
        Ok((OutputFile { path }, Stdio::from(file), Stdio::from(stderr)))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The last `OUTPUT_LIMIT` bytes, starting at a line boundary when cut; a read error is reported inline.
    pub(crate) fn tail(&self) -> String {
        read_tail(&self.path, OUTPUT_LIMIT).unwrap_or_else(|err| {
            format!(
                "[ktstr: cannot read the scheduler output file {}: {err}]",
                self.path.display()
            )
        })
    }

    /// The last `max_lines` lines of `tail()`.
    pub(crate) fn tail_lines(&self, max_lines: usize) -> String {
        last_lines(&self.tail(), max_lines)
    }
}

fn read_tail(path: &Path, limit: usize) -> io::Result<String> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let cut = len.saturating_sub(limit as u64);
    file.seek(SeekFrom::Start(cut))?;
    let mut bytes = Vec::with_capacity(limit.min(len as usize));
    file.take(limit as u64).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let text = match text.split_once('\n') {
        Some((_, rest)) if cut > 0 => rest,
        _ => &text,
    };
    Ok(text.to_string())
}

/// The last `max_lines` lines of `text`, keeping a final newline if there was one.
pub(crate) fn last_lines(text: &str, max_lines: usize) -> String {
    let body = text.strip_suffix('\n').unwrap_or(text);
    if max_lines == 0 || body.is_empty() {
        return String::new();
    }
    let start = body
        .rmatch_indices('\n')
        .nth(max_lines - 1)
        .map_or(0, |(at, _)| at + 1);
    text[start..].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn last_lines_keeps_the_end() {
        let cases = [
            ("a\nb\nc\n", 2, "b\nc\n"),
            ("a\nb\nc", 2, "b\nc"),
            ("a\nb\nc\n", 5, "a\nb\nc\n"),
            ("a\nb\nc\n", 0, ""),
            ("", 3, ""),
            ("\n\nx\n", 2, "\nx\n"),
        ];
        for (text, max, want) in cases {
            assert_eq!(last_lines(text, max), want, "{text:?} {max}");
        }
    }

    #[test]
    fn tail_is_bounded_and_starts_at_a_line() {
        let (out, stdout, _stderr) =
            OutputFile::create(&std::env::temp_dir(), "t").expect("create");
        let mut file: File = std::fs::OpenOptions::new()
            .append(true)
            .open(out.path())
            .expect("open");
        drop(stdout);
        for i in 0..20_000 {
            writeln!(file, "line {i}").expect("write");
        }
        let tail = out.tail();
        assert!(tail.len() <= OUTPUT_LIMIT, "{}", tail.len());
        assert!(tail.starts_with("line "), "{:?}", &tail[..20]);
        assert!(tail.ends_with("line 19999\n"));
        assert_eq!(out.tail_lines(2), "line 19998\nline 19999\n");
        let path = out.path().to_path_buf();
        drop(out);
        assert!(!path.exists(), "output file outlived its owner");
    }

    #[test]
    fn unreadable_output_is_reported_inline() {
        let (out, _, _) = OutputFile::create(&std::env::temp_dir(), "gone").expect("create");
        std::fs::remove_file(out.path()).expect("remove");
        assert!(out
            .tail()
            .starts_with("[ktstr: cannot read the scheduler output file"));
    }
}
