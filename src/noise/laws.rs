use super::{NoiseLaw, lane_by_lane};
use crate::lanes::{self, Bits, Real, pcg::Pcg};
use crate::math::elementary::{exp, exp_lanes, ln, ln_lanes, ln_normal};
use crate::math::trig::{cos_of_turns, cos_turns, sin_of_turns, sin_turns};
use crate::rng::{normal, normal_pair, normals_into, open_unit, unit};
use rand::Rng;

/// A uniform draw on [−1, 1).
#[inline(always)]
fn symmetric_unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    2.0 * unit(rng) - 1.0
}

/// Uniform in the d-dimensional Euclidean ball of radius r: the theorem's setting.
///
/// d = 1: uniform on [−r, r]. d = 2: rejection from the square (acceptance π/4).
/// d ≥ 3: draw d + 2 standard normals and keep the first d divided by the norm of all d + 2,
/// which is exactly uniform in the d-ball (Voelker, Gosmann & Stewart 2017) and avoids the
/// power U^(1/d). The d coordinates come first, in pairs (the second of the last pair is
/// not kept for odd d), then one pair for the two extra normals.
#[derive(Debug, Clone, Copy)]
pub struct Ball {
    /// Radius r ≥ 0.
    pub r: f64,
}

impl NoiseLaw for Ball {
    #[inline(always)]
    fn sample_into<R: Rng + ?Sized>(&self, _x: &[f64], rng: &mut R, out: &mut [f64]) {
        match out.len() {
            1 => out[0] = self.r * symmetric_unit(rng),
            2 => loop {
                let (a, b) = (symmetric_unit(rng), symmetric_unit(rng));
                if a * a + b * b <= 1.0 {
                    out[0] = self.r * a;
                    out[1] = self.r * b;
                    break;
                }
            },
            _ => {
                normals_into(rng, out);
                let (e1, e2) = normal_pair(rng);
                let mut s2 = e1 * e1 + e2 * e2;
                for o in out.iter() {
                    s2 += o * o;
                }
                let scale = self.r / s2.sqrt();
                out.iter_mut().for_each(|o| *o *= scale);
            }
        }
    }

    fn bound(&self, _dim: usize) -> Option<f64> {
        Some(self.r)
    }

    const LANES: bool = true;

    fn has_lanes(&self, _dim: usize) -> bool {
        true
    }

    #[inline(always)]
    fn sample_lanes<L: Real>(&self, _x: &[L], rng: &mut Pcg<L::Bits>, out: &mut [L]) {
        let r = L::splat(self.r);
        match out.len() {
            1 => out[0] = r * lanes::symmetric_unit(rng.next_u64()),
            2 => {
                // Each lane redraws (its stream alone advancing) until it accepts.
                let (mut a_kept, mut b_kept) = (L::splat(0.0), L::splat(0.0));
                let mut pending = L::Bits::splat(!0);
                while pending.any() {
                    let a = lanes::symmetric_unit::<L>(rng.next_u64_masked(pending));
                    let b = lanes::symmetric_unit::<L>(rng.next_u64_masked(pending));
                    let accept = pending & (a * a + b * b).le_mask(L::splat(1.0));
                    a_kept = L::select(accept, a, a_kept);
                    b_kept = L::select(accept, b, b_kept);
                    pending = pending ^ accept;
                }
                out[0] = r * a_kept;
                out[1] = r * b_kept;
            }
            _ => {
                lanes::normals_into(rng, out);
                let first = rng.next_u64();
                let (e1, e2) = lanes::normal_pair::<L>(first, rng.next_u64());
                let mut s2 = e1 * e1 + e2 * e2;
                for &o in out.iter() {
                    s2 = s2 + o * o;
                }
                let scale = r / s2.sqrt();
                for o in out.iter_mut() {
                    *o = *o * scale;
                }
            }
        }
    }
}

/// Each coordinate uniform on [−r, r] (the paper's 1-D experiments). ‖ω‖ ≤ r√d.
#[derive(Debug, Clone, Copy)]
pub struct Cube {
    /// Half-width r ≥ 0 of each coordinate's interval.
    pub r: f64,
}

impl NoiseLaw for Cube {
    #[inline(always)]
    fn sample_into<R: Rng + ?Sized>(&self, _x: &[f64], rng: &mut R, out: &mut [f64]) {
        out.iter_mut()
            .for_each(|o| *o = self.r * symmetric_unit(rng));
    }

    fn bound(&self, dim: usize) -> Option<f64> {
        Some(self.r * (dim as f64).sqrt())
    }

    const LANES: bool = true;

    fn has_lanes(&self, _dim: usize) -> bool {
        true
    }

    #[inline(always)]
    fn sample_lanes<L: Real>(&self, _x: &[L], rng: &mut Pcg<L::Bits>, out: &mut [L]) {
        let r = L::splat(self.r);
        for o in out.iter_mut() {
            *o = r * lanes::symmetric_unit(rng.next_u64());
        }
    }
}

/// Uniform on the sphere of radius r.
#[derive(Debug, Clone, Copy)]
pub struct Sphere {
    /// Radius r ≥ 0.
    pub r: f64,
}

impl NoiseLaw for Sphere {
    #[inline(always)]
    fn sample_into<R: Rng + ?Sized>(&self, _x: &[f64], rng: &mut R, out: &mut [f64]) {
        if out.len() == 1 {
            // The top bit of one output: a fair sign.
            out[0] = if rng.next_u64() >> 63 == 1 {
                self.r
            } else {
                -self.r
            };
            return;
        }
        loop {
            normals_into(rng, out);
            let s2: f64 = out.iter().fold(0.0, |s, o| s + o * o);
            // s2 = 0 has probability zero, but a direction must exist.
            if s2 > 0.0 {
                let scale = self.r / s2.sqrt();
                out.iter_mut().for_each(|o| *o *= scale);
                return;
            }
        }
    }

    fn bound(&self, _dim: usize) -> Option<f64> {
        Some(self.r)
    }

    const LANES: bool = true;

    fn has_lanes(&self, _dim: usize) -> bool {
        true
    }

    #[inline(always)]
    fn sample_lanes<L: Real>(&self, x: &[L], rng: &mut Pcg<L::Bits>, out: &mut [L]) {
        let sign = L::Bits::splat(1 << 63);
        if out.len() == 1 {
            // r where the top bit is set, −r (the sign bit flipped) where it is clear.
            let flip = rng.next_u64().shr(63).shl(63) ^ sign;
            out[0] = L::from_bits(L::splat(self.r).to_bits() ^ flip);
            return;
        }
        let before = *rng;
        lanes::normals_into(rng, out);
        let mut s2 = L::splat(0.0);
        for &o in out.iter() {
            s2 = s2 + o * o;
        }
        let redraw = L::splat(0.0).lt_mask(s2) ^ L::Bits::splat(!0);
        if !redraw.any() {
            let scale = L::splat(self.r) / s2.sqrt();
            for o in out.iter_mut() {
                *o = *o * scale;
            }
        } else {
            // s2 = 0 in some lane (no pair of Box–Muller normals is (0, 0), so never): the
            // scalar sampler's redraws, lane by lane, from the same streams.
            *rng = before;
            lane_by_lane(self, x, rng, out);
        }
    }
}

/// N(0, σ² I): unbounded, so outside the theorem's assumptions.
#[derive(Debug, Clone, Copy)]
pub struct Gaussian {
    /// Standard deviation σ ≥ 0 of each coordinate.
    pub sigma: f64,
}

impl NoiseLaw for Gaussian {
    #[inline(always)]
    fn sample_into<R: Rng + ?Sized>(&self, _x: &[f64], rng: &mut R, out: &mut [f64]) {
        normals_into(rng, out);
        out.iter_mut().for_each(|o| *o *= self.sigma);
    }

    fn bound(&self, _dim: usize) -> Option<f64> {
        None
    }

    const LANES: bool = true;

    fn has_lanes(&self, _dim: usize) -> bool {
        true
    }

    #[inline(always)]
    fn sample_lanes<L: Real>(&self, _x: &[L], rng: &mut Pcg<L::Bits>, out: &mut [L]) {
        lanes::normals_into(rng, out);
        let sigma = L::splat(self.sigma);
        for o in out.iter_mut() {
            *o = *o * sigma;
        }
    }
}

/// ω ≡ 0: plain gradient descent.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNoise;

impl NoiseLaw for NoNoise {
    const IS_ZERO: bool = true;

    #[inline(always)]
    fn sample_into<R: Rng + ?Sized>(&self, _x: &[f64], _rng: &mut R, out: &mut [f64]) {
        out.fill(0.0);
    }

    fn bound(&self, _dim: usize) -> Option<f64> {
        Some(0.0)
    }

    const LANES: bool = true;

    fn has_lanes(&self, _dim: usize) -> bool {
        true
    }

    #[inline(always)]
    fn sample_lanes<L: Real>(&self, _x: &[L], _rng: &mut Pcg<L::Bits>, out: &mut [L]) {
        out.fill(L::splat(0.0));
    }
}

/// Gamma(shape, 1) by Marsaglia & Tsang (2000), through the project's own ln and exp;
/// shapes below 1 by Gamma(a) = Gamma(a + 1) · U^(1/a).
fn gamma<R: Rng + ?Sized>(shape: f64, rng: &mut R) -> f64 {
    if shape < 1.0 {
        let g = gamma(shape + 1.0, rng);
        return g * exp(ln(open_unit(rng)) / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = open_unit(rng);
        let x2 = x * x;
        if u < 1.0 - 0.0331 * x2 * x2 || ln(u) < 0.5 * x2 + d * (1.0 - v + ln(v)) {
            return d * v;
        }
    }
}

/// One standard normal per lane: the first of a pair, as [`normal`].
#[inline(always)]
fn normal_lanes<L: Real>(rng: &mut Pcg<L::Bits>) -> L {
    let first = rng.next_u64();
    lanes::normal_pair::<L>(first, rng.next_u64()).0
}

/// b^p = e^(p ln b) in every lane, as [`Stable::draw`] computes it.
#[inline(always)]
fn pow_lanes<L: Real>(b: L, p: f64) -> L {
    exp_lanes(L::splat(p) * ln_lanes(b))
}

/// [`gamma`] in every lane, each lane taking the draws its scalar stream takes: a lane that
/// rejects redraws while the lanes that accepted stand still. (Not recursive, unlike
/// [`gamma`]: the lane code must inline into the instruction set's kernel.)
#[inline(always)]
fn gamma_lanes<L: Real>(shape: f64, rng: &mut Pcg<L::Bits>) -> L {
    if shape < 1.0 {
        let g = gamma_at_least_one::<L>(shape + 1.0, rng);
        let u = lanes::open_unit::<L>(rng.next_u64());
        return g * exp_lanes(ln_normal(u) / L::splat(shape));
    }
    gamma_at_least_one(shape, rng)
}

/// [`gamma_lanes`] for shapes ≥ 1: Marsaglia & Tsang's rejection.
#[inline(always)]
fn gamma_at_least_one<L: Real>(shape: f64, rng: &mut Pcg<L::Bits>) -> L {
    let c = L::splat;
    let d = shape - 1.0 / 3.0;
    let cc = 1.0 / (9.0 * d).sqrt();
    let mut kept = c(0.0);
    let mut pending = L::Bits::splat(!0);
    while pending.any() {
        let first = rng.next_u64_masked(pending);
        let x = lanes::normal_pair::<L>(first, rng.next_u64_masked(pending)).0;
        let v = c(1.0) + c(cc) * x;
        // The lanes with v > 0 draw u; the others redraw x.
        let live = pending & c(0.0).lt_mask(v);
        if !live.any() {
            continue;
        }
        let v = v * v * v;
        let u = lanes::open_unit::<L>(rng.next_u64_masked(live));
        let x2 = x * x;
        let squeeze = u.lt_mask(c(1.0) - c(0.0331) * x2 * x2);
        // ln v only where v > 0 (1 elsewhere: those lanes are not decided here).
        let ln_v = ln_lanes(L::select(live, v, c(1.0)));
        let full = ln_normal(u).lt_mask(c(0.5) * x2 + c(d) * (c(1.0) - v + ln_v));
        let accept = live & (squeeze | full);
        kept = L::select(accept, c(d) * v, kept);
        pending = pending ^ accept;
    }
    kept
}

/// Student's t with ν degrees of freedom and scale s: ω = s Z / √(V/ν), Z standard normal
/// and V ~ χ²_ν = 2 Gamma(ν/2). Per coordinate (each coordinate its own V: independent
/// t_ν coordinates) or spherical (one V for the whole vector: the multivariate t, whose
/// coordinates are t_ν but not independent). Unbounded, so outside the theorem; the
/// variance s² ν/(ν − 2) exists only for ν > 2.
#[derive(Debug, Clone, Copy)]
pub struct StudentT {
    /// Degrees of freedom ν > 0.
    pub nu: f64,
    /// Scale s ≥ 0.
    pub s: f64,
    /// One V for the whole vector (multivariate t).
    pub spherical: bool,
}

impl StudentT {
    /// s / √(V/ν) for a fresh V.
    fn scale<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let v = 2.0 * gamma(0.5 * self.nu, rng);
        self.s / (v / self.nu).sqrt()
    }

    /// [`StudentT::scale`] in every lane.
    #[inline(always)]
    fn scale_lanes<L: Real>(&self, rng: &mut Pcg<L::Bits>) -> L {
        let v = L::splat(2.0) * gamma_lanes::<L>(0.5 * self.nu, rng);
        L::splat(self.s) / (v / L::splat(self.nu)).sqrt()
    }
}

impl NoiseLaw for StudentT {
    fn sample_into<R: Rng + ?Sized>(&self, _x: &[f64], rng: &mut R, out: &mut [f64]) {
        if self.spherical {
            let scale = self.scale(rng);
            out.iter_mut().for_each(|o| *o = scale * normal(rng));
        } else {
            for o in out.iter_mut() {
                let z = normal(rng);
                *o = self.scale(rng) * z;
            }
        }
    }

    fn bound(&self, _dim: usize) -> Option<f64> {
        (self.s == 0.0).then_some(0.0)
    }

    const LANES: bool = true;

    fn has_lanes(&self, _dim: usize) -> bool {
        true
    }

    #[inline(always)]
    fn sample_lanes<L: Real>(&self, _x: &[L], rng: &mut Pcg<L::Bits>, out: &mut [L]) {
        // Loops, not closures: see `lanes::normals_into_masked`.
        if self.spherical {
            let scale = self.scale_lanes::<L>(rng);
            for o in out.iter_mut() {
                *o = scale * normal_lanes(rng);
            }
        } else {
            for o in out.iter_mut() {
                let z = normal_lanes(rng);
                *o = self.scale_lanes::<L>(rng) * z;
            }
        }
    }
}

/// Symmetric α-stable coordinates (independent), scale σ: characteristic function
/// exp(−|σt|^α), so α = 2 is N(0, 2σ²) and α = 1 the Cauchy law of scale σ. Drawn by
/// Chambers, Mallows & Stuck (1976): with V uniform on (−π/2, π/2) and W ~ Exp(1),
/// X = sin(αV) / cos(V)^(1/α) · (cos((1 − α)V) / W)^((1 − α)/α) (α = 1: tan V), through
/// the project's own sine, ln and exp (V in turns, so its reduction is exact). The
/// heavy-tailed SGD noise of Şimşekli, Sagun & Gürbüzbalaban (2019). For α < 2 the
/// variance is infinite (and for α ≤ 1 the mean does not exist): outside the theorem.
#[derive(Debug, Clone, Copy)]
pub struct Stable {
    /// Stability index α ∈ (0, 2].
    pub alpha: f64,
    /// Scale σ ≥ 0.
    pub sigma: f64,
}

impl Stable {
    fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let a = self.alpha;
        // V = π (u − 1/2) is (u − 1/2)/2 turns, in (−1/4, 1/4).
        let q = 0.5 * (open_unit(rng) - 0.5);
        let w = -ln(open_unit(rng));
        if a == 1.0 {
            return sin_of_turns(q) / cos_of_turns(q);
        }
        let pow = |b: f64, p: f64| exp(p * ln(b));
        sin_of_turns(a * q) / pow(cos_of_turns(q), 1.0 / a)
            * pow(cos_of_turns((1.0 - a) * q) / w, (1.0 - a) / a)
    }

    /// [`Stable::draw`] in every lane. The angles are within half a turn, where the
    /// reduction of `sin_of_turns` and `cos_of_turns` leaves them unchanged, so
    /// [`sin_turns`] and [`cos_turns`] give their bits.
    #[inline(always)]
    fn draw_lanes<L: Real>(&self, rng: &mut Pcg<L::Bits>) -> L {
        let (a, c) = (self.alpha, L::splat);
        let q = c(0.5) * (lanes::open_unit::<L>(rng.next_u64()) - c(0.5));
        let w = ln_normal(lanes::open_unit::<L>(rng.next_u64())).neg();
        if a == 1.0 {
            return sin_turns(q) / cos_turns(q);
        }
        sin_turns(c(a) * q) / pow_lanes(cos_turns(q), 1.0 / a)
            * pow_lanes(cos_turns(c(1.0 - a) * q) / w, (1.0 - a) / a)
    }
}

impl NoiseLaw for Stable {
    fn sample_into<R: Rng + ?Sized>(&self, _x: &[f64], rng: &mut R, out: &mut [f64]) {
        for o in out.iter_mut() {
            *o = self.sigma * self.draw(rng);
        }
    }

    fn bound(&self, _dim: usize) -> Option<f64> {
        (self.sigma == 0.0).then_some(0.0)
    }

    const LANES: bool = true;

    fn has_lanes(&self, _dim: usize) -> bool {
        true
    }

    #[inline(always)]
    fn sample_lanes<L: Real>(&self, _x: &[L], rng: &mut Pcg<L::Bits>, out: &mut [L]) {
        for o in out.iter_mut() {
            *o = L::splat(self.sigma) * self.draw_lanes::<L>(rng);
        }
    }
}

/// N(0, diag(σᵢ²)): a σ per coordinate. Unbounded, so outside the theorem.
#[derive(Debug, Clone)]
pub struct AnisotropicGaussian {
    /// σᵢ ≥ 0 for coordinate i (as many as the dimension).
    pub sigma: std::sync::Arc<[f64]>,
}

impl NoiseLaw for AnisotropicGaussian {
    #[inline(always)]
    fn sample_into<R: Rng + ?Sized>(&self, _x: &[f64], rng: &mut R, out: &mut [f64]) {
        normals_into(rng, out);
        for (o, s) in out.iter_mut().zip(self.sigma.iter()) {
            *o *= s;
        }
    }

    fn bound(&self, _dim: usize) -> Option<f64> {
        self.sigma.iter().all(|&s| s == 0.0).then_some(0.0)
    }

    const LANES: bool = true;

    fn has_lanes(&self, _dim: usize) -> bool {
        true
    }

    #[inline(always)]
    fn sample_lanes<L: Real>(&self, _x: &[L], rng: &mut Pcg<L::Bits>, out: &mut [L]) {
        lanes::normals_into(rng, out);
        for (o, &s) in out.iter_mut().zip(self.sigma.iter()) {
            *o = *o * L::splat(s);
        }
    }
}
