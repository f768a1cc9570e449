use super::Objective;

/// The paper's spiky test function (its Figure 3), digitised: 375 points on [−3, 3].
const SPIKY_CSV: &str = include_str!("spiky_f.csv");

/// Curvature of the continuation outside [−3, 3]: f(x) = f(±3) + Q (x² − 9), the growth of
/// the digitised curve's envelope (f(±3) ≈ 1.5 · 9), continuous at ±3, pulling back to 0.
const OUTER_CURVATURE: f64 = 1.5;

/// The paper's 1-D spiky function: piecewise-linear interpolation of the digitised curve on
/// [−3, 3], continued outside by `f(±3) + 1.5 (x² − 9)`. x* = 0.
///
/// The gradient is the slope of the segment containing x (the right-hand segment at a knot).
/// ∇f is not Lipschitz (it jumps at every knot), so [`Objective::lipschitz`] is `None`.
#[derive(Debug, Clone)]
pub struct Spiky {
    xs: Vec<f64>,
    fs: Vec<f64>,
    slopes: Vec<f64>,
    target: [f64; 1],
}

impl Default for Spiky {
    fn default() -> Self {
        Self::new()
    }
}

impl Spiky {
    /// The built-in digitised curve.
    pub fn new() -> Self {
        let (xs, fs): (Vec<f64>, Vec<f64>) = SPIKY_CSV
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let (x, f) = l
                    .split_once(',')
                    .expect("embedded spiky_f.csv has two columns");
                (
                    x.trim().parse::<f64>().unwrap(),
                    f.trim().parse::<f64>().unwrap(),
                )
            })
            .unzip();
        let slopes = xs
            .windows(2)
            .zip(fs.windows(2))
            .map(|(x, f)| (f[1] - f[0]) / (x[1] - x[0]))
            .collect();
        Self {
            xs,
            fs,
            slopes,
            target: [0.0],
        }
    }

    /// The built-in curve, parsed once and shared (callers that evaluate it at many points
    /// need not parse the embedded file each time).
    pub fn shared() -> &'static Spiky {
        static SHARED: std::sync::OnceLock<Spiky> = std::sync::OnceLock::new();
        SHARED.get_or_init(Spiky::new)
    }

    /// The knots of the interpolation (x values of the digitised points).
    pub fn knots(&self) -> &[f64] {
        &self.xs
    }

    fn lo(&self) -> f64 {
        self.xs[0]
    }

    fn hi(&self) -> f64 {
        self.xs[self.xs.len() - 1]
    }

    /// Index i of the segment [x_i, x_{i+1}) that holds x (x inside [lo, hi]).
    #[inline]
    fn segment(&self, x: f64) -> usize {
        let i = self.xs.partition_point(|&k| k <= x);
        i.saturating_sub(1).min(self.slopes.len() - 1)
    }

    fn value_1d(&self, x: f64) -> f64 {
        if x < self.lo() {
            self.fs[0] + OUTER_CURVATURE * (x * x - self.lo() * self.lo())
        } else if x > self.hi() {
            self.fs[self.fs.len() - 1] + OUTER_CURVATURE * (x * x - self.hi() * self.hi())
        } else if x.is_nan() {
            f64::NAN
        } else {
            let i = self.segment(x);
            self.fs[i] + self.slopes[i] * (x - self.xs[i])
        }
    }
}

impl Objective for Spiky {
    fn dim(&self) -> usize {
        1
    }

    fn value(&self, x: &[f64]) -> f64 {
        self.value_1d(x[0])
    }

    #[inline]
    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        let x = x[0];
        grad[0] = if x >= self.lo() && x <= self.hi() {
            self.slopes[self.segment(x)]
        } else {
            // Outside, and for NaN (which then propagates and is reported as divergence).
            2.0 * OUTER_CURVATURE * x
        };
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
