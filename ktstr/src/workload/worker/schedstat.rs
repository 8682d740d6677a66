//! `/proc/thread-self/schedstat`, read with a raw fd into a stack buffer so a worker takes no lock and allocates nothing.

/// The three counters of `/proc/<pid>/schedstat`: on-CPU time, run-queue wait, and times scheduled in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Schedstat {
    pub(crate) cpu_time_ns: u64,
    pub(crate) run_delay_ns: u64,
    pub(crate) run_count: u64,
}

impl Schedstat {
    /// The caller's counters, or all zero where the kernel lacks `CONFIG_SCHED_INFO`.
    pub(crate) fn read_own() -> Schedstat {
        let mut buf = [0u8; 128];
        // SAFETY: a NUL-terminated path; the fd is closed below.
        let fd = unsafe {
            libc::open(
                c"/proc/thread-self/schedstat".as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Schedstat::default();
        }
        // SAFETY: reads at most `buf.len()` bytes into the stack buffer.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        // SAFETY: closes the fd opened above.
        unsafe { libc::close(fd) };
        buf.get(..usize::try_from(n).unwrap_or(0))
            .map(Schedstat::parse)
            .unwrap_or_default()
    }

    /// Parses `"<cpu_ns> <delay_ns> <count>\n"`; missing or malformed fields read as zero.
    pub(crate) fn parse(text: &[u8]) -> Schedstat {
        let mut fields = text
            .split(|b| b.is_ascii_whitespace())
            .filter(|f| !f.is_empty())
            .map(parse_u64);
        Schedstat {
            cpu_time_ns: fields.next().unwrap_or(0),
            run_delay_ns: fields.next().unwrap_or(0),
            run_count: fields.next().unwrap_or(0),
        }
    }

    /// Counter growth since `earlier`.
    pub(crate) fn since(self, earlier: Schedstat) -> Schedstat {
        Schedstat {
            cpu_time_ns: self.cpu_time_ns.saturating_sub(earlier.cpu_time_ns),
            run_delay_ns: self.run_delay_ns.saturating_sub(earlier.run_delay_ns),
            run_count: self.run_count.saturating_sub(earlier.run_count),
        }
    }
}

fn parse_u64(digits: &[u8]) -> u64 {
    let mut value = 0u64;
    for &d in digits {
        if !d.is_ascii_digit() {
            return 0;
        }
        value = value.saturating_mul(10).saturating_add(u64::from(d - b'0'));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kernel_format() {
        let cases: [(&[u8], [u64; 3]); 4] = [
            (b"123 456 7\n", [123, 456, 7]),
            (b"1  2\t3", [1, 2, 3]),
            (b"", [0, 0, 0]),
            (b"1 x 3\n", [1, 0, 3]),
        ];
        for (text, [cpu, delay, count]) in cases {
            let expected = Schedstat {
                cpu_time_ns: cpu,
                run_delay_ns: delay,
                run_count: count,
            };
            assert_eq!(
                Schedstat::parse(text),
                expected,
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn deltas_saturate() {
        let a = Schedstat {
            cpu_time_ns: 10,
            run_delay_ns: 5,
            run_count: 2,
        };
        let b = Schedstat {
            cpu_time_ns: 15,
            run_delay_ns: 4,
            run_count: 3,
        };
        assert_eq!(
            b.since(a),
            Schedstat {
                cpu_time_ns: 5,
                run_delay_ns: 0,
                run_count: 1
            }
        );
    }

    #[test]
    fn own_counters_grow_with_work() {
        let before = Schedstat::read_own();
        let end = std::time::Instant::now() + std::time::Duration::from_millis(20);
        while std::time::Instant::now() < end {}
        let grown = Schedstat::read_own().since(before);
        assert!(grown.cpu_time_ns > 0, "no schedstat cpu time: {grown:?}");
    }
}
