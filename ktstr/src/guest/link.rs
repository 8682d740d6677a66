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

    /// Sends `message`; a failure is printed on the console, which the host also keeps.
    pub(crate) fn send(&self, message: GuestMessage) {
        let mut channel = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = channel.send(&message) {
            eprintln!("ktstr guest: sending to the host: {e}");
        }
    }
}
