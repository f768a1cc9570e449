//! Two samples compared bin by bin: the exact conditional test of a 2 × k table
//! (Freeman & Halton 1951, Fisher's exact test for k = 2).
//!
//! Given both margins, the first row of the table follows a multivariate hypergeometric
//! law under the null hypothesis that both samples come from one distribution:
//! P(t) = Π_j C(c_j, t_j) / C(N, m), with c_j the column totals, m the first row's total and
//! N the grand total. The p-value sums P(t) over every table t no more likely than the one
//! observed, so the test rejects with probability at most α under the null, whatever the
//! margins. Every table is enumerated (there are at most C(m + k − 1, k − 1)), through the
//! project's own ln and exp, summed in one fixed order: the p-value is reproducible to the
//! bit.

use crate::math::elementary::{exp, ln};

/// The most tables [`exact_two_sample`] enumerates; larger problems are refused.
pub const MAX_TABLES: f64 = 1e8;

/// Relative tolerance under which two tables count as equally likely (R's `fisher.test`
/// uses the same 1 + 10⁻⁷), so that rounding does not split ties.
const TIE: f64 = 1e-7;

/// The exact conditional p-value for "the counts `first` and `second` (two samples over
/// the same k bins) come from one distribution". Errors when the bins differ in number,
/// a sample is empty, or the enumeration would exceed [`MAX_TABLES`] tables.
pub fn exact_two_sample(first: &[u64], second: &[u64]) -> Result<f64, String> {
    if first.len() != second.len() || first.is_empty() {
        return Err(format!(
            "two samples over the same bins are needed, got {} and {} bins",
            first.len(),
            second.len()
        ));
    }
    let columns: Vec<u64> = first.iter().zip(second).map(|(a, b)| a + b).collect();
    let m: u64 = first.iter().sum();
    let total: u64 = columns.iter().sum();
    if m == 0 || m == total {
        return Err("each sample needs at least one observation".into());
    }
    // Enumerate the row with the smaller total (the test is symmetric in the two rows).
    let (row, m) = if m <= total - m {
        (first, m)
    } else {
        (second, total - m)
    };
    let k = columns.len() as f64;
    // C(m + k − 1, k − 1), in floating point: only compared with the bound.
    let tables = (1..columns.len()).fold(1.0, |acc, i| acc * (m as f64 + i as f64) / i as f64);
    if tables > MAX_TABLES {
        return Err(format!(
            "about {tables:.3e} tables for {k} bins and {m} observations: more than {MAX_TABLES:e}"
        ));
    }
    // ln C(c_j, t) for t = 0 ..= min(c_j, m), by ln C(c, t) = ln C(c, t − 1) + ln((c − t + 1)/t).
    let ln_choose: Vec<Vec<f64>> = columns
        .iter()
        .map(|&c| {
            let mut v = vec![0.0];
            for t in 1..=c.min(m) {
                v.push(v[v.len() - 1] + ln((c - t + 1) as f64 / t as f64));
            }
            v
        })
        .collect();
    let ln_all: f64 = (1..=m).fold(0.0, |acc, i| acc + ln((total - m + i) as f64 / i as f64));
    let ln_p = |t: &[u64]| -> f64 {
        t.iter()
            .zip(&ln_choose)
            .map(|(&t, l)| l[t as usize])
            .sum::<f64>()
            - ln_all
    };
    let observed = ln_p(row);
    let mut p = 0.0;
    let mut t = vec![0u64; columns.len()];
    enumerate(&columns, m, 0, &mut t, &mut |t| {
        let l = ln_p(t);
        if l <= observed + TIE {
            p += exp(l);
        }
    });
    Ok(p.min(1.0))
}

/// Calls `visit` on every row t with t_j ≤ c_j and Σ t_j = `left` + Σ_{j < at} t_j, in
/// lexicographic order.
fn enumerate(columns: &[u64], left: u64, at: usize, t: &mut [u64], visit: &mut impl FnMut(&[u64])) {
    if at == columns.len() - 1 {
        if left <= columns[at] {
            t[at] = left;
            visit(t);
        }
        return;
    }
    // What the later columns can still hold.
    let later: u64 = columns[at + 1..].iter().sum();
    let lo = left.saturating_sub(later);
    for v in lo..=left.min(columns[at]) {
        t[at] = v;
        enumerate(columns, left - v, at + 1, t, visit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P(t) by exact integer arithmetic, for small tables.
    fn choose(n: u64, k: u64) -> u128 {
        (0..k).fold(1u128, |acc, i| acc * u128::from(n - i) / u128::from(i + 1))
    }

    fn tables(columns: &[u64], m: u64) -> Vec<Vec<u64>> {
        let mut all = Vec::new();
        let mut t = vec![0; columns.len()];
        enumerate(columns, m, 0, &mut t, &mut |t| all.push(t.to_vec()));
        all
    }

    #[test]
    fn fishers_tea_tasting() {
        // Fisher's lady tasting tea: 3 of 4 cups right; two-sided p = 34/70.
        let p = exact_two_sample(&[3, 1], &[1, 3]).unwrap();
        assert!((p - 34.0 / 70.0).abs() < 1e-12, "{p}");
        // The most likely table has p = 1.
        assert!((exact_two_sample(&[2, 2], &[2, 2]).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn agrees_with_integer_arithmetic_and_keeps_its_level_exactly() {
        for (first, second) in [
            (vec![2u64, 5, 1], vec![6u64, 1, 4]),
            (vec![0, 3, 0, 4], vec![5, 2, 1, 0]),
            (vec![9, 0, 1, 2], vec![1, 1, 1, 1]),
        ] {
            let columns: Vec<u64> = first.iter().zip(&second).map(|(a, b)| a + b).collect();
            let m: u64 = first.iter().sum();
            let all = tables(&columns, m);
            let weight = |t: &[u64]| -> u128 {
                t.iter()
                    .zip(&columns)
                    .map(|(&t, &c)| choose(c, t))
                    .product()
            };
            let total: u128 = all.iter().map(|t| weight(t)).sum();
            assert_eq!(total, choose(columns.iter().sum(), m), "Vandermonde");
            let exact_p = |obs: &[u64]| -> f64 {
                let w = weight(obs);
                all.iter()
                    .map(|t| weight(t))
                    .filter(|&v| v <= w)
                    .sum::<u128>() as f64
                    / total as f64
            };
            let ours = |t: &[u64]| {
                let second: Vec<u64> = t.iter().zip(&columns).map(|(t, c)| c - t).collect();
                exact_two_sample(t, &second).unwrap()
            };
            assert!((ours(&first) - exact_p(&first)).abs() < 1e-12);
            // Under the null, P(p ≤ α) ≤ α for every α: summed over every table exactly.
            for alpha in [0.001, 0.01, 0.05, 0.1, 0.25, 0.5] {
                let size: u128 = all
                    .iter()
                    .filter(|t| ours(t) <= alpha)
                    .map(|t| weight(t))
                    .sum();
                assert!(size as f64 / total as f64 <= alpha, "{first:?} α = {alpha}");
            }
            for t in &all {
                assert!((ours(t) - exact_p(t)).abs() < 1e-12, "{t:?}");
            }
        }
    }

    #[test]
    fn refuses_what_it_cannot_test() {
        assert!(exact_two_sample(&[1, 2], &[1]).is_err());
        assert!(exact_two_sample(&[0, 0], &[1, 2]).is_err());
        assert!(exact_two_sample(&[], &[]).is_err());
        assert!(exact_two_sample(&[5_000; 8], &[5_000; 8]).is_err());
        // Paper-sized: 100 runs against 10,000 over four bins is quick.
        let p = exact_two_sample(&[15, 19, 19, 47], &[1700, 1600, 1650, 5050]).unwrap();
        assert!(p > 0.0 && p <= 1.0);
    }
}
