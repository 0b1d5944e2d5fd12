//! What a solve is asked to do and how it ended: one settings struct, the method, the typed
//! status, progress and the cancellation flag. Infeasible, time limit and interrupted are
//! outcomes, not errors.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::solver::mip::ModelSize;

/// How to solve. `Default` is the only source of defaults (the CLI, REST and Python take theirs
/// from here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Wall-clock limit in seconds; none for no limit.
    pub time_limit_s: Option<f64>,
    /// Relative MIP gap at which the solve stops as optimal (1e-6 = 0.0001 %).
    #[schemars(range(min = 0.0))]
    pub mip_gap: f64,
    /// Threads HiGHS may use; none for HiGHS's own choice. Results are deterministic for a given
    /// input, settings and thread count. HiGHS keeps one thread pool per process, sized by the
    /// first solve; a later solve asking for another size runs on that pool.
    pub threads: Option<u32>,
    /// Random seed of HiGHS.
    pub seed: u32,
    /// Run HiGHS presolve.
    pub presolve: bool,
    /// Print the HiGHS log on stderr.
    pub log: bool,
    /// Tolerance within which HiGHS accepts an integer variable as integer (and a MIP row as
    /// met); none keeps HiGHS's own (1e-6). Formulations with large big-M coefficients (the
    /// interdiction MIP prices hard demand at a large penalty) set it tighter, since a binary at
    /// 1e-6 times a big-M of 1e7 is a real error.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1e-10))]
    pub mip_feasibility_tolerance: Option<f64>,
    /// How to solve a two-stage model: the extensive form in one MIP, Benders decomposition, or
    /// the choice made by size (`auto`). The result says which one ran.
    pub method: Method,
}

/// Solution method of a two-stage model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Benders decomposition when the model allows it and has enough scenarios to gain from it,
    /// otherwise the extensive form.
    #[default]
    Auto,
    /// Every scenario's second stage in one MIP handed to HiGHS.
    Extensive,
    /// Benders (L-shaped) decomposition: a master MIP over the first stage with one cut per
    /// scenario group, the scenario LPs solved in parallel.
    Benders,
}

impl Method {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::Extensive => "extensive",
            Method::Benders => "benders",
        }
    }
}

impl Settings {
    /// Seconds left of the time limit for a loop of solves `started` then (none without a
    /// limit; 0 when spent).
    pub(crate) fn remaining_s(&self, started: &std::time::Instant) -> Option<f64> {
        self.time_limit_s
            .map(|t| (t - started.elapsed().as_secs_f64()).max(0.0))
    }

    /// These settings with time limit `left` (one solve of a loop, given what is left).
    pub(crate) fn with_time_limit(&self, left: Option<f64>) -> Settings {
        Settings {
            time_limit_s: left,
            ..self.clone()
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            time_limit_s: None,
            mip_gap: 1e-6,
            threads: None,
            seed: 0,
            presolve: true,
            log: false,
            method: Method::Auto,
            mip_feasibility_tolerance: None,
        }
    }
}

/// HiGHS's least `mip_feasibility_tolerance`; it rejects anything smaller.
pub const MIN_MIP_FEASIBILITY_TOLERANCE: f64 = 1e-10;

impl Settings {
    /// The values HiGHS would reject, each at its path under `prefix` (`settings` in a REST
    /// body): a time limit that is not a positive number, a negative or non-finite gap, a
    /// feasibility tolerance below HiGHS's least ([`MIN_MIP_FEASIBILITY_TOLERANCE`]).
    pub fn check(&self, prefix: &str) -> Result<(), InputError> {
        if let Some(t) = self.time_limit_s {
            if !(t.is_finite() && t > 0.0) {
                let path = field_path(prefix, "time_limit_s");
                return Err(InputError::single(path, format!("must be > 0, got {t}")));
            }
        }
        self.check_highs(prefix)
    }

    /// The part of [`Settings::check`] every HiGHS call makes: the gap and the tolerance (a
    /// decomposition's last master may be left no time, which HiGHS takes as "stop now").
    pub(crate) fn check_highs(&self, prefix: &str) -> Result<(), InputError> {
        if !(self.mip_gap.is_finite() && self.mip_gap >= 0.0) {
            let path = field_path(prefix, "mip_gap");
            let gap = self.mip_gap;
            return Err(InputError::single(path, format!("must be >= 0, got {gap}")));
        }
        if let Some(tol) = self.mip_feasibility_tolerance {
            if !(tol.is_finite() && tol >= MIN_MIP_FEASIBILITY_TOLERANCE) {
                let path = field_path(prefix, "mip_feasibility_tolerance");
                let least = MIN_MIP_FEASIBILITY_TOLERANCE;
                let message = format!("must be at least {least:e} (HiGHS's least), got {tol}");
                return Err(InputError::single(path, message));
            }
        }
        Ok(())
    }
}

fn field_path(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

/// How a solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Proven optimal within the gap.
    Optimal,
    /// Stopped at the time limit; `has_solution` says whether an incumbent exists.
    TimeLimit,
    /// No plan satisfies the constraints.
    Infeasible,
    /// The objective can decrease without limit (a modelling error).
    Unbounded,
    /// Stopped on request (cancellation or Ctrl-C), with the incumbent if any.
    Interrupted,
    /// Any other end (iteration, memory or solution limit, numerical trouble); see `detail`.
    Unknown,
}

impl Status {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Optimal => "optimal",
            Status::TimeLimit => "time_limit",
            Status::Infeasible => "infeasible",
            Status::Unbounded => "unbounded",
            Status::Interrupted => "interrupted",
            Status::Unknown => "unknown",
        }
    }
}

/// A point in a running solve, reported through [`SolveControl::progress`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Seconds since the solve started.
    pub elapsed_s: f64,
    /// Objective of the best plan found so far.
    pub incumbent: Option<f64>,
    /// Best proven lower bound.
    pub best_bound: Option<f64>,
    /// Relative gap between the two.
    pub gap: Option<f64>,
    /// Iteration of a decomposition (none for a plain MIP solve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iteration: Option<u64>,
    /// Cuts in a decomposition's master so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuts: Option<u64>,
}

/// Receives progress reports from the solver thread.
pub type ProgressSink = Box<dyn Fn(&Progress) + Send + Sync>;

/// Hooks into a running solve: a cancellation flag and a progress sink.
#[derive(Default)]
pub struct SolveControl {
    /// Set to true to stop the solve; it ends `interrupted` with its incumbent.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Called from the solver thread as the solve progresses.
    pub progress: Option<ProgressSink>,
}

impl std::fmt::Debug for SolveControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SolveControl")
            .field("cancel", &self.cancel)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// What HiGHS returned for one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SolverRun {
    /// How the solve ended.
    pub status: Status,
    /// Whether a feasible point (incumbent) is available in `values`.
    pub has_solution: bool,
    /// Objective of the incumbent.
    pub objective: Option<f64>,
    /// Best proven lower bound (equals the objective for a solved LP).
    pub best_bound: Option<f64>,
    /// Relative gap of objective and bound ([`relative_gap`]).
    pub mip_gap: Option<f64>,
    /// Wall-clock seconds in HiGHS.
    pub runtime_s: f64,
    /// Size of the model passed.
    pub size: ModelSize,
    /// HiGHS's own status name, for the record.
    pub detail: String,
    /// Column values of the incumbent (empty without one).
    #[serde(skip)]
    pub values: Vec<f64>,
    /// Row duals (LPs only; empty otherwise).
    #[serde(skip)]
    pub row_duals: Vec<f64>,
}

impl SolverRun {
    /// The lower bound this solve proves: HiGHS's dual bound when it ended optimal, at a limit or
    /// interrupted (its branch and bound was sound up to there), the objective of an optimal solve
    /// without one; nothing from any other end (numerical trouble proves nothing).
    pub fn proven_bound(&self) -> Option<f64> {
        match self.status {
            Status::Optimal => self.best_bound.or(self.objective),
            Status::TimeLimit | Status::Interrupted => self.best_bound,
            _ => None,
        }
    }
}

/// The relative gap of a minimisation between its incumbent (an upper bound) and a proven lower
/// bound: `(incumbent - bound) / max(|incumbent|, 1e-10)`, 0 when the bound reaches the
/// incumbent (or crosses it within tolerance), infinite while either is unknown. The one
/// definition every solve, loop and report uses.
pub fn relative_gap(incumbent: f64, bound: f64) -> f64 {
    if !incumbent.is_finite() || !bound.is_finite() {
        return f64::INFINITY;
    }
    let diff = (incumbent - bound).max(0.0);
    if diff == 0.0 {
        0.0
    } else {
        diff / incumbent.abs().max(1e-10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_highs_would_reject_are_named_by_field() {
        assert!(Settings::default().check("settings").is_ok());
        for (settings, path) in [
            (
                Settings {
                    mip_feasibility_tolerance: Some(0.0),
                    ..Settings::default()
                },
                "settings.mip_feasibility_tolerance",
            ),
            (
                Settings {
                    mip_feasibility_tolerance: Some(f64::NAN),
                    ..Settings::default()
                },
                "settings.mip_feasibility_tolerance",
            ),
            (
                Settings {
                    mip_gap: -1e-3,
                    ..Settings::default()
                },
                "settings.mip_gap",
            ),
            (
                Settings {
                    time_limit_s: Some(0.0),
                    ..Settings::default()
                },
                "settings.time_limit_s",
            ),
        ] {
            let err = settings.check("settings").expect_err(path);
            assert_eq!(err.problems[0].path, path, "{err}");
        }
        let least = Settings {
            mip_feasibility_tolerance: Some(1e-10),
            ..Settings::default()
        };
        assert!(least.check("").is_ok());
    }
}
