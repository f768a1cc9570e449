use super::table::{Outside, Table};

/// The paper's spiky test function (its Figure 3), digitised: 375 points on [−3, 3]
/// (`data/spiky_f.csv`, embedded so that the default experiment needs no file).
const SPIKY_CSV: &str = include_str!("../../data/spiky_f.csv");

/// Curvature of the continuation outside [−3, 3]: f(x) = f(±3) + Q (x² − 9), the growth of
/// the digitised curve's envelope (f(±3) ≈ 1.5 · 9), continuous at ±3, pulling back to 0.
const OUTER_CURVATURE: f64 = 1.5;

/// The paper's 1-D spiky function, served as a [`Table`]: piecewise-linear interpolation
/// of the digitised curve on [−3, 3], continued outside by `f(±3) + 1.5 (x² − 9)`. x* = 0.
pub struct Spiky;

impl Spiky {
    /// The shipped curve as a table.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> Table {
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
        let outside = Outside::Quadratic {
            curvature: OUTER_CURVATURE,
        };
        Table::curve(xs, fs, outside, 0.0).expect("the embedded curve is a valid table")
    }

    /// The shipped curve, parsed once and shared (callers that evaluate it at many points
    /// need not parse the embedded file each time).
    pub fn shared() -> &'static Table {
        static SHARED: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
        SHARED.get_or_init(Spiky::new)
    }
}
