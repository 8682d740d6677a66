//! Forwards the kernel log to the host as it is written, so sched_ext's ejection line, an OOM kill or a
//! warning reach the host even when the guest never manages to report.

use std::fs::File;
use std::io::{ErrorKind, Read};

use super::link::Link;
use crate::protocol::GuestMessage;
use crate::sys::{KmsgRecord, KMSG_PATH};

/// Largest kernel log record `read` returns.
const RECORD_BUFFER: usize = 8192;

/// Starts the streaming thread; it runs until the guest powers off.
pub(crate) fn start(link: Link) {
    let spawned = std::thread::Builder::new()
        .name("ktstr-kmsg".into())
        .spawn(move || stream(&link));
    if let Err(e) = spawned {
        eprintln!("ktstr guest: cannot stream the kernel log: {e}");
    }
}

fn stream(link: &Link) {
    let mut file = match File::open(KMSG_PATH) {
        Ok(file) => file,
        Err(e) => {
            link.send(GuestMessage::Log {
                line: format!("the kernel log is not streamed: opening {KMSG_PATH}: {e}"),
            });
            return;
        }
    };
    let mut buffer = vec![0u8; RECORD_BUFFER];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => {
                let raw = String::from_utf8_lossy(&buffer[..n]);
                let first = raw.lines().next().unwrap_or_default();
                if let Ok(record) = KmsgRecord::parse(first) {
                    link.send(GuestMessage::Kmsg { line: record.text });
                }
            }
            // Records overwritten before they were read: carry on with the next.
            Err(e) if matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::Interrupted) => {}
            Err(e) => {
                link.send(GuestMessage::Log {
                    line: format!("the kernel log stopped streaming: {e}"),
                });
                return;
            }
        }
    }
}
