//! How many trajectories an interval needs: the planning table of `sgd-escape plan`.

use super::binomial::{Method, Side, interval};
use super::sequential::BetaBinomialCs;

/// Half-width of the two-sided interval at k = round(p·n).
fn half_width(method: Option<Method>, p: f64, n: u64, alpha: f64) -> f64 {
    let k = ((p * n as f64).round() as u64).min(n);
    match method {
        Some(m) => interval(m, k, n, alpha, Side::Two).half_width(),
        None => BetaBinomialCs::default().interval(k, n, alpha).half_width(),
    }
}

/// Checks a planning request before [`trajectories_needed`]: the half-width ε in (0, ½)
/// and the proportion p in [0, 1]. A refusal is the argument's name (`"epsilon"` or `"p"`)
/// and the reason, for the caller to spell the name its own way (`--epsilon` on the command
/// line), so the command line and the Python package refuse alike.
pub fn check_request(epsilon: f64, p: f64) -> Result<(), (&'static str, String)> {
    if !(epsilon > 0.0 && epsilon < 0.5) {
        return Err(("epsilon", format!("must lie in (0, 0.5), got {epsilon}")));
    }
    if !(0.0..=1.0).contains(&p) {
        return Err(("p", format!("must lie in [0, 1], got {p}")));
    }
    Ok(())
}

/// Smallest n (found by doubling then bisection; half-widths are not exactly monotone in n
/// because k is rounded, so treat the answer as ±1%) whose two-sided interval at level
/// 1 − α has half-width ≤ ε when the true proportion is `p`. `method = None` plans for the
/// anytime-valid confidence sequence instead.
pub fn trajectories_needed(method: Option<Method>, eps: f64, alpha: f64, p: f64) -> u64 {
    assert!(eps > 0.0 && eps < 1.0 && alpha > 0.0 && alpha < 1.0 && (0.0..=1.0).contains(&p));
    let mut hi = 1u64;
    while half_width(method, p, hi, alpha) > eps {
        if hi > 1u64 << 50 {
            return u64::MAX;
        }
        hi *= 2;
    }
    let mut lo = hi / 2; // fails (or is 0)
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if half_width(method, p, mid, alpha) > eps {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// The Chernoff–Hoeffding (Okamoto 1959) count used by statistical model checkers:
/// n ≥ ln(2/α) / (2ε²) guarantees P(|p̂ − p| ≥ ε) ≤ α for every p.
pub fn okamoto(eps: f64, alpha: f64) -> u64 {
    ((2.0 / alpha).ln() / (2.0 * eps * eps)).ceil() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planning_counts() {
        // Wald-type methods need about z² p(1−p)/ε² = 9604 at ε = 0.01, p = ½, 95%.
        let w = trajectories_needed(Some(Method::Wilson), 0.01, 0.05, 0.5);
        assert!((9500..=9700).contains(&w), "{w}");
        // Hoeffding's interval is the Okamoto bound.
        let h = trajectories_needed(Some(Method::Hoeffding), 0.01, 0.05, 0.5);
        assert!(h.abs_diff(okamoto(0.01, 0.05)) <= 1, "{h}");
        assert_eq!(okamoto(0.01, 0.05), 18445);
        // Exact intervals cost a little more than Wilson, far less than Okamoto; small p
        // costs less than p = ½.
        let cp = trajectories_needed(Some(Method::ClopperPearson), 0.01, 0.05, 0.5);
        assert!(cp >= w && cp < h);
        assert!(trajectories_needed(Some(Method::Wilson), 0.01, 0.05, 0.1) < w);
        // The confidence sequence pays for validity at every n.
        assert!(trajectories_needed(None, 0.01, 0.05, 0.5) > cp);
    }

    #[test]
    fn requests_out_of_range_are_refused_by_name() {
        assert_eq!(check_request(0.01, 0.5), Ok(()));
        assert_eq!(check_request(0.49, 0.0), Ok(()));
        assert_eq!(check_request(1e-9, 1.0), Ok(()));
        for eps in [0.0, 0.5, -0.1, f64::NAN, f64::INFINITY] {
            let (name, reason) = check_request(eps, 0.5).unwrap_err();
            assert_eq!(name, "epsilon");
            assert!(reason.starts_with("must lie in (0, 0.5)"), "{reason}");
        }
        for p in [-0.01, 1.01, f64::NAN] {
            let (name, reason) = check_request(0.01, p).unwrap_err();
            assert_eq!(name, "p");
            assert!(reason.starts_with("must lie in [0, 1]"), "{reason}");
        }
    }
}
