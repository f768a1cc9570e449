use super::Objective;
use serde::Serialize;

/// How a table continues outside the region it covers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Outside {
    /// f(c) + Q (‖x‖² − ‖c‖²), c the nearest point of the table: continuous at the border,
    /// growing like Q‖x‖², its gradient 2Q x in the coordinates beyond the border (pointing
    /// back to the origin).
    Quadratic {
        /// Q > 0.
        curvature: f64,
    },
    /// f(c) + Σᵢ ∂ᵢf(c) (xᵢ − cᵢ), c the nearest point of the table: the border cells'
    /// slopes carried on.
    Linear,
}

/// A tabulated landscape: piecewise-linear interpolation of a curve in d = 1, bilinear
/// interpolation on a rectangular grid in d = 2, continued outside by [`Outside`].
///
/// The gradient is that of the piece holding x (the upper piece at a knot). It jumps at
/// knots, so there is no Lipschitz constant and [`Objective::is_smooth`] is false.
#[derive(Debug, Clone)]
pub struct Table {
    /// The knots of each axis, strictly increasing (one axis per dimension).
    axes: Vec<Vec<f64>>,
    /// The values at the knots, row-major (x1 slowest) in d = 2.
    values: Vec<f64>,
    /// d = 1: the slope of each segment.
    slopes: Vec<f64>,
    outside: Outside,
    target: Vec<f64>,
}

/// Why a table was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError(pub String);

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Table {
    /// A curve through the points (`xs[i]`, `fs[i]`), xs strictly increasing, at least two.
    pub fn curve(
        xs: Vec<f64>,
        fs: Vec<f64>,
        outside: Outside,
        target: f64,
    ) -> Result<Table, TableError> {
        if xs.len() < 2 || xs.len() != fs.len() {
            return Err(TableError(format!(
                "a curve needs at least 2 points, got {}",
                xs.len().min(fs.len())
            )));
        }
        if let Some(i) = xs.windows(2).position(|w| w[0] >= w[1]) {
            return Err(TableError(format!(
                "x must increase strictly: point {} (x = {}) does not come after point {} (x = {})",
                i + 2,
                xs[i + 1],
                i + 1,
                xs[i]
            )));
        }
        let slopes = xs
            .windows(2)
            .zip(fs.windows(2))
            .map(|(x, f)| (f[1] - f[0]) / (x[1] - x[0]))
            .collect();
        Ok(Table {
            axes: vec![xs],
            values: fs,
            slopes,
            outside,
            target: vec![target],
        })
    }

    /// A grid from rows (x1, x2, f) in any order: every pair of the distinct x1 and x2
    /// values exactly once, at least two values on each axis.
    pub fn grid(
        rows: &[[f64; 3]],
        outside: Outside,
        target: [f64; 2],
    ) -> Result<Table, TableError> {
        let axis = |k: usize| {
            let mut v: Vec<f64> = rows.iter().map(|r| r[k]).collect();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        };
        let (a, b) = (axis(0), axis(1));
        if a.len() < 2 || b.len() < 2 {
            return Err(TableError(format!(
                "a grid needs at least 2 values of x1 and of x2, got {} and {}",
                a.len(),
                b.len()
            )));
        }
        if rows.len() != a.len() * b.len() {
            return Err(TableError(format!(
                "{} rows for {} values of x1 and {} of x2: a full grid has {} (each pair exactly once)",
                rows.len(),
                a.len(),
                b.len(),
                a.len() * b.len()
            )));
        }
        let mut values = vec![f64::NAN; rows.len()];
        let mut seen = vec![false; rows.len()];
        for (r, row) in rows.iter().enumerate() {
            let i = a.partition_point(|&v| v < row[0]);
            let j = b.partition_point(|&v| v < row[1]);
            let at = i * b.len() + j;
            if seen[at] {
                return Err(TableError(format!(
                    "row {} repeats the point ({}, {})",
                    r + 1,
                    row[0],
                    row[1]
                )));
            }
            seen[at] = true;
            values[at] = row[2];
        }
        Ok(Table {
            axes: vec![a, b],
            values,
            slopes: Vec::new(),
            outside,
            target: target.to_vec(),
        })
    }

    /// The knots of the first axis.
    pub fn knots(&self) -> &[f64] {
        &self.axes[0]
    }

    /// How the table continues outside.
    pub fn outside(&self) -> Outside {
        self.outside
    }

    /// f convolved with the uniform law on [−a, a] at x, for a curve (d = 1):
    /// (1/2a) ∫ f over [x − a, x + a], exact up to rounding (the trapezoid rule is exact on
    /// each linear piece, the quadratic or linear continuation is integrated in closed
    /// form); f(x) itself for a = 0. `None` for a grid, or a negative or non-finite a or x.
    pub fn smoothed(&self, x: f64, a: f64) -> Option<f64> {
        if self.axes.len() != 1 || !(a >= 0.0 && a.is_finite() && x.is_finite()) {
            return None;
        }
        if a == 0.0 {
            return Some(self.value_1d(x));
        }
        Some(self.integral(x - a, x + a) / (2.0 * a))
    }

    /// ∫ f over [p, q] (p ≤ q) of a curve, summed piece by piece from left to right.
    fn integral(&self, p: f64, q: f64) -> f64 {
        let (xs, lo, hi) = (&self.axes[0], self.lo(), self.hi());
        let mut total = 0.0;
        // Left of the table, [p, min(q, lo)].
        if p < lo {
            total += self.outside_integral(p, q.min(lo), lo, self.values[0], self.slopes[0]);
        }
        // The pieces of the table that meet [p, q].
        let (from, to) = (p.max(lo), q.min(hi));
        if from < to {
            let mut i = Self::segment(xs, from);
            while i + 1 < xs.len() && xs[i] < to {
                let (u, v) = (from.max(xs[i]), to.min(xs[i + 1]));
                if u < v {
                    total += (v - u) * (self.value_1d(u) + self.value_1d(v)) / 2.0;
                }
                i += 1;
            }
        }
        // Right of the table, [max(p, hi), q].
        if q > hi {
            let n = self.values.len();
            total +=
                self.outside_integral(p.max(hi), q, hi, self.values[n - 1], self.slopes[n - 2]);
        }
        total
    }

    /// ∫ over [u, v] of the continuation from the border point `c` (value `fc`, border
    /// slope `slope`).
    fn outside_integral(&self, u: f64, v: f64, c: f64, fc: f64, slope: f64) -> f64 {
        match self.outside {
            // f(c) + Q (t² − c²): (f(c) − Q c²)(v − u) + Q (v³ − u³)/3.
            Outside::Quadratic { curvature } => {
                (fc - curvature * c * c) * (v - u) + curvature * (v * v * v - u * u * u) / 3.0
            }
            // Linear: the trapezoid rule is exact.
            Outside::Linear => (v - u) * (2.0 * fc + slope * (u - c) + slope * (v - c)) / 2.0,
        }
    }

    fn lo(&self) -> f64 {
        self.axes[0][0]
    }

    fn hi(&self) -> f64 {
        let xs = &self.axes[0];
        xs[xs.len() - 1]
    }

    /// Index i of the piece [k_i, k_{i+1}) of `axis` that holds x (x inside the axis).
    #[inline]
    fn segment(axis: &[f64], x: f64) -> usize {
        let i = axis.partition_point(|&k| k <= x);
        i.saturating_sub(1).min(axis.len() - 2)
    }

    fn value_1d(&self, x: f64) -> f64 {
        let (xs, fs) = (&self.axes[0], &self.values);
        let (lo, hi) = (self.lo(), self.hi());
        let n = fs.len();
        match self.outside {
            Outside::Quadratic { curvature } if x < lo => fs[0] + curvature * (x * x - lo * lo),
            Outside::Quadratic { curvature } if x > hi => fs[n - 1] + curvature * (x * x - hi * hi),
            Outside::Linear if x < lo => fs[0] + self.slopes[0] * (x - lo),
            Outside::Linear if x > hi => fs[n - 1] + self.slopes[n - 2] * (x - hi),
            _ if x.is_nan() => f64::NAN,
            _ => {
                let i = Self::segment(xs, x);
                fs[i] + self.slopes[i] * (x - xs[i])
            }
        }
    }

    fn grad_1d(&self, x: f64) -> f64 {
        if x >= self.lo() && x <= self.hi() {
            return self.slopes[Self::segment(&self.axes[0], x)];
        }
        // Outside, and for NaN (which then propagates and is reported as divergence).
        match self.outside {
            Outside::Quadratic { curvature } => 2.0 * curvature * x,
            Outside::Linear if x.is_nan() => f64::NAN,
            Outside::Linear if x < self.lo() => self.slopes[0],
            Outside::Linear => self.slopes[self.slopes.len() - 1],
        }
    }

    /// Bilinear interpolation at x: the value at the nearest point c of the grid and the
    /// partial derivatives there, and for each coordinate whether it was clamped. Also the
    /// cross derivative ∂²f/∂x1∂x2 of the cell.
    fn bilinear(&self, x: &[f64]) -> (f64, [f64; 2], [bool; 2], [f64; 2], f64) {
        let (a, b) = (&self.axes[0], &self.axes[1]);
        let c = [
            x[0].clamp(a[0], a[a.len() - 1]),
            x[1].clamp(b[0], b[b.len() - 1]),
        ];
        let clamped = [c[0] != x[0], c[1] != x[1]];
        let (i, j) = (Self::segment(a, c[0]), Self::segment(b, c[1]));
        let (h1, h2) = (a[i + 1] - a[i], b[j + 1] - b[j]);
        let (t, u) = ((c[0] - a[i]) / h1, (c[1] - b[j]) / h2);
        let m = b.len();
        let (f00, f01) = (self.values[i * m + j], self.values[i * m + j + 1]);
        let (f10, f11) = (
            self.values[(i + 1) * m + j],
            self.values[(i + 1) * m + j + 1],
        );
        let value = (1.0 - t) * ((1.0 - u) * f00 + u * f01) + t * ((1.0 - u) * f10 + u * f11);
        let g1 = ((1.0 - u) * (f10 - f00) + u * (f11 - f01)) / h1;
        let g2 = ((1.0 - t) * (f01 - f00) + t * (f11 - f10)) / h2;
        let cross = (f11 - f10 - f01 + f00) / (h1 * h2);
        (value, [g1, g2], clamped, c, cross)
    }

    fn value_2d(&self, x: &[f64]) -> f64 {
        if x.iter().any(|v| v.is_nan()) {
            return f64::NAN;
        }
        let (value, g, clamped, c, _) = self.bilinear(x);
        match self.outside {
            Outside::Quadratic { curvature } => {
                let beyond: f64 = (0..2)
                    .filter(|&k| clamped[k])
                    .map(|k| x[k] * x[k] - c[k] * c[k])
                    .sum();
                value + curvature * beyond
            }
            Outside::Linear => {
                value
                    + (0..2)
                        .filter(|&k| clamped[k])
                        .map(|k| g[k] * (x[k] - c[k]))
                        .sum::<f64>()
            }
        }
    }

    fn grad_2d(&self, x: &[f64], grad: &mut [f64]) {
        if x.iter().any(|v| v.is_nan()) {
            grad.fill(f64::NAN);
            return;
        }
        let (_, g, clamped, c, cross) = self.bilinear(x);
        for k in 0..2 {
            let other = 1 - k;
            grad[k] = match self.outside {
                Outside::Quadratic { curvature } if clamped[k] => 2.0 * curvature * x[k],
                Outside::Quadratic { .. } => g[k],
                // ∂/∂x_k of f(c) + Σ g_i(c)(x_i − c_i): g_k, plus the change of the other
                // coordinate's slope with c_k when that coordinate is beyond the border.
                Outside::Linear if clamped[k] => g[k],
                Outside::Linear if clamped[other] => g[k] + cross * (x[other] - c[other]),
                Outside::Linear => g[k],
            };
        }
    }
}

impl Objective for Table {
    // A table's gradient is a lookup: the noise, drawn in lanes, is most of a step.
    const RUNS_IN_LANES: bool = true;

    fn dim(&self) -> usize {
        self.axes.len()
    }

    fn value(&self, x: &[f64]) -> f64 {
        if self.axes.len() == 1 {
            self.value_1d(x[0])
        } else {
            self.value_2d(x)
        }
    }

    #[inline]
    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        if self.axes.len() == 1 {
            grad[0] = self.grad_1d(x[0]);
        } else {
            self.grad_2d(x, grad);
        }
    }

    fn target(&self) -> &[f64] {
        &self.target
    }

    fn lipschitz(&self) -> Option<f64> {
        None
    }

    fn is_smooth(&self) -> bool {
        false
    }
}
