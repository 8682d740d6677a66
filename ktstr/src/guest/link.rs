//! `Link`: the guest's end of the channel, shared by PID 1's main thread and the kmsg streamer.

use std::sync::{Arc, Mutex, PoisonError};

use crate::protocol::GuestMessage;
use crate::vm::GuestChannel;

/// A cloneable sender of guest→host messages; each message is written whole under a lock.
#[derive(Clone)]
pub(crate) struct Link(Arc<Mutex<GuestChannel>>);

impl Link {
    pub(crate) fn new(channel: GuestChannel) -> Link {
        Link(Arc::new(Mutex::new(channel)))
    }

    /// Tells the host the test is ready to start and waits for its go-ahead (`START_LINE`). A channel that
    /// cannot be read is said on the console and the test starts anyway: the host's deadline still holds.
    pub(crate) fn await_start(&self) {
        let reader = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reader();
        self.send(GuestMessage::AwaitingStart);
        let mut line = String::new();
        let read = reader.and_then(|port| {
            std::io::BufRead::read_line(&mut std::io::BufReader::new(port), &mut line)
                .map_err(|e| crate::vm::VmError::io("read", "the host channel", e))
        });
        match read {
            Ok(_) if line.trim() == crate::protocol::START_LINE => {}
            Ok(_) => eprintln!(
                "ktstr guest: the host sent {line:?}, not {:?}",
                crate::protocol::START_LINE
            ),
            Err(e) => eprintln!("ktstr guest: waiting for the host's start: {e}"),
        }
    }

    /// Sends `message`; a failure is printed on the console, which the host also keeps.
    pub(crate) fn send(&self, message: GuestMessage) {
        let mut channel = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = channel.send(&message) {
            eprintln!("ktstr guest: sending to the host: {e}");
        }
    }
}
