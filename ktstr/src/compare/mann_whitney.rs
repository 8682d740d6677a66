//! The Mann–Whitney U test (Wilcoxon rank-sum): whether one sample tends to hold larger values than
//! another, without assuming a distribution. Exact p-values by enumerating every split of the pooled ranks
//! while that is cheap (up to 10 + 10 values, 184 756 splits), the normal approximation with a tie
//! correction beyond.

/// Splits up to which the exact distribution is enumerated.
const EXACT_LIMIT: usize = 200_000;

/// A two-sided test of `a` against `b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U of `a`: how many (a, b) pairs have a > b, ties counting one half.
    pub u: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// The smallest two-sided p-value samples of these sizes can reach: with too few repeats, no difference
    /// can be significant, and the comparison says so instead of testing.
    pub min_p: f64,
    pub exact: bool,
}

/// The test; `None` when either sample is empty.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<MannWhitney> {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let ranks = ranks(a, b);
    let rank_sum_a: f64 = ranks[..n1].iter().sum();
    let u = rank_sum_a - (n1 * (n1 + 1)) as f64 / 2.0;
    let splits = binomial(n1 + n2, n1);
    let min_p = (2.0 / splits).min(1.0);
    if splits <= EXACT_LIMIT as f64 {
        let p = exact_p(&ranks, n1, rank_sum_a);
        return Some(MannWhitney {
            u,
            p,
            min_p,
            exact: true,
        });
    }
    Some(MannWhitney {
        u,
        p: normal_p(&ranks, n1, n2, u),
        min_p,
        exact: false,
    })
}

/// Midranks (1-based) of `a` then `b` in the pooled, sorted sample.
fn ranks(a: &[f64], b: &[f64]) -> Vec<f64> {
    let pooled: Vec<f64> = a.iter().chain(b).copied().collect();
    let mut order: Vec<usize> = (0..pooled.len()).collect();
    order.sort_by(|&i, &j| pooled[i].total_cmp(&pooled[j]));
    let mut ranks = vec![0.0; pooled.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && pooled[order[end + 1]] == pooled[order[start]] {
            end += 1;
        }
        let midrank = (start + end) as f64 / 2.0 + 1.0;
        for &i in &order[start..=end] {
            ranks[i] = midrank;
        }
        start = end + 1;
    }
    ranks
}

/// The share of the n1-of-(n1+n2) splits of `ranks` whose rank sum is at least as far from its mean
/// as the observed one.
fn exact_p(ranks: &[f64], n1: usize, observed: f64) -> f64 {
    let n = ranks.len();
    let mean = n1 as f64 * (n as f64 + 1.0) / 2.0;
    let distance = (observed - mean).abs() - 1e-9;
    let (mut extreme, mut total) = (0u64, 0u64);
    let mut chosen: Vec<usize> = (0..n1).collect();
    loop {
        let sum: f64 = chosen.iter().map(|&i| ranks[i]).sum();
        total += 1;
        if (sum - mean).abs() >= distance {
            extreme += 1;
        }
        // Next combination in lexicographic order.
        let mut i = n1;
        loop {
            if i == 0 {
                return extreme as f64 / total as f64;
            }
            i -= 1;
            if chosen[i] != i + n - n1 {
                break;
            }
        }
        chosen[i] += 1;
        for j in i + 1..n1 {
            chosen[j] = chosen[j - 1] + 1;
        }
    }
}

/// The normal approximation with the tie correction and a continuity correction of one half.
fn normal_p(ranks: &[f64], n1: usize, n2: usize, u: f64) -> f64 {
    let n = (n1 + n2) as f64;
    let mut sorted = ranks.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let j = sorted[i..].iter().take_while(|r| **r == sorted[i]).count();
        let t = j as f64;
        ties += t * t * t - t;
        i += j;
    }
    let (n1, n2) = (n1 as f64, n2 as f64);
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let z = ((u - n1 * n2 / 2.0).abs() - 0.5).max(0.0) / variance.sqrt();
    (2.0 * (1.0 - standard_normal_cdf(z))).min(1.0)
}

/// Φ(z) from the complementary error function (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7).
fn standard_normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-x * x).exp();
    match z >= 0.0 {
        true => 1.0 - erfc / 2.0,
        false => erfc / 2.0,
    }
}

fn binomial(n: usize, k: usize) -> f64 {
    let k = k.min(n - k);
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_separation_of_five_and_five_reaches_the_exact_minimum() {
        let low = [1.0, 2.0, 3.0, 4.0, 5.0];
        let high = [6.0, 7.0, 8.0, 9.0, 10.0];
        let t = mann_whitney(&low, &high).unwrap();
        assert!(t.exact);
        assert_eq!(t.u, 0.0);
        // Two of the 252 splits are as extreme: p = 2/252.
        assert!((t.p - 2.0 / 252.0).abs() < 1e-12, "{}", t.p);
        assert_eq!(t.min_p, t.p);
        assert_eq!(mann_whitney(&high, &low).unwrap().u, 25.0);
    }

    #[test]
    fn identical_samples_are_not_different_and_three_repeats_can_never_be() {
        let same = [5.0, 5.0, 5.0, 5.0];
        assert_eq!(mann_whitney(&same, &same).unwrap().p, 1.0);
        // 3 vs 3: 20 splits, the smallest two-sided p is 0.1 — above any usual alpha.
        let t = mann_whitney(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap();
        assert!((t.min_p - 0.1).abs() < 1e-12);
        assert!(mann_whitney(&[], &[1.0]).is_none());
    }

    #[test]
    fn a_known_small_case_and_the_normal_approximation_agree_with_tables() {
        // Interleaved samples: U = 3 of 9, two-sided exact p = 0.7 (the 20 splits of 3+3).
        let t = mann_whitney(&[1.0, 3.0, 5.0], &[2.0, 4.0, 6.0]).unwrap();
        assert_eq!(t.u, 3.0);
        assert!((t.p - 0.7).abs() < 1e-12, "{}", t.p);
        // 12 vs 12 is past the exact limit (2.7 million splits): a clear shift is still significant.
        let a: Vec<f64> = (0..12).map(f64::from).collect();
        let b: Vec<f64> = (0..12).map(|i| f64::from(i) + 10.5).collect();
        let t = mann_whitney(&a, &b).unwrap();
        assert!(!t.exact);
        assert!(t.p < 0.001, "{}", t.p);
        assert!((standard_normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
    }

    #[test]
    fn ties_get_midranks() {
        assert_eq!(ranks(&[1.0, 2.0], &[2.0, 3.0]), [1.0, 2.5, 2.5, 4.0]);
    }
}
