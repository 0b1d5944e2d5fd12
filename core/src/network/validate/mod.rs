//! Validation (DESIGN §2): every problem of a model at once, each with its JSON path and entity
//! id, split by concern: entities (materials, countries, nodes, routes, scenarios), parties,
//! hazards, policies and reachability. A [`Network`] exists only for a model that passed.

use super::*;

mod entities;
mod hazards;
mod parties;
mod policies;
mod reach;

/// Checks `model` and indexes it: every problem at once, or the [`Network`].
pub(super) fn validate(model: Model, allow_unreached: bool) -> Result<Network, InputError> {
    let mut v = Validator {
        allow_unreached,
        ..Validator::default()
    };
    let net = v.check(&model);
    if v.problems.is_empty() {
        if let Some(mut net) = net {
            net.model = model;
            return Ok(net);
        }
    }
    if v.problems.is_empty() {
        v.push("$", None, "the model could not be indexed".to_string());
    }
    Err(InputError {
        problems: v.problems,
    })
}

#[derive(Default)]
pub(super) struct Validator {
    pub(super) problems: Vec<Problem>,
    /// Demand that no route reaches is not a problem (coalition models).
    pub(super) allow_unreached: bool,
}

/// Largest magnitude any quantity or amount of money may have: beyond it HiGHS treats a number as
/// infinite, and no real plan comes near it.
pub(super) const MAX_MAGNITUDE: f64 = 1e15;

/// Most parties a model may list: the cost-sharing analysis solves 2^n - 1 coalition models
/// (exact Shapley up to 12 parties, sampling beyond).
pub const MAX_PARTIES: usize = 24;

/// A number as a person would write it: `-5`, `1.3`, `1e300`, `NaN`.
pub(super) fn num(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x != 0.0 && (x.abs() >= 1e15 || x.abs() < 1e-6) {
        format!("{x:e}")
    } else {
        let fixed = format!("{x:.9}");
        fixed
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

impl Validator {
    pub(super) fn push(&mut self, path: impl Into<String>, entity: Option<&str>, message: String) {
        self.problems.push(Problem {
            path: path.into(),
            entity: entity.filter(|e| !e.is_empty()).map(str::to_string),
            message,
        });
    }

    /// A finite number >= 0.
    pub(super) fn nonneg(&mut self, path: String, id: &str, x: f64) {
        if !x.is_finite() {
            self.push(
                path,
                Some(id),
                format!("must be a finite number, got {}", num(x)),
            );
        } else if x < 0.0 {
            self.push(path, Some(id), format!("must be >= 0, got {}", num(x)));
        } else if x > MAX_MAGNITUDE {
            self.push(
                path,
                Some(id),
                format!("must be at most 1e15, got {}", num(x)),
            );
        }
    }

    /// A finite number > 0.
    pub(super) fn positive(&mut self, path: String, id: &str, x: f64) {
        if !x.is_finite() {
            self.push(
                path,
                Some(id),
                format!("must be a finite number, got {}", num(x)),
            );
        } else if x <= 0.0 {
            self.push(path, Some(id), format!("must be > 0, got {}", num(x)));
        } else if x > MAX_MAGNITUDE {
            self.push(
                path,
                Some(id),
                format!("must be at most 1e15, got {}", num(x)),
            );
        }
    }

    /// A share in [0, 1].
    pub(super) fn share(&mut self, path: String, id: Option<&str>, x: f64) {
        if !(0.0..=1.0).contains(&x) {
            self.push(path, id, format!("must be within [0, 1], got {}", num(x)));
        }
    }

    pub(super) fn id(&mut self, path: String, id: &str, seen: &mut HashSet<String>, what: &str) {
        if id.trim().is_empty() {
            self.push(path, None, format!("{what} id must not be empty"));
        } else if !seen.insert(id.to_string()) {
            self.push(path, Some(id), format!("duplicate {what} id `{id}`"));
        }
    }

    pub(super) fn location(&mut self, path: &str, node: &dyn Node, countries: &HashSet<&str>) {
        let id = node.id();
        if !countries.contains(node.country()) {
            self.push(
                format!("{path}.country"),
                Some(id),
                format!("unknown country `{}` (not in `countries`)", node.country()),
            );
        }
        // Coordinates are read through the trait to keep one check for every node kind.
        if let Some((lat, lon)) = node.coordinates() {
            if !(-90.0..=90.0).contains(&lat) {
                self.push(
                    format!("{path}.lat"),
                    Some(id),
                    format!("must be within [-90, 90], got {}", num(lat)),
                );
            }
            if !(-180.0..=180.0).contains(&lon) {
                self.push(
                    format!("{path}.lon"),
                    Some(id),
                    format!("must be within [-180, 180], got {}", num(lon)),
                );
            }
        }
    }
}
