//! PipeIo: a worker pair exchanging timestamps over two pipes, strictly alternating work and waiting.

use std::os::fd::RawFd;

use super::meter::Meter;
use super::spin::spin_burst;
use super::stop;
use super::wait::STOP_POLL_NS;
use crate::workload::syscall::now_ns;

/// One worker's ends of its pair's pipes.
pub(crate) struct PipeLink {
    tx: RawFd,
    rx: RawFd,
    /// The leader works first; the follower starts by waiting.
    leads: bool,
    partner_gone: bool,
}

impl PipeLink {
    pub(crate) fn new(tx: RawFd, rx: RawFd, leads: bool) -> Self {
        PipeLink {
            tx,
            rx,
            leads,
            partner_gone: false,
        }
    }

    /// Sends the current time to the partner.
    fn send(&mut self) {
        if self.partner_gone {
            return;
        }
        let stamp = now_ns().to_ne_bytes();
        // SAFETY: writes 8 bytes from a stack buffer; SIGPIPE is ignored, so a gone reader gives EPIPE.
        let n = unsafe { libc::write(self.tx, stamp.as_ptr().cast(), stamp.len()) };
        if n != stamp.len() as isize {
            self.partner_gone = true;
        }
    }

    /// Waits for the partner's timestamp and samples send-to-run latency. Returns false on a stop request.
    fn recv(&mut self, meter: &mut Meter) -> bool {
        if self.partner_gone {
            return true;
        }
        let from = now_ns();
        let stamp = loop {
            if stop::requested_or_orphaned() {
                meter.blocked(from, now_ns());
                return false;
            }
            match self.read_stamp() {
                Ok(Some(stamp)) => break Some(stamp),
                Ok(None) => continue,
                Err(()) => break None,
            }
        };
        let to = now_ns();
        meter.blocked(from, to);
        match stamp {
            Some(stamp) => meter.wake_sample(to.saturating_sub(stamp)),
            None => self.partner_gone = true,
        }
        true
    }

    /// One bounded wait: `Ok(None)` on timeout or signal, `Err` once the partner closed its end.
    fn read_stamp(&self) -> Result<Option<u64>, ()> {
        let mut pfd = libc::pollfd {
            fd: self.rx,
            events: libc::POLLIN,
            revents: 0,
        };
        let timeout_ms = (STOP_POLL_NS / 1_000_000) as libc::c_int;
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, timeout_ms) } <= 0 {
            return Ok(None);
        }
        let mut buf = [0u8; 8];
        // SAFETY: reads at most 8 bytes into a stack buffer; poll said the pipe is readable.
        match unsafe { libc::read(self.rx, buf.as_mut_ptr().cast(), buf.len()) } {
            8 => Ok(Some(u64::from_ne_bytes(buf))),
            n if n < 0 => Ok(None),
            _ => Err(()),
        }
    }
}

/// The leader works, sends and waits; the follower waits, works and sends. A gone partner leaves only the work.
pub(crate) fn ping_pong(meter: &mut Meter, link: &mut PipeLink, mut burst: impl FnMut() -> u64) {
    loop {
        if !link.leads && !link.recv(meter) {
            return;
        }
        meter.add(burst());
        link.send();
        if link.leads && !link.recv(meter) {
            return;
        }
        if !meter.tick_checkpoint() {
            return;
        }
    }
}

pub(crate) fn pipe_io(meter: &mut Meter, link: &mut PipeLink, burst_iters: u64) {
    ping_pong(meter, link, || spin_burst(burst_iters));
}
