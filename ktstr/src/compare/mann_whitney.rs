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
    /// The smallest two-sided p-value samples of these sizes reach by this method: that of a complete
    /// separation, see [`smallest_p`].
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
    let min_p = smallest_p(n1, n2);
    if binomial(n1 + n2, n1) <= EXACT_LIMIT as f64 {
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

/// The two-sided p of a complete separation without ties (every value of one sample above every value of the
/// other), by the method [`mann_whitney`] uses for samples of `n1` and `n2` values: 2 / C(n1 + n2, n1) when
/// exact, the normal approximation of U = 0 beyond. No outcome without ties reaches a smaller p.
pub fn smallest_p(n1: usize, n2: usize) -> f64 {
    let splits = binomial(n1 + n2, n1);
    match splits <= EXACT_LIMIT as f64 {
        true => (2.0 / splits).min(1.0),
        false => normal_two_sided(n1 as f64, n2 as f64, 0.0, 0.0),
    }
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
    normal_two_sided(n1 as f64, n2 as f64, u, ties)
}

/// The two-sided normal tail of `u`, where `ties` is the sum of t³ − t over the groups of t tied values.
fn normal_two_sided(n1: f64, n2: f64, u: f64, ties: f64) -> f64 {
    let n = n1 + n2;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let z = ((u - n1 * n2 / 2.0).abs() - 0.5).max(0.0) / variance.sqrt();
    (2.0 * upper_tail(z)).min(1.0)
}

/// The upper tail 1 − Φ(z) for z ≥ 0 from the complementary error function (Abramowitz–Stegun 7.1.26: off
/// by under 0.05 % of itself at z = 4, 2 % at z = 10), taken directly so that small tails do not cancel.
fn upper_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    poly * (-x * x).exp() / 2.0
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
    fn interleaved_samples_are_far_from_significant() {
        // U = 3 of 9, two-sided exact p = 0.7 (14 of the 20 splits of 3+3).
        let t = mann_whitney(&[1.0, 3.0, 5.0], &[2.0, 4.0, 6.0]).unwrap();
        assert_eq!(t.u, 3.0);
        assert!((t.p - 0.7).abs() < 1e-12, "{}", t.p);
    }

    #[test]
    fn exact_p_values_match_a_hand_count_of_the_splits() {
        // (a, b, U of a, two-sided p).
        let cases: [(&[f64], &[f64], f64, f64); 2] = [
            // Ties: pooled midranks 1, 3, 3, 3, 5.5, 5.5; a holds 1, 3, 3 (sum 7, mean 10.5). Of the 20
            // splits, 3 reach a sum <= 7 (1 + two of the three 3s) and 3 a sum >= 14 (a 3 + both 5.5s).
            (&[1.0, 2.0, 2.0], &[2.0, 3.0, 3.0], 1.0, 6.0 / 20.0),
            // 3 against 4: a holds ranks 1, 2, 4 (sum 7, mean 12). Of the 35 splits, {1,2,3} and {1,2,4}
            // reach a sum <= 7, and their mirrors {5,6,7} and {4,6,7} a sum >= 17.
            (&[1.0, 2.0, 4.0], &[3.0, 5.0, 6.0, 7.0], 1.0, 4.0 / 35.0),
        ];
        for (a, b, u, p) in cases {
            let t = mann_whitney(a, b).unwrap();
            assert!(t.exact);
            assert_eq!(t.u, u, "{a:?} {b:?}");
            assert!((t.p - p).abs() < 1e-12, "{a:?} {b:?}: p {} != {p}", t.p);
        }
        assert!(
            (mann_whitney(&[1.0, 2.0, 4.0], &[3.0; 4]).unwrap().min_p - 2.0 / 35.0).abs() < 1e-12
        );
    }

    /// `n1` values against 1, 2, … `n2` with U of exactly `u` and no ties.
    fn sample_with_u(n1: usize, n2: usize, u: usize) -> (Vec<f64>, Vec<f64>) {
        let mut left = u;
        let a = (0..n1)
            .map(|i| {
                let below = left.min(n2);
                left -= below;
                below as f64 + 0.25 + i as f64 / 100.0
            })
            .collect();
        (a, (1..=n2).map(|v| v as f64).collect())
    }

    #[test]
    fn the_normal_approximation_matches_a_normal_table() {
        // (n1, n2, U, two-sided p from a table of Φ). 13 + 13: σ = √(13·13·27/12) = 19.5 and
        // z = (|45 − 84.5| − 0.5) / 19.5 = 2.00, Φ(2.00) = 0.9772 so p = 0.0455. 8 + 18: σ = √(8·18·27/12) = 18
        // and z = (|31 − 72| − 0.5) / 18 = 2.25, Φ(2.25) = 0.9878 so p = 0.0244.
        let cases = [(13, 13, 45, 0.0455), (8, 18, 31, 0.0244)];
        for (n1, n2, u, table_p) in cases {
            let (a, b) = sample_with_u(n1, n2, u);
            let t = mann_whitney(&a, &b).unwrap();
            assert!(!t.exact);
            assert_eq!(t.u, u as f64);
            assert!((t.p - table_p).abs() < 1e-4, "{n1}+{n2}: p {}", t.p);
        }
        // The table's 97.5 % quantile, and a far tail that 1 − Φ(z) would round to 0: 1 − Φ(9) = 1.129e-19.
        assert!((upper_tail(1.959_964) - 0.025).abs() < 1e-6);
        assert!((upper_tail(9.0) / 1.129e-19 - 1.0).abs() < 0.03);
    }

    #[test]
    fn the_smallest_p_is_that_of_a_complete_separation_by_the_method_used() {
        for (n1, n2) in [(3, 3), (5, 5), (4, 7), (10, 10), (11, 11), (8, 30)] {
            let (a, b) = sample_with_u(n1, n2, 0);
            let t = mann_whitney(&a, &b).unwrap();
            assert!(
                (t.p - t.min_p).abs() < 1e-15,
                "{n1}+{n2}: {} vs {}",
                t.p,
                t.min_p
            );
            assert_eq!(t.min_p, smallest_p(n1, n2));
        }
    }

    #[test]
    fn ties_get_midranks() {
        assert_eq!(ranks(&[1.0, 2.0], &[2.0, 3.0]), [1.0, 2.5, 2.5, 4.0]);
    }
}
