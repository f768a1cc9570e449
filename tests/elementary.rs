//! The project's own elementary functions meet their stated error bounds, measured against
//! a 256-bit reference (astro-float), over their whole ranges: the distance in ulp from the
//! correctly rounded result, at a few thousand points per range (seeded, spread evenly in
//! the exponent) and at the edges.
//!
//! Stated bounds (also in the doc comments), as measured here: exp within 1 ulp; ln and
//! ln_1p within 2; sin_turns, cos_turns and sin_of_turns within 2 ulp of the true sin(2πu)
//! and cos(2πu), relative, at every u (also next to their zeros, since the reduction in
//! turns is exact), cos_of_turns within 3 (its quarter-turn shift may round);
//! cos_sin_of_bits (Box–Muller's direction) within 2.

use astro_float::{BigFloat, Consts, RoundingMode};
use sgd_escape::math::elementary::{exp, exp_in_range, ln, ln_1p, ln_normal};
use sgd_escape::math::trig::{
    FAST_LIMIT, cos_of_turns, cos_sin_of_bits, cos_turns, sin_of_turns, sin_turns,
};
use sgd_escape::rng::splitmix64;

const P: usize = 256;
const RM: RoundingMode = RoundingMode::ToEven;

/// A reference sine or cosine rounded to the nearest double, or 0 where the true value is
/// exactly 0 (the reference sees it through a 256-bit π as a tiny nonzero number).
fn nearest_trig(v: &BigFloat, exact_zero: bool) -> f64 {
    if exact_zero { 0.0 } else { nearest(v) }
}

/// sin(2πu) = 0 exactly: 2u is an integer.
fn sin_zero(u: f64) -> bool {
    (2.0 * u).fract() == 0.0
}

/// cos(2πu) = 0 exactly: 4u is an odd integer (exact: scaling by 4 is).
fn cos_zero(u: f64) -> bool {
    (4.0 * u).fract() == 0.0 && (4.0 * u) % 2.0 != 0.0
}

/// A reference value rounded to the nearest double.
fn nearest(v: &BigFloat) -> f64 {
    if v.is_zero() {
        return 0.0;
    }
    v.to_string().parse().expect("a decimal")
}

/// The distance in ulp between `got` and the correctly rounded `want`.
fn ulps(got: f64, want: f64) -> u64 {
    if got == want {
        return 0;
    }
    assert_eq!(
        got.is_sign_negative(),
        want.is_sign_negative(),
        "{got} vs {want}"
    );
    (got.abs().to_bits() as i64 - want.abs().to_bits() as i64).unsigned_abs()
}

/// `n` points log-uniform in |x| ∈ [lo, hi] (both positive), seeded.
fn log_points(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f64> {
    (0..n as u64)
        .map(|i| {
            let u = (splitmix64(seed ^ i) >> 11) as f64 / (1u64 << 53) as f64;
            let (a, b) = (lo.log2(), hi.log2());
            2f64.powf(a + u * (b - a)).clamp(lo, hi)
        })
        .collect()
}

struct Worst {
    name: &'static str,
    ulps: u64,
    at: f64,
}

impl Worst {
    fn new(name: &'static str) -> Self {
        Worst {
            name,
            ulps: 0,
            at: f64::NAN,
        }
    }
    fn see(&mut self, x: f64, got: f64, want: f64) {
        let u = ulps(got, want);
        if u > self.ulps {
            (self.ulps, self.at) = (u, x);
        }
    }
    fn check(&self, bound: u64) {
        eprintln!("{}: worst {} ulp at {:e}", self.name, self.ulps, self.at);
        assert!(
            self.ulps <= bound,
            "{}: {} ulp at {:e} (bound {bound})",
            self.name,
            self.ulps,
            self.at
        );
    }
}

#[test]
fn exp_ln_and_ln_1p_within_their_bounds() {
    let mut cc = Consts::new().expect("constants");
    // A double as a big float; subnormals through an exact scaling, since the conversion
    // does not read them right.
    let big = |x: f64| {
        if x != 0.0 && x.abs() < f64::MIN_POSITIVE {
            let scale = BigFloat::from_f64(2f64.powi(54), P);
            BigFloat::from_f64(x * 2f64.powi(54), P).div(&scale, P, RM)
        } else {
            BigFloat::from_f64(x, P)
        }
    };

    let mut worst = Worst::new("exp");
    let mut xs = log_points(3000, 1e-300, 709.78, 1);
    xs.extend(log_points(3000, 1e-300, 708.39, 2).iter().map(|x| -x));
    xs.extend([0.5f64.ln(), 1.0, -1.0, 709.78, -708.39, 1e-8, -1e-8]);
    for &x in &xs {
        let got = exp(x);
        worst.see(x, got, nearest(&big(x).exp(P, RM, &mut cc)));
        if x.abs() <= 708.0 {
            assert_eq!(exp_in_range(x).to_bits(), got.to_bits());
        }
    }
    worst.check(1);

    let mut worst = Worst::new("ln");
    let mut xs = log_points(5000, f64::MIN_POSITIVE, f64::MAX, 3);
    xs.extend(log_points(1000, 1e-16, 0.3, 4).iter().map(|d| 1.0 + d));
    xs.extend(log_points(1000, 1e-16, 0.3, 5).iter().map(|d| 1.0 - d));
    xs.extend([5e-324, 1e-310, 2.0f64.sqrt(), 0.5f64.sqrt(), 2.0, 0.5]);
    for &x in &xs {
        let got = ln(x);
        worst.see(x, got, nearest(&big(x).ln(P, RM, &mut cc)));
        if x >= f64::MIN_POSITIVE {
            assert_eq!(ln_normal(x).to_bits(), got.to_bits());
        }
    }
    worst.check(2);

    let mut worst = Worst::new("ln_1p");
    let mut xs = log_points(3000, 1e-300, 1e300, 6);
    xs.extend(log_points(2000, 1e-300, 0.999, 7).iter().map(|x| -x));
    for &x in &xs {
        // 1 + x would round at 256 bits for tiny x: there ln(1 + x) = x − x²/2 + x³/3 − …
        // to far below an ulp.
        let reference = if x.abs() < 1e-20 {
            let (b, b2) = (big(x), big(x).mul(&big(x), P, RM));
            let b3 = b2.mul(&b, P, RM);
            let half = b2.div(&big(2.0), P, RM);
            b.sub(&half, P, RM).add(&b3.div(&big(3.0), P, RM), P, RM)
        } else {
            big(x).add(&big(1.0), P, RM).ln(P, RM, &mut cc)
        };
        worst.see(x, ln_1p(x), nearest(&reference));
    }
    worst.check(2);
}

#[test]
fn sine_and_cosine_of_turns_within_their_bounds() {
    let mut cc = Consts::new().expect("constants");
    let tau = cc.pi(P, RM).mul(&BigFloat::from_f64(2.0, P), P, RM);
    let angle = |u: f64| tau.mul(&BigFloat::from_f64(u, P), P, RM);

    // The turn fractions of the normal sampler: multiples of 2^−53 in [−1/2, 1/2), near the
    // zeros and extremes of both functions too.
    let mut us: Vec<f64> = (0..4000u64)
        .map(|i| (splitmix64(i) >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
        .collect();
    for q in [0.0, 0.25, 0.5, -0.25, -0.5] {
        for k in 1..40 {
            let tiny = k as f64 * (1u64 << (k % 30)) as f64 / (1u64 << 53) as f64;
            us.extend(
                [q + tiny, q - tiny]
                    .into_iter()
                    .filter(|u| (-0.5..0.5).contains(u)),
            );
        }
    }
    let (mut s, mut c) = (Worst::new("sin_turns"), Worst::new("cos_turns"));
    for &u in &us {
        let a = angle(u);
        s.see(
            u,
            sin_turns(u),
            nearest_trig(&a.sin(P, RM, &mut cc), sin_zero(u)),
        );
        c.see(
            u,
            cos_turns(u),
            nearest_trig(&a.cos(P, RM, &mut cc), cos_zero(u)),
        );
    }
    s.check(2);
    c.check(2);

    // Any turn count: the reduction is exact, so the bound holds up to the fast limit and,
    // through sin_of_turns / cos_of_turns, beyond.
    // Beyond 2^53 every double is an even integer (sin 0, cos 1); the 256-bit reference
    // could not reduce those angles anyway.
    for u in log_points(500, 9007199254740992.0, 1e300, 9) {
        assert_eq!((sin_of_turns(u), cos_of_turns(u)), (0.0, 1.0), "{u}");
    }
    let mut us = log_points(3000, 1e-300, FAST_LIMIT, 8);
    us.extend(log_points(500, FAST_LIMIT, 9007199254740992.0, 9));
    let (mut s, mut c) = (Worst::new("sin_of_turns"), Worst::new("cos_of_turns"));
    for &u in &us {
        for u in [u, -u] {
            let a = angle(u);
            let want = nearest_trig(&a.sin(P, RM, &mut cc), sin_zero(u));
            s.see(u, sin_of_turns(u), want);
            if u.abs() < FAST_LIMIT {
                assert_eq!(sin_turns(u).to_bits(), sin_of_turns(u).to_bits(), "{u}");
            }
            c.see(
                u,
                cos_of_turns(u),
                nearest_trig(&a.cos(P, RM, &mut cc), cos_zero(u)),
            );
        }
    }
    s.check(2);
    c.check(3);
}

#[test]
fn cosine_and_sine_of_a_random_angle_within_two_ulp() {
    let mut cc = Consts::new().expect("constants");
    let tau = cc.pi(P, RM).mul(&BigFloat::from_f64(2.0, P), P, RM);
    // The angle k / 2^53 turns of the draw's top 53 bits, exactly (k < 2^53 is a double).
    let turn = |bits: u64| (bits >> 11) as f64 / (1u64 << 53) as f64;
    let mut draws: Vec<u64> = (0..6000u64).map(splitmix64).collect();
    // Next to every zero, extreme and quarter-turn boundary of the reduction (k near a
    // multiple of 2^50), from both sides, and the ends k = 0 and k = 2^53 − 1.
    for eighth in 0..=8u64 {
        for k in 0..40u64 {
            let tiny = (k + 1) << (k % 48);
            for at in [
                (eighth << 50).wrapping_add(tiny),
                (eighth << 50).wrapping_sub(tiny),
            ] {
                if at < 1 << 53 {
                    draws.push(at << 11 | (k & 0x7ff));
                }
            }
        }
    }
    draws.extend([0, u64::MAX, 1 << 11, (1u64 << 61) - 1]);
    let (mut c, mut s) = (
        Worst::new("cos (Box–Muller)"),
        Worst::new("sin (Box–Muller)"),
    );
    for &bits in &draws {
        let u = turn(bits);
        let a = tau.mul(&BigFloat::from_f64(u, P), P, RM);
        let (cos, sin) = cos_sin_of_bits::<f64>(bits);
        c.see(u, cos, nearest_trig(&a.cos(P, RM, &mut cc), cos_zero(u)));
        s.see(u, sin, nearest_trig(&a.sin(P, RM, &mut cc), sin_zero(u)));
    }
    c.check(2);
    s.check(2);
}
