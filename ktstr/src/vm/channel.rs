//! The host end of the guest→host channel: a thread that connects to QEMU's socket for the `ktstr.0` port,
//! reads JSON lines, parses each as the message type `M` and sends it as a [`ChannelEvent`] over a std mpsc
//! channel. The transport knows nothing of what the messages mean.
//!
//! QEMU listens without waiting (`server=on,wait=off`), so the socket appears shortly after QEMU starts; the
//! reader retries until a deadline. The guest's writes block until the host is connected, so none are lost.

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use super::VmError;

/// How often the reader retries a socket that is not there yet.
const CONNECT_RETRY: Duration = Duration::from_millis(20);

/// What the reader saw, in order.
#[derive(Debug)]
pub enum ChannelEvent<M> {
    /// Connected to QEMU's socket.
    Connected { at: Instant },
    /// A well-formed message and when it arrived.
    Message { message: M, at: Instant },
    /// A line that is not a message; `reason` says why.
    Unparsed { line: String, reason: String },
    /// The guest side closed or reset the connection (QEMU exited or was killed, or the reader was stopped);
    /// no events follow.
    Closed,
    /// Connecting or reading failed; no events follow.
    Failed(VmError),
}

/// The connection shared with the reader thread so `Drop` can unblock it.
#[derive(Default)]
struct Shared {
    stopped: bool,
    stream: Option<UnixStream>,
}

/// A running reader; dropping it stops and joins the thread.
pub struct ChannelReader<M> {
    events: Receiver<ChannelEvent<M>>,
    shared: Arc<Mutex<Shared>>,
    thread: Option<JoinHandle<()>>,
}

impl<M: DeserializeOwned + Send + 'static> ChannelReader<M> {
    /// Starts reading `socket`, giving up on connecting at `connect_deadline`.
    pub fn spawn(socket: &Path, connect_deadline: Instant) -> Result<ChannelReader<M>, VmError> {
        let (tx, events) = mpsc::channel();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let thread_shared = Arc::clone(&shared);
        let socket = socket.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("ktstr-channel".into())
            .spawn(move || run(&socket, connect_deadline, &thread_shared, &tx))
            .map_err(|e| VmError::io("start the channel reader for", "ktstr-channel", e))?;
        Ok(ChannelReader {
            events,
            shared,
            thread: Some(thread),
        })
    }

    /// The next event, or `None` when `deadline` passes first or the reader has finished and sent everything.
    pub fn recv_until(&self, deadline: Instant) -> Option<ChannelEvent<M>> {
        let wait = deadline.saturating_duration_since(Instant::now());
        self.events.recv_timeout(wait).ok()
    }

    /// Sends `line` (a newline is added) to the guest over the connected channel.
    pub fn send_line(&self, line: &str) -> Result<(), VmError> {
        let shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(stream) = shared.stream.as_ref() else {
            return Err(VmError::io(
                "write to",
                "the guest channel",
                std::io::Error::from(std::io::ErrorKind::NotConnected),
            ));
        };
        let mut writer: &UnixStream = stream;
        std::io::Write::write_all(&mut writer, format!("{line}\n").as_bytes())
            .map_err(|e| VmError::io("write to", "the guest channel", e))
    }

    /// The receiving end, for callers that select over it themselves.
    pub fn events(&self) -> &Receiver<ChannelEvent<M>> {
        &self.events
    }
}

impl<M> Drop for ChannelReader<M> {
    fn drop(&mut self) {
        {
            let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
            shared.stopped = true;
            if let Some(stream) = shared.stream.take() {
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The reader thread: connect, then forward lines until the end. A dropped receiver just ends it.
fn run<M: DeserializeOwned>(
    socket: &Path,
    deadline: Instant,
    shared: &Mutex<Shared>,
    tx: &Sender<ChannelEvent<M>>,
) {
    let stream = match connect(socket, deadline, shared) {
        Ok(Some(stream)) => stream,
        Ok(None) => return,
        Err(e) => {
            let _ = tx.send(ChannelEvent::Failed(e));
            return;
        }
    };
    let _ = tx.send(ChannelEvent::Connected { at: Instant::now() });
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        let event = match reader.read_until(b'\n', &mut line) {
            Ok(0) => ChannelEvent::Closed,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => ChannelEvent::Closed,
            Ok(_) => parse_line(&line),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => ChannelEvent::Failed(VmError::io("read", socket, e)),
        };
        let last = matches!(event, ChannelEvent::Closed | ChannelEvent::Failed(_));
        if tx.send(event).is_err() || last {
            return;
        }
    }
}

/// Connects, retrying while the socket is absent or refusing; `None` when stopped first.
fn connect(
    socket: &Path,
    deadline: Instant,
    shared: &Mutex<Shared>,
) -> Result<Option<UnixStream>, VmError> {
    let started = Instant::now();
    loop {
        match UnixStream::connect(socket) {
            Ok(stream) => {
                let mut shared = shared.lock().unwrap_or_else(PoisonError::into_inner);
                if shared.stopped {
                    return Ok(None);
                }
                let clone = stream
                    .try_clone()
                    .map_err(|e| VmError::io("use", socket, e))?;
                shared.stream = Some(clone);
                return Ok(Some(stream));
            }
            Err(e) if retryable(&e) => {}
            Err(e) => return Err(VmError::io("connect to", socket, e)),
        }
        if shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stopped
        {
            return Ok(None);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(VmError::ChannelConnectTimeout {
                socket: PathBuf::from(socket),
                waited: now - started,
            });
        }
        std::thread::sleep(CONNECT_RETRY.min(deadline - now));
    }
}

fn retryable(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionRefused, NotFound};
    matches!(e.kind(), NotFound | ConnectionRefused)
}

/// One raw line as an event; never panics.
pub(crate) fn parse_line<M: DeserializeOwned>(raw: &[u8]) -> ChannelEvent<M> {
    let text = match std::str::from_utf8(raw) {
        Ok(text) => text,
        Err(e) => {
            return ChannelEvent::Unparsed {
                line: String::from_utf8_lossy(raw).trim_end().to_string(),
                reason: format!("not UTF-8: {e}"),
            }
        }
    };
    match serde_json::from_str(text.trim_end_matches(['\n', '\r'])) {
        Ok(message) => ChannelEvent::Message {
            message,
            at: Instant::now(),
        },
        Err(e) => ChannelEvent::Unparsed {
            line: text.trim_end().to_string(),
            reason: e.to_string(),
        },
    }
}

#[cfg(test)]
#[path = "channel_tests.rs"]
mod tests;
