//! Small statistics over samples: nearest-rank percentile, mean, coefficient of variation.

/// Nearest-rank percentile (no interpolation) of ascending `sorted`; `None` when empty.
pub(crate) fn nearest_rank(sorted: &[u64], pct: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (pct / 100.0 * n as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// Arithmetic mean; `None` when empty.
pub(crate) fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

/// Population standard deviation over the mean; `None` when empty or the mean is not positive.
pub(crate) fn cv(values: &[f64]) -> Option<f64> {
    let mean = mean(values).filter(|m| *m > 0.0)?;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
    Some(var.sqrt() / mean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_picks_a_sample_without_interpolating() {
        let hundred: Vec<u64> = (1..=100).collect();
        let cases: [(&[u64], f64, Option<u64>); 10] = [
            (&[], 99.0, None),
            (&[7], 99.0, Some(7)),
            (&[7], 0.0, Some(7)),
            (&[1, 2], 50.0, Some(1)),
            (&[1, 2], 51.0, Some(2)),
            (&[1, 2, 3, 4], 99.0, Some(4)),
            (&hundred, 99.0, Some(99)),
            (&hundred, 100.0, Some(100)),
            (&hundred, 0.0, Some(1)),
            (&hundred, 50.0, Some(50)),
        ];
        for (sorted, pct, want) in cases {
            assert_eq!(
                nearest_rank(sorted, pct),
                want,
                "p{pct} of {} samples",
                sorted.len()
            );
        }
    }

    #[test]
    fn nearest_rank_of_two_hundred_samples_takes_the_198th() {
        let samples: Vec<u64> = (1..=200).map(|v| v * 10).collect();
        assert_eq!(nearest_rank(&samples, 99.0), Some(1980));
    }

    #[test]
    fn cv_is_population_stddev_over_mean() {
        let cases: [(&[f64], Option<f64>); 5] = [
            (&[], None),
            (&[0.0, 0.0], None),
            (&[5.0], Some(0.0)),
            (&[2.0, 2.0, 2.0], Some(0.0)),
            (&[1.0, 3.0], Some(0.5)),
        ];
        for (values, want) in cases {
            assert_eq!(cv(values), want, "{values:?}");
        }
        assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
    }
}
