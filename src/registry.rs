//! Users' own objectives and noise laws, named in experiment files like the built-ins.
//!
//! A type implementing [`Objective`] (or [`NoiseLaw`]) and [`Custom`] declares its identity:
//! the `kind` (or `law`) experiment files call it by, its parameters through serde, and a
//! version string. A [`Registry`] holding it reads files that name it, and
//! [`crate::cli::main`] gives it the whole command line: sweeps, resume, shards and merge,
//! CSV/JSON, plots and the theorem check, exactly as for a built-in.
//!
//! The identity that decides which cells are reused is
//! `{"kind": KIND, "version": VERSION, "params": <the type serialised>}`: resume and merge
//! reuse a cell only when all three are equal, so bump `VERSION` whenever the numbers a type
//! produces change for the same parameters.
//!
//! User types run through one virtual call per gradient or draw (the engine is compiled once
//! for all of them); `--experiment` of `sgd-escape bench`, or [`crate::bench`], measures the
//! cost on a given landscape.
//!
//! ```
//! use sgd_escape::objective::Objective;
//! use sgd_escape::registry::{Custom, Registry};
//! use serde::{Deserialize, Serialize};
//!
//! /// f(x) = ½ k ‖x‖².
//! #[derive(Serialize, Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Bowl {
//!     dim: usize,
//!     k: f64,
//!     #[serde(skip)]
//!     origin: Vec<f64>,
//! }
//!
//! impl Objective for Bowl {
//!     fn dim(&self) -> usize { self.dim }
//!     fn value(&self, x: &[f64]) -> f64 { 0.5 * self.k * x.iter().map(|v| v * v).sum::<f64>() }
//!     fn grad_into(&self, x: &[f64], g: &mut [f64]) {
//!         g.iter_mut().zip(x).for_each(|(g, x)| *g = self.k * x);
//!     }
//!     fn target(&self) -> &[f64] { &self.origin }
//!     fn lipschitz(&self) -> Option<f64> { Some(self.k) }
//! }
//!
//! impl Custom for Bowl {
//!     const KIND: &'static str = "bowl";
//!     const VERSION: &'static str = "1";
//!     fn checked(mut self) -> Result<Self, String> {
//!         if !(self.k > 0.0) {
//!             return Err(format!("k must be > 0, got {}", self.k));
//!         }
//!         self.origin = vec![0.0; self.dim];
//!         Ok(self)
//!     }
//! }
//!
//! let registry = Registry::new().objective::<Bowl>();
//! let text = r#"
//!     trajectories = 100
//!     objective = { kind = "bowl", dim = 3, k = 2.0 }
//!     noise = { law = "ball", r = 1.0 }
//!     dynamics = { eta = 0.1, steps = 50 }
//!     init = { kind = "point", point = 1.0 }
//!     events = { reach_radius = 0.5 }
//! "#;
//! let experiment = registry.parse(text, "bowl.toml".as_ref(), "bowl").unwrap();
//! assert_eq!(experiment.configs[0].objective.kind(), "bowl");
//!
//! let refused = registry.parse(&text.replace("k = 2.0", "k = -1.0"), "bowl.toml".as_ref(), "bowl");
//! assert!(refused.unwrap_err().to_string().contains("k must be > 0"));
//! ```

use crate::custom::read;
pub use crate::custom::{Custom, Refusal};
use crate::noise::{NoiseLaw, UserLaw};
use crate::objective::{Objective, UserObjective};
use std::collections::BTreeMap;
use std::sync::Arc;

type Make<T> = Arc<dyn Fn(toml::Table) -> Result<T, Refusal> + Send + Sync>;

fn make_objective<T: Objective + Custom>(params: toml::Table) -> Result<UserObjective, Refusal> {
    let (t, params) = read::<T>(params)?;
    Ok(UserObjective::new(t, params))
}

fn make_law<T: NoiseLaw + Custom>(params: toml::Table) -> Result<UserLaw, Refusal> {
    let (t, params) = read::<T>(params)?;
    Ok(UserLaw::new(t, params))
}

/// The kinds an experiment file may name beyond the built-ins, and the experiment `run`
/// uses without a file: the one entry point for users' own types.
///
/// Build it once at start-up, then read files with [`Registry::parse`] / [`Registry::load`],
/// or hand it to [`crate::cli::main`] for the whole command line. `Registry::new()` knows
/// only the built-ins (what the `sgd-escape` binary uses).
#[derive(Clone, Default)]
pub struct Registry {
    objectives: BTreeMap<String, Make<UserObjective>>,
    laws: BTreeMap<String, Make<UserLaw>>,
    default_experiment: Option<(String, String)>,
}

/// Whether `name` is usable as a kind: non-empty ASCII letters, digits and `_`.
fn usable(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Registry {
    /// The built-in kinds only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an objective type, named `T::KIND` in experiment files.
    ///
    /// # Panics
    /// When the name is a built-in objective's or already registered, or not made of ASCII
    /// letters, digits and `_`: a mistake in the program, found on its first start.
    pub fn objective<T: Objective + Custom>(mut self) -> Self {
        assert!(
            usable(T::KIND)
                && !crate::objective::BUILTIN_KINDS.contains(&T::KIND)
                && !self.objectives.contains_key(T::KIND),
            "objective kind {:?}: the name must be new (not built in, not registered twice) and made of letters, digits and _",
            T::KIND
        );
        self.objectives
            .insert(T::KIND.into(), Arc::new(make_objective::<T>));
        self
    }

    /// Adds an objective kind whose identity is stated at run time, as bindings to other
    /// languages need (the Python package registers callables this way): `make` builds it
    /// from the other fields of its section and returns it with its parameters as they
    /// enter the identity `{kind, version, params}` (see the module docs: bump `version`
    /// whenever the numbers change for the same parameters).
    ///
    /// Refuses, with the reason, a name that is built in, already registered, or not made
    /// of ASCII letters, digits and `_`, and an empty version.
    pub fn objective_fn<O, F>(mut self, kind: &str, version: &str, make: F) -> Result<Self, String>
    where
        O: Objective + Send + Sync + 'static,
        F: Fn(toml::Table) -> Result<(O, serde_json::Value), Refusal> + Send + Sync + 'static,
    {
        if !usable(kind) {
            return Err(format!(
                "objective kind {kind:?}: a name is made of ASCII letters, digits and _"
            ));
        }
        if crate::objective::BUILTIN_KINDS.contains(&kind) || self.objectives.contains_key(kind) {
            return Err(format!(
                "objective kind {kind:?}: the name is taken (built in or registered already)"
            ));
        }
        if version.trim().is_empty() {
            return Err(format!("objective kind {kind:?}: the version is empty"));
        }
        let (name, version) = (kind.to_string(), version.to_string());
        self.objectives.insert(
            kind.into(),
            Arc::new(move |params| {
                let (o, params) = make(params)?;
                Ok(UserObjective::stated(&name, &version, o, params))
            }),
        );
        Ok(self)
    }

    /// Adds a noise law type, named `T::KIND` in experiment files (`law = "…"`).
    ///
    /// # Panics
    /// As [`Registry::objective`], for a law's name.
    pub fn noise_law<T: NoiseLaw + Custom>(mut self) -> Self {
        assert!(
            usable(T::KIND)
                && !crate::noise::BUILTIN_LAWS.contains(&T::KIND)
                && !self.laws.contains_key(T::KIND),
            "noise law {:?}: the name must be new (not built in, not registered twice) and made of letters, digits and _",
            T::KIND
        );
        self.laws.insert(T::KIND.into(), Arc::new(make_law::<T>));
        self
    }

    /// The experiment `run` uses without a file (`sgd-escape run` uses the paper's spiky
    /// function): its TOML text, and the name used in messages.
    pub fn default_experiment(mut self, name: &str, text: &str) -> Self {
        self.default_experiment = Some((name.to_string(), text.to_string()));
        self
    }

    /// The default experiment set by [`Registry::default_experiment`]: (name, text).
    pub fn default_experiment_text(&self) -> Option<(&str, &str)> {
        self.default_experiment
            .as_ref()
            .map(|(n, t)| (n.as_str(), t.as_str()))
    }

    /// Builds the objective of kind `kind` from the other fields of its section (`None` for
    /// a kind not registered).
    pub fn build_objective(
        &self,
        kind: &str,
        params: toml::Table,
    ) -> Option<Result<UserObjective, Refusal>> {
        self.objectives.get(kind).map(|make| make(params))
    }

    /// Builds the noise law named `law` from the other fields of its section (`None` for a
    /// law not registered).
    pub fn build_law(&self, law: &str, params: toml::Table) -> Option<Result<UserLaw, Refusal>> {
        self.laws.get(law).map(|make| make(params))
    }

    /// The registered objective kinds, sorted.
    pub fn objective_kinds(&self) -> Vec<&str> {
        self.objectives.keys().map(String::as_str).collect()
    }

    /// The registered law names, sorted.
    pub fn law_names(&self) -> Vec<&str> {
        self.laws.keys().map(String::as_str).collect()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("objectives", &self.objective_kinds())
            .field("laws", &self.law_names())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    /// f(x) = ½ k ‖x‖² in d = 2.
    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Bowl {
        k: f64,
        #[serde(skip)]
        origin: [f64; 2],
    }

    impl Objective for Bowl {
        fn dim(&self) -> usize {
            2
        }
        fn value(&self, x: &[f64]) -> f64 {
            0.5 * self.k * x.iter().map(|v| v * v).sum::<f64>()
        }
        fn grad_into(&self, x: &[f64], g: &mut [f64]) {
            g.iter_mut().zip(x).for_each(|(g, x)| *g = self.k * x);
        }
        fn target(&self) -> &[f64] {
            &self.origin
        }
        fn lipschitz(&self) -> Option<f64> {
            Some(self.k)
        }
    }

    impl Custom for Bowl {
        const KIND: &'static str = "bowl";
        const VERSION: &'static str = "3";
    }

    const TEXT: &str = r#"
        trajectories = 300
        objective = { kind = "bowl", k = 2.0 }
        noise = { law = "ball", r = 1.0 }
        dynamics = { eta = 0.1, steps = 50 }
        init = { kind = "point", point = 1.0 }
        events = { reach_radius = 0.5 }
    "#;

    #[test]
    fn an_identity_stated_at_run_time_runs_as_the_same_custom_type() {
        let typed = Registry::new().objective::<Bowl>();
        let stated = Registry::new()
            .objective_fn("bowl", "3", read::<Bowl>)
            .unwrap();
        let file = std::path::Path::new("bowl.toml");
        let (a, b) = (
            typed.parse(TEXT, file, "bowl").unwrap(),
            stated.parse(TEXT, file, "bowl").unwrap(),
        );
        let (a, b) = (&a.configs[0], &b.configs[0]);
        // The same identity, hence the same streams and the same bits.
        assert_eq!(a.id(), b.id());
        assert_eq!(a.objective.kind(), "bowl");
        assert_eq!(a.run(7, 0..300), b.run(7, 0..300));
        // Another stated version is another identity.
        let v4 = Registry::new()
            .objective_fn("bowl", "4", read::<Bowl>)
            .unwrap()
            .parse(TEXT, file, "bowl")
            .unwrap();
        assert_ne!(v4.configs[0].id(), a.id());
        // The maker's refusal reaches the message with its field.
        let e = stated
            .parse(&TEXT.replace("k = 2.0", "k = \"steep\""), file, "bowl")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("objective.k") && e.contains("invalid type"),
            "{e}"
        );
    }

    #[test]
    fn a_stated_kind_must_be_new_well_formed_and_versioned() {
        let make = read::<Bowl>;
        for (kind, version, why) in [
            ("quadratic", "1", "taken"),
            ("a-b", "1", "letters, digits and _"),
            ("", "1", "letters, digits and _"),
            ("bowl2", " ", "version is empty"),
        ] {
            let e = Registry::new()
                .objective_fn(kind, version, make)
                .unwrap_err();
            assert!(e.contains(why), "{kind:?}: {e}");
        }
        let e = Registry::new()
            .objective::<Bowl>()
            .objective_fn("bowl", "3", make)
            .unwrap_err();
        assert!(e.contains("taken"), "{e}");
        let both = Registry::new()
            .objective_fn("bowl_a", "1", make)
            .unwrap()
            .objective_fn("bowl_b", "1", make)
            .unwrap();
        assert_eq!(both.objective_kinds(), ["bowl_a", "bowl_b"]);
    }
}
