//! The identity a user's own type declares so that experiment files can name it: see
//! [`crate::registry`] for how such types are registered and run.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// How experiment files name a user's type, and what makes two of its instances the same.
///
/// The type itself is its parameters: experiment files give its fields (beside `kind` for
/// an objective, `law` for a noise law), read through its `Deserialize`; its `Serialize`
/// output is part of every configuration's identity.
///
/// ```
/// use sgd_escape::noise::NoiseLaw;
/// use sgd_escape::registry::Custom;
/// use rand::{Rng, RngExt};
/// use serde::{Deserialize, Serialize};
///
/// /// Each coordinate r(U₁ + U₂ − 1) with U₁, U₂ uniform on [0, 1): triangular on [−r, r].
/// #[derive(Serialize, Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct Triangular {
///     r: f64,
/// }
///
/// impl NoiseLaw for Triangular {
///     fn sample_into<R: Rng + ?Sized>(&self, _x: &[f64], rng: &mut R, out: &mut [f64]) {
///         for o in out.iter_mut() {
///             *o = self.r * (rng.random::<f64>() + rng.random::<f64>() - 1.0);
///         }
///     }
///     fn bound(&self, dim: usize) -> Option<f64> {
///         Some(self.r * (dim as f64).sqrt())
///     }
/// }
///
/// impl Custom for Triangular {
///     const KIND: &'static str = "triangular";
///     const VERSION: &'static str = "1";
///     fn scale(&self) -> Option<f64> {
///         Some(self.r)
///     }
/// }
/// # let law = Triangular { r: 1.0 }.checked().unwrap();
/// # assert_eq!(law.bound(4), Some(2.0));
/// ```
pub trait Custom: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The name experiment files use: `kind = "…"` for an objective, `law = "…"` for a noise
    /// law. Letters, digits and `_`; not a built-in name.
    const KIND: &'static str;
    /// Bump whenever the numbers change for the same parameters: cells of another version are
    /// never reused or merged.
    const VERSION: &'static str;

    /// Checks the parameters as read from a file and computes any derived state (fields the
    /// file does not give, `#[serde(skip)]`). An `Err` is reported with the file and section,
    /// and nothing runs. Accepts everything by default.
    fn checked(self) -> Result<Self, String> {
        Ok(self)
    }

    /// A noise law's scale, shown in the `noise_scale` column of `summary.csv` (empty when
    /// `None`, the default). Unused for objectives.
    fn scale(&self) -> Option<f64> {
        None
    }
}

/// Reads a user type from the fields of its section, checked; returns it with its
/// parameters as serialised (its identity).
pub fn read<T: Custom>(params: toml::Table) -> Result<(T, serde_json::Value), Refusal> {
    let t: T = serde_path_to_error::deserialize(toml::Value::Table(params)).map_err(|e| {
        let path = e.path().to_string();
        Refusal {
            field: (path != ".").then_some(path),
            reason: e.into_inner().to_string(),
        }
    })?;
    let t = t.checked().map_err(|reason| Refusal {
        field: None,
        reason,
    })?;
    let params = serde_json::to_value(&t).map_err(|e| Refusal {
        field: None,
        reason: format!("its parameters do not serialise: {e}"),
    })?;
    Ok((t, params))
}

/// Why a user type refused its section: the field inside the section (when serde names
/// one) and the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The field within the section, e.g. `k` or `centre[2]`.
    pub field: Option<String>,
    /// The type's message.
    pub reason: String,
}

/// The identity of a user type as configurations serialise it (hence hash it).
#[derive(Serialize)]
pub(crate) struct Identity<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) law: Option<&'a str>,
    pub(crate) version: &'a str,
    pub(crate) params: &'a serde_json::Value,
}
