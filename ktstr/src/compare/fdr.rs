//! The Benjamini–Hochberg correction across a comparison's rows, and what it leaves a row able to detect:
//! the q the row would get were its repeats completely separated, and the repeats per side at which a
//! complete separation passes even as the only one.

use super::mann_whitney::smallest_p;

/// The most repeats per side [`repeats_to_detect`] considers.
const MAX_REPEATS: usize = 100;

/// Benjamini–Hochberg q-values of `p`, in the same order: over the p sorted ascending,
/// q_(k) = min over j ≥ k of p_(j) · m / j, capped at 1.
pub(super) fn bh_q(p: &[f64]) -> Vec<f64> {
    let order = ascending(p);
    let sorted: Vec<f64> = order.iter().map(|&i| p[i]).collect();
    let q_sorted = sorted_q(&sorted);
    let mut q = vec![1.0; p.len()];
    for (rank, &i) in order.iter().enumerate() {
        q[i] = q_sorted[rank];
    }
    q
}

/// For each row i, the q it gets when its p is replaced by `best[i]` (if smaller) and every other p stays.
///
/// BH q-values only fall as a p falls, so with `best[i]` the smallest p row i's sample sizes allow, this is
/// the least q row i can reach in this comparison. It lies between `best[i]` (every row as small) and
/// `best[i] · m` (row i alone small).
pub(super) fn best_q(p: &[f64], best: &[f64]) -> Vec<f64> {
    let m = p.len() as f64;
    let order = ascending(p);
    let sorted: Vec<f64> = order.iter().map(|&i| p[i]).collect();
    let q_sorted = sorted_q(&sorted);
    let mut out = vec![1.0; p.len()];
    for (r, &i) in order.iter().enumerate() {
        let x = best[i];
        if x >= sorted[r] {
            out[i] = q_sorted[r];
            continue;
        }
        // x moves from place r to place k, after the smaller p; those from k to r − 1 move up one place.
        let k = sorted[..r].partition_point(|&s| s <= x);
        let moved = (k..r)
            .map(|j| sorted[j] * m / (j + 2) as f64)
            .fold(f64::INFINITY, f64::min);
        let after = q_sorted.get(r + 1).copied().unwrap_or(1.0);
        out[i] = (x * m / (k + 1) as f64).min(moved).min(after).min(1.0);
    }
    out
}

/// The fewest repeats per side n from which on a complete separation of a row passes q ≤ `alpha` even as the
/// only one among `rows` rows: smallest_p(n, n) · rows ≤ alpha for n and every count above it. `None` past
/// 100 repeats.
pub(super) fn repeats_to_detect(rows: usize, alpha: f64) -> Option<usize> {
    let passes = |n: usize| smallest_p(n, n) * rows as f64 <= alpha;
    (2..=MAX_REPEATS).rev().take_while(|&n| passes(n)).last()
}

fn ascending(p: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    order
}

/// The q of each place of the ascending `sorted` p.
fn sorted_q(sorted: &[f64]) -> Vec<f64> {
    let m = sorted.len() as f64;
    let mut q = vec![1.0; sorted.len()];
    let mut running: f64 = 1.0;
    for (rank, p) in sorted.iter().enumerate().rev() {
        running = running.min(p * m / (rank + 1) as f64);
        q[rank] = running;
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
    }

    #[test]
    fn benjamini_hochberg_matches_a_hand_computation() {
        // m = 3: 0.9 · 3/3 = 0.9; 0.04 · 3/2 = 0.06; 0.001 · 3/1 = 0.003. Order does not matter.
        let cases: [(&[f64], &[f64]); 3] = [
            (&[0.001, 0.04, 0.9], &[0.003, 0.06, 0.9]),
            (&[0.9, 0.001, 0.04], &[0.9, 0.003, 0.06]),
            // Step-up: 0.04 · 3/2 = 0.06 would exceed 0.045 · 3/3, so both take 0.045.
            (&[0.04, 0.045, 0.001], &[0.045, 0.045, 0.003]),
        ];
        for (p, q) in cases {
            assert!(close(&bh_q(p), q), "{p:?}: {:?} != {q:?}", bh_q(p));
        }
        assert!(bh_q(&[]).is_empty());
    }

    /// `best_q` by substituting and correcting again.
    fn best_q_by_substitution(p: &[f64], best: &[f64]) -> Vec<f64> {
        (0..p.len())
            .map(|i| {
                let mut with = p.to_vec();
                with[i] = with[i].min(best[i]);
                bh_q(&with)[i]
            })
            .collect()
    }

    #[test]
    fn the_best_q_is_the_q_of_the_row_completely_separated() {
        let sep = 2.0 / 252.0;
        let cases: [(&[f64], &[f64], &[f64]); 4] = [
            // One of 7 rows separated alone: 7 · 2/252 = 0.0556, not ≤ 0.05. Six rows: 0.0476.
            (&[0.5; 7], &[sep; 7], &[7.0 * sep; 7]),
            (&[0.5; 6], &[sep; 6], &[6.0 * sep; 6]),
            // Two rows at 2/252 keep their q, 7 · (2/252) / 2; any third one separated would share rank 3.
            (
                &[sep, sep, 0.5, 0.5, 0.5, 0.5, 0.5],
                &[sep; 7],
                &[
                    3.5 * sep,
                    3.5 * sep,
                    7.0 * sep / 3.0,
                    7.0 * sep / 3.0,
                    7.0 * sep / 3.0,
                    7.0 * sep / 3.0,
                    7.0 * sep / 3.0,
                ],
            ),
            // The first is at its best and keeps q = 0.003; 0.01 at rank 2 gets 0.015; 0.2 at rank 3, 0.2.
            (
                &[0.001, 0.04, 0.9],
                &[0.001, 0.01, 0.2],
                &[0.003, 0.015, 0.2],
            ),
        ];
        for (p, best, want) in cases {
            assert!(
                close(&best_q(p, best), want),
                "{p:?}: {:?}",
                best_q(p, best)
            );
        }
    }

    proptest! {
        #[test]
        fn the_best_q_is_what_correcting_again_gives(
            pairs in prop::collection::vec((0usize..8, 0usize..8), 1..30),
        ) {
            // Few distinct values, so that ties come up.
            let levels = [0.0001, 0.002, 0.01, 0.011, 0.04, 0.3, 0.7, 1.0];
            let p: Vec<f64> = pairs.iter().map(|(a, _)| levels[*a]).collect();
            let best: Vec<f64> = pairs.iter().map(|(_, b)| levels[*b]).collect();
            let (fast, slow) = (best_q(&p, &best), best_q_by_substitution(&p, &best));
            prop_assert!(close(&fast, &slow), "{:?} {:?}: {:?} != {:?}", p, best, fast, slow);
        }
    }

    #[test]
    fn repeats_to_detect_a_lone_separation() {
        // At alpha 0.05, 2 / C(2n, n) · m ≤ 0.05: C(10, 5) = 252 holds 6 rows, C(12, 6) = 924 holds 23,
        // C(14, 7) = 3432 holds 85. Past 10 + 10 the normal approximation: 11 + 11 reaches p = 8.2e-5 only,
        // above 10 + 10's 1.1e-5, so 10 is no answer where 11 fails.
        let cases = [
            (1, 0.05, Some(4)),
            (6, 0.05, Some(5)),
            (7, 0.05, Some(6)),
            (23, 0.05, Some(6)),
            (24, 0.05, Some(7)),
            (85, 0.05, Some(7)),
            (86, 0.05, Some(8)),
            (1000, 0.05, Some(12)),
            (1, 1e-300, None),
        ];
        for (rows, alpha, want) in cases {
            assert_eq!(
                repeats_to_detect(rows, alpha),
                want,
                "{rows} rows at {alpha}"
            );
        }
    }
}
