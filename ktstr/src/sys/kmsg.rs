//! The kernel log as `/dev/kmsg` serves it: one record per read, `prio,seq,timestamp_us,flags[,...];message`
//! with non-printable bytes escaped as `\xNN`, optionally followed by ` KEY=value` continuation lines.
//!
//! `read_kmsg` returns the records logged so far without blocking, for the "dmesg tail" of a report.

use std::collections::VecDeque;
use std::fs::OpenOptions;
use std::io::{self, ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The kernel log device.
pub const KMSG_PATH: &str = "/dev/kmsg";

/// Larger than any record the kernel hands out (a shorter buffer makes the read fail with EINVAL).
const READ_BUFFER: usize = 16 * 1024;

/// One kernel log record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmsgRecord {
    /// Log level: 0 (emergency) to 7 (debug).
    pub level: u8,
    pub facility: u32,
    pub seq: u64,
    /// Microseconds since boot.
    pub timestamp_us: u64,
    /// The message with `\xNN` escapes decoded.
    pub text: String,
}

impl KmsgRecord {
    /// Parses a record's first line (`prio,seq,timestamp_us,flags[,...];message`).
    pub fn parse(line: &str) -> Result<KmsgRecord, KmsgError> {
        let bad = || KmsgError::BadRecord {
            record: line.to_string(),
        };
        let (header, message) = line.split_once(';').ok_or_else(bad)?;
        let mut fields = header.split(',');
        let mut number = || -> Result<u64, KmsgError> {
            fields.next().and_then(|f| f.parse().ok()).ok_or_else(bad)
        };
        let prio = number()?;
        let seq = number()?;
        let timestamp_us = number()?;
        let facility = u32::try_from(prio >> 3).map_err(|_| bad())?;
        fields.next().ok_or_else(bad)?;
        Ok(KmsgRecord {
            level: (prio & 7) as u8,
            facility,
            seq,
            timestamp_us,
            text: unescape(message),
        })
    }
}

/// True when the kernel log says the OOM killer killed `pid`: `Out of memory: Killed process PID (comm)`
/// (6.x; older kernels wrote `Kill process`) or the `oom-kill:` summary's `pid=PID,` field.
pub fn oom_killed(lines: &[String], pid: i32) -> bool {
    let killed = [
        format!("Killed process {pid} "),
        format!("Kill process {pid} "),
    ];
    let field = format!(",pid={pid},");
    lines.iter().any(|line| {
        killed.iter().any(|k| line.contains(k.as_str()))
            || (line.starts_with("oom-kill:") && line.contains(field.as_str()))
    })
}

/// Decodes the kernel's `\xNN` escapes; bytes that are not UTF-8 become U+FFFD.
fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i..i + 4)
            .filter(|b| b[0] == b'\\' && b[1] == b'x')
            .and_then(|b| std::str::from_utf8(&b[2..]).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The last `max_records` records of the kernel log at `path`, read without blocking.
///
/// Records the kernel overwrote while reading are skipped. A regular file of records works too.
pub fn read_kmsg(path: &Path, max_records: usize) -> Result<Vec<KmsgRecord>, KmsgError> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|source| KmsgError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    let mut tail = Tail::new(max_records);
    let mut buffer = vec![0u8; READ_BUFFER];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => tail.feed(&buffer[..n])?,
            Err(err) if err.kind() == ErrorKind::WouldBlock => break,
            Err(err) if matches!(err.kind(), ErrorKind::BrokenPipe | ErrorKind::Interrupted) => {}
            Err(source) => {
                return Err(KmsgError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
    }
    tail.finish()
}

/// Splits bytes into lines, keeps the last records, and skips continuation lines.
struct Tail {
    max: usize,
    records: VecDeque<KmsgRecord>,
    partial: Vec<u8>,
}

impl Tail {
    fn new(max: usize) -> Tail {
        Tail {
            max,
            records: VecDeque::new(),
            partial: Vec::new(),
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<(), KmsgError> {
        self.partial.extend_from_slice(bytes);
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            self.line(&line[..end])?;
        }
        Ok(())
    }

    fn line(&mut self, line: &[u8]) -> Result<(), KmsgError> {
        if line.is_empty() || line[0] == b' ' {
            return Ok(());
        }
        let record = KmsgRecord::parse(&String::from_utf8_lossy(line))?;
        if self.records.len() == self.max {
            self.records.pop_front();
        }
        if self.max > 0 {
            self.records.push_back(record);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<KmsgRecord>, KmsgError> {
        let rest = std::mem::take(&mut self.partial);
        self.line(&rest)?;
        Ok(self.records.into())
    }
}

/// The kernel log could not be read or a record does not follow the `/dev/kmsg` format.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KmsgError {
    #[error("cannot open {path}: {source}; mount devtmpfs at /dev and run as root to read the kernel log")]
    Open { path: PathBuf, source: io::Error },

    #[error(
        "cannot read {path}: {source}; the kernel log is unavailable, use the console log instead"
    )]
    Read { path: PathBuf, source: io::Error },

    #[error(
        "kernel log record {record:?} is not `prio,seq,timestamp,flags;message`; \
         read /dev/kmsg of Linux 3.5 or later"
    )]
    BadRecord { record: String },
}

#[cfg(test)]
#[path = "kmsg_tests.rs"]
mod tests;
