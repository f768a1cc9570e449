//! A user's objective type behind one run-time interface (see [`crate::registry`]).

use super::Objective;
use crate::custom::{Custom, Identity};
use serde::{Serialize, Serializer};
use std::sync::Arc;

/// An [`Objective`] whose concrete type is known only at run time.
trait ErasedObjective: Send + Sync {
    fn dim(&self) -> usize;
    fn value(&self, x: &[f64]) -> f64;
    fn grad_into(&self, x: &[f64], grad: &mut [f64]);
    fn value_and_grad_into(&self, x: &[f64], grad: &mut [f64]) -> f64;
    fn target(&self) -> &[f64];
    fn lipschitz(&self) -> Option<f64>;
    fn is_smooth(&self) -> bool;
    fn gradient_bound(&self, x: &[f64], rho: f64) -> Option<f64>;
}

impl<T: Objective + Send + Sync> ErasedObjective for T {
    fn dim(&self) -> usize {
        Objective::dim(self)
    }
    fn value(&self, x: &[f64]) -> f64 {
        Objective::value(self, x)
    }
    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        Objective::grad_into(self, x, grad)
    }
    fn value_and_grad_into(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        Objective::value_and_grad_into(self, x, grad)
    }
    fn target(&self) -> &[f64] {
        Objective::target(self)
    }
    fn lipschitz(&self) -> Option<f64> {
        Objective::lipschitz(self)
    }
    fn is_smooth(&self) -> bool {
        Objective::is_smooth(self)
    }
    fn gradient_bound(&self, x: &[f64], rho: f64) -> Option<f64> {
        Objective::gradient_bound(self, x, rho)
    }
}

/// A user's objective as a configuration holds it: the built value, compared and serialised
/// through its identity (kind, version, parameters).
#[derive(Clone)]
pub struct UserObjective {
    inner: Arc<dyn ErasedObjective>,
    kind: Arc<str>,
    version: Arc<str>,
    params: serde_json::Value,
}

impl UserObjective {
    /// Wraps a checked value of a user's type with its serialised parameters.
    pub fn new<T: Objective + Custom>(value: T, params: serde_json::Value) -> Self {
        Self::stated(T::KIND, T::VERSION, value, params)
    }

    /// Wraps an objective whose identity is stated at run time instead of by a [`Custom`]
    /// impl: what [`crate::registry::Registry::objective_fn`] builds (the Python package's
    /// callables are such objectives).
    pub fn stated<T: Objective + Send + Sync + 'static>(
        kind: &str,
        version: &str,
        value: T,
        params: serde_json::Value,
    ) -> Self {
        Self {
            inner: Arc::new(value),
            kind: kind.into(),
            version: version.into(),
            params,
        }
    }

    /// The kind name.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The type's version string.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The parameters as serialised.
    pub fn params(&self) -> &serde_json::Value {
        &self.params
    }
}

impl PartialEq for UserObjective {
    fn eq(&self, other: &Self) -> bool {
        (self.kind(), self.version(), &self.params)
            == (other.kind(), other.version(), &other.params)
    }
}

impl std::fmt::Debug for UserObjective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} v{} {}", self.kind(), self.version(), self.params)
    }
}

impl Serialize for UserObjective {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Identity {
            kind: Some(self.kind()),
            law: None,
            version: self.version(),
            params: &self.params,
        }
        .serialize(s)
    }
}

impl Objective for UserObjective {
    // A user's closed form may be cheap next to the noise; an expensive one loses
    // nothing in lanes.
    const RUNS_IN_LANES: bool = true;

    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn value(&self, x: &[f64]) -> f64 {
        self.inner.value(x)
    }
    fn grad_into(&self, x: &[f64], grad: &mut [f64]) {
        self.inner.grad_into(x, grad)
    }
    fn value_and_grad_into(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.inner.value_and_grad_into(x, grad)
    }
    fn target(&self) -> &[f64] {
        self.inner.target()
    }
    fn lipschitz(&self) -> Option<f64> {
        self.inner.lipschitz()
    }
    fn is_smooth(&self) -> bool {
        self.inner.is_smooth()
    }
    fn gradient_bound(&self, x: &[f64], rho: f64) -> Option<f64> {
        self.inner.gradient_bound(x, rho)
    }
}
