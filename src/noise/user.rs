//! A user's noise law type behind one run-time interface (see [`crate::registry`]).

use super::NoiseLaw;
use crate::custom::{Custom, Identity};
use rand::Rng;
use serde::{Serialize, Serializer};
use std::sync::Arc;

/// A [`NoiseLaw`] whose concrete type is known only at run time; it draws from any
/// generator through `dyn Rng`, with the same bits as the generic call.
trait ErasedLaw: Send + Sync {
    fn kind(&self) -> &'static str;
    fn version(&self) -> &'static str;
    fn sample_into(&self, x: &[f64], rng: &mut dyn Rng, out: &mut [f64]);
    fn bound(&self, dim: usize) -> Option<f64>;
    fn scale(&self) -> Option<f64>;
}

impl<T: NoiseLaw + Custom> ErasedLaw for T {
    fn kind(&self) -> &'static str {
        T::KIND
    }
    fn version(&self) -> &'static str {
        T::VERSION
    }
    fn sample_into(&self, x: &[f64], rng: &mut dyn Rng, out: &mut [f64]) {
        NoiseLaw::sample_into(self, x, rng, out)
    }
    fn bound(&self, dim: usize) -> Option<f64> {
        NoiseLaw::bound(self, dim)
    }
    fn scale(&self) -> Option<f64> {
        Custom::scale(self)
    }
}

/// A user's noise law as a configuration holds it: the built value, compared and serialised
/// through its identity (law name, version, parameters).
#[derive(Clone)]
pub struct UserLaw {
    inner: Arc<dyn ErasedLaw>,
    params: serde_json::Value,
}

impl UserLaw {
    /// Wraps a checked value of a user's type with its serialised parameters.
    pub fn new<T: NoiseLaw + Custom>(value: T, params: serde_json::Value) -> Self {
        Self {
            inner: Arc::new(value),
            params,
        }
    }

    /// The law's name.
    pub fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    /// The type's version string.
    pub fn version(&self) -> &'static str {
        self.inner.version()
    }

    /// The scale shown in summaries, when the type gives one.
    pub fn scale(&self) -> Option<f64> {
        self.inner.scale()
    }
}

impl PartialEq for UserLaw {
    fn eq(&self, other: &Self) -> bool {
        (self.kind(), self.version(), &self.params)
            == (other.kind(), other.version(), &other.params)
    }
}

impl std::fmt::Debug for UserLaw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} v{} {}", self.kind(), self.version(), self.params)
    }
}

impl Serialize for UserLaw {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Identity {
            kind: None,
            law: Some(self.kind()),
            version: self.version(),
            params: &self.params,
        }
        .serialize(s)
    }
}

impl NoiseLaw for UserLaw {
    fn sample_into<R: Rng + ?Sized>(&self, x: &[f64], rng: &mut R, out: &mut [f64]) {
        // `&mut R` is a sized generator even when R is not, so it can be passed as `dyn Rng`.
        let mut rng = rng;
        self.inner.sample_into(x, &mut rng, out)
    }

    fn bound(&self, dim: usize) -> Option<f64> {
        self.inner.bound(dim)
    }
}
