//! A bounded uniform sample of wake latencies (reservoir sampling) and the small PRNG workers use.

/// Most latency samples one worker keeps.
pub(crate) const RESERVOIR_CAP: usize = 100_000;

/// xorshift64: fast, lock-free, seeded per worker.
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> Self {
        XorShift(seed | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A value in `0..bound`; `bound` must be nonzero.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// Keeps at most `cap` samples, each of the `total` seen equally likely to be kept.
pub(crate) struct Reservoir {
    samples: Vec<u64>,
    total: u64,
    cap: usize,
    rng: XorShift,
}

impl Reservoir {
    pub(crate) fn new(cap: usize, seed: u64) -> Self {
        Reservoir {
            samples: Vec::new(),
            total: 0,
            cap,
            rng: XorShift::new(seed),
        }
    }

    pub(crate) fn push(&mut self, value: u64) {
        self.total += 1;
        if self.samples.len() < self.cap {
            self.samples.push(value);
            return;
        }
        let slot = self.rng.below(self.total);
        if let Some(kept) = self.samples.get_mut(slot as usize) {
            *kept = value;
        }
    }

    /// The kept samples and the count of all samples seen.
    pub(crate) fn into_parts(self) -> (Vec<u64>, u64) {
        (self.samples, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_below_the_cap() {
        let mut r = Reservoir::new(10, 1);
        (0..7).for_each(|v| r.push(v));
        assert_eq!(r.into_parts(), ((0..7).collect(), 7));
    }

    #[test]
    fn caps_samples_but_counts_all() {
        let mut r = Reservoir::new(100, 3);
        (0..10_000).for_each(|v| r.push(v));
        let (samples, total) = r.into_parts();
        assert_eq!((samples.len(), total), (100, 10_000));
        let late = samples.iter().filter(|&&v| v >= 5_000).count();
        assert!(
            (25..=75).contains(&late),
            "reservoir is not uniform: {late} of 100 from the second half"
        );
    }

    #[test]
    fn xorshift_stays_in_bounds_and_varies() {
        let mut rng = XorShift::new(0);
        let values: Vec<u64> = (0..100).map(|_| rng.below(10)).collect();
        assert!(values.iter().all(|&v| v < 10));
        assert!(values.iter().any(|&v| v != values[0]));
    }
}
