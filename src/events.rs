//! Events recorded while a trajectory runs, in memory independent of T.
//!
//! Events are measured on y_t = x_t − η∇f(x_t) (the theorem's sequence; the default for
//! closed-form landscapes) or on x_t (`events.on = "x"`, the default for finite sums, where
//! y_t costs a full gradient), for t = 0, …, T, at distance ‖y_t − x*‖ or ‖x_t − x*‖
//! (compared squared, no square root in the loop). Below, y stands for whichever is measured.

use serde::Serialize;

/// Which events to record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventSpec {
    /// ρ_reach: "reached" at the first t with ‖y_t − x*‖ ≤ ρ_reach.
    pub reach_radius: f64,
    /// The stay event, when asked for.
    pub stay: Option<StaySpec>,
    /// Increasing times t at which ‖y_t − x*‖² is kept (for drift curves and fixed-time
    /// events such as the theorem's "inside the reach ball at T1"). Usually empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<u64>,
    /// Reach and stay are measured only at multiples of k and at T (k = 1: every step).
    /// A hitting time is then the first multiple of k at or after the true one (or T), and
    /// P(stay) checked every k steps can only overstate the true P(stay).
    #[serde(skip_serializing_if = "is_one")]
    pub every: u64,
    /// Which sequence the events are measured on.
    #[serde(skip_serializing_if = "Measure::is_y")]
    pub on: Measure,
}

/// The sequence events are measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    /// x_t, the iterates SGD computes.
    X,
    /// y_t = x_t − η∇f(x_t), the sequence Theorem 1 is about.
    #[default]
    Y,
}

impl Measure {
    fn is_y(&self) -> bool {
        *self == Measure::Y
    }

    /// "x" or "y".
    pub fn name(self) -> &'static str {
        match self {
            Measure::X => "x",
            Measure::Y => "y",
        }
    }
}

fn is_one(k: &u64) -> bool {
    *k == 1
}

/// "Stayed": ‖y_t − x*‖ ≤ ρ_stay for every t in [from, to] (both ends inclusive).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaySpec {
    /// ρ_stay.
    pub radius: f64,
    /// T_a.
    pub from: u64,
    /// T_b ≤ T.
    pub to: u64,
}

const NEVER: u64 = u64::MAX;

/// Running state of the events of one trajectory.
#[derive(Debug, Clone)]
pub struct Recorder {
    reach2: f64,
    stay2: f64,
    stay_from: u64,
    every: u64,
    last: u64,
    first_hit: u64,
    first_exit: u64,
    snapshot_times: Vec<u64>,
    next_snapshot: u64,
    snapshots: Vec<f64>,
}

impl Recorder {
    /// A fresh recorder for `spec` in a run of T = `last` steps (t = T is always measured).
    pub fn new(spec: &EventSpec, last: u64) -> Self {
        let (stay2, stay_from) = match &spec.stay {
            Some(s) => (s.radius * s.radius, s.from),
            None => (f64::INFINITY, NEVER),
        };
        Self {
            reach2: spec.reach_radius * spec.reach_radius,
            stay2,
            stay_from,
            every: spec.every.max(1),
            last,
            first_hit: NEVER,
            first_exit: NEVER,
            next_snapshot: spec.snapshots.first().copied().unwrap_or(NEVER),
            snapshot_times: spec.snapshots.clone(),
            snapshots: Vec::with_capacity(spec.snapshots.len()),
        }
    }

    /// Records ‖y_t − x*‖² = `dist2` at time t (called once per t, in increasing order).
    #[inline(always)]
    pub fn observe(&mut self, t: u64, dist2: f64) {
        // Whether t is measured is asked last, only when an event would happen at t: the
        // common path costs nothing for `every` = 1.
        if self.first_hit == NEVER && dist2 <= self.reach2 && self.measured(t) {
            self.first_hit = t;
        }
        if t >= self.stay_from && self.first_exit == NEVER && dist2 > self.stay2 && self.measured(t)
        {
            self.first_exit = t;
        }
        if t == self.next_snapshot {
            self.snapshots.push(dist2);
            self.next_snapshot = self
                .snapshot_times
                .get(self.snapshots.len())
                .copied()
                .unwrap_or(NEVER);
        }
    }

    /// Whether anything is recorded at t (a measured time or a snapshot): where an oracle
    /// that does not need y_t computes it for events on y.
    #[inline(always)]
    pub fn wants(&self, t: u64) -> bool {
        self.measured(t) || t == self.next_snapshot
    }

    /// Whether reach and stay are measured at t: every k-th step and at T.
    #[inline(always)]
    fn measured(&self, t: u64) -> bool {
        self.every == 1 || t.is_multiple_of(self.every) || t == self.last
    }

    /// ‖y_t − x*‖² at the snapshot times, NaN for times never reached (divergence).
    pub fn take_snapshots(&mut self) -> Vec<f64> {
        let mut v = std::mem::take(&mut self.snapshots);
        v.resize(self.snapshot_times.len(), f64::NAN);
        v
    }

    /// The first hitting time, if any.
    pub fn first_hit(&self) -> Option<u64> {
        (self.first_hit != NEVER).then_some(self.first_hit)
    }

    /// The first exit from the stay ball at or after T_a, if any.
    pub fn first_exit(&self) -> Option<u64> {
        (self.first_exit != NEVER).then_some(self.first_exit)
    }
}

/// What happened to one trajectory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The trajectory index within its configuration.
    pub index: u64,
    /// First t with ‖y_t − x*‖ ≤ ρ_reach; `None` when censored at T (or at divergence).
    pub first_hit: Option<u64>,
    /// Whether the stay event held (`None` when no stay event was asked for). A trajectory
    /// that diverged before T_b did not stay.
    pub stayed: Option<bool>,
    /// First t ≥ T_a with ‖y_t − x*‖ > ρ_stay (looked for up to T).
    pub first_exit: Option<u64>,
    /// First t at which ‖y_t − x*‖² was not finite: x_t or ∇f(x_t) became non-finite, or
    /// the iterate grew past ~1e154. The trajectory stops there and its final values are NaN.
    pub diverged_at: Option<u64>,
    /// x_T.
    pub final_x: Vec<f64>,
    /// ‖y_t − x*‖² at the spec's snapshot times (NaN after a divergence).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<f64>,
    /// ‖x_T − x*‖.
    pub final_dist: f64,
    /// ‖y_T − x*‖.
    pub final_y_dist: f64,
    /// f(x_T).
    pub final_value: f64,
}

impl Outcome {
    /// True when the first hit happened (not censored).
    pub fn reached(&self) -> bool {
        self.first_hit.is_some()
    }
}
