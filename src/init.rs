//! Initial points x_0: fixed, or uniform in a box or a ball.

use crate::noise::{Ball, NoiseLaw};
use rand::{Rng, RngExt};
use serde::Serialize;

/// How a trajectory's starting point is drawn (from the trajectory's own stream, first).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum InitialPoints {
    /// Every trajectory starts at this point.
    Point {
        /// The point.
        point: Vec<f64>,
    },
    /// Uniform in the box [lo, hi] (per coordinate).
    Box {
        /// Lower corner.
        lo: Vec<f64>,
        /// Upper corner.
        hi: Vec<f64>,
    },
    /// Uniform in the Euclidean ball.
    Ball {
        /// Centre.
        centre: Vec<f64>,
        /// Radius ≥ 0.
        radius: f64,
    },
}

impl InitialPoints {
    /// Draws x_0 into `out`.
    pub fn sample_into<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f64]) {
        match self {
            InitialPoints::Point { point } => out.copy_from_slice(point),
            InitialPoints::Box { lo, hi } => {
                for ((o, lo), hi) in out.iter_mut().zip(lo).zip(hi) {
                    *o = lo + (hi - lo) * rng.random::<f64>();
                }
            }
            InitialPoints::Ball { centre, radius } => {
                Ball { r: *radius }.sample_into(centre, rng, out);
                out.iter_mut().zip(centre).for_each(|(o, c)| *o += c);
            }
        }
    }
}
