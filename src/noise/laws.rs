use super::NoiseLaw;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

/// A uniform draw on [−1, 1).
#[inline(always)]
fn symmetric_unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    2.0 * rng.random::<f64>() - 1.0
}

#[inline(always)]
fn normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

/// Uniform in the d-dimensional Euclidean ball of radius r: the theorem's setting.
///
/// d = 1: uniform on [−r, r]. d = 2: rejection from the square (acceptance π/4).
/// d ≥ 3: draw d + 2 standard normals and keep the first d divided by the norm of all d + 2,
/// which is exactly uniform in the d-ball (Voelker, Gosmann & Stewart 2017) and avoids the
/// power U^(1/d).
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
                let (e1, e2) = (normal(rng), normal(rng));
                let mut s2 = e1 * e1 + e2 * e2;
                for o in out.iter_mut() {
                    let z = normal(rng);
                    s2 += z * z;
                    *o = z;
                }
                let scale = self.r / s2.sqrt();
                out.iter_mut().for_each(|o| *o *= scale);
            }
        }
    }

    fn bound(&self, _dim: usize) -> Option<f64> {
        Some(self.r)
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
            out[0] = if rng.random::<bool>() {
                self.r
            } else {
                -self.r
            };
            return;
        }
        loop {
            let mut s2 = 0.0;
            for o in out.iter_mut() {
                let z = normal(rng);
                s2 += z * z;
                *o = z;
            }
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
        out.iter_mut().for_each(|o| *o = self.sigma * normal(rng));
    }

    fn bound(&self, _dim: usize) -> Option<f64> {
        None
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
}
