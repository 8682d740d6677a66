//! Cache loops: strided read-modify-writes over a private buffer, alone (CachePressure), followed by a yield
//! (CacheYield), or alternating with a partner over pipes (CachePipe).

use std::hint::black_box;

use super::meter::{Meter, CHECKPOINT_UNITS};
use super::pipe::{ping_pong, PipeLink};
use super::wait::yield_sampled;

/// CachePipe has no stride parameter: it touches one byte per cache line.
const CACHE_PIPE_STRIDE: usize = 64;

/// A private buffer walked with a fixed stride, wrapping at its end.
pub(crate) struct CacheBuffer {
    bytes: Vec<u8>,
    stride: usize,
    pos: usize,
}

impl CacheBuffer {
    /// `size_kb` KiB, walked `stride` bytes at a time; validation keeps both nonzero and the stride within.
    pub(crate) fn new(size_kb: usize, stride: usize) -> Self {
        let len = size_kb.max(1) * 1024;
        CacheBuffer {
            bytes: vec![0; len],
            stride: stride.clamp(1, len),
            pos: 0,
        }
    }

    /// `touches` read-modify-writes; returns the work units done.
    pub(crate) fn pass(&mut self, touches: u64) -> u64 {
        let len = self.bytes.len();
        for _ in 0..touches {
            if let Some(byte) = self.bytes.get_mut(self.pos) {
                *byte = byte.wrapping_add(1);
            }
            self.pos += self.stride;
            if self.pos >= len {
                self.pos -= len;
            }
        }
        black_box(&mut self.bytes);
        touches
    }
}

pub(crate) fn cache_pressure(meter: &mut Meter, size_kb: usize, stride: usize) {
    let mut buffer = CacheBuffer::new(size_kb, stride);
    loop {
        meter.add(buffer.pass(CHECKPOINT_UNITS));
        if !meter.tick() {
            return;
        }
    }
}

pub(crate) fn cache_yield(meter: &mut Meter, size_kb: usize, stride: usize) {
    let mut buffer = CacheBuffer::new(size_kb, stride);
    loop {
        meter.add(buffer.pass(CHECKPOINT_UNITS));
        yield_sampled(meter);
        if !meter.tick_checkpoint() {
            return;
        }
    }
}

pub(crate) fn cache_pipe(meter: &mut Meter, link: &mut PipeLink, size_kb: usize, burst_iters: u64) {
    let mut buffer = CacheBuffer::new(size_kb, CACHE_PIPE_STRIDE);
    ping_pong(meter, link, || buffer.pass(burst_iters));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_wraps_and_touches_every_stride() {
        let mut buffer = CacheBuffer::new(1, 256);
        assert_eq!(buffer.pass(8), 8);
        let touched: Vec<u8> = (0..4).map(|i| buffer.bytes[i * 256]).collect();
        assert_eq!(touched, vec![2, 2, 2, 2]);
        assert_eq!(buffer.bytes.iter().map(|&b| u32::from(b)).sum::<u32>(), 8);
        assert_eq!(buffer.pos, 0);
    }
}
