//! The job engine: a bounded queue in front of a bounded worker pool. Solves run on tokio's
//! blocking pool, at most `workers` at once (a semaphore), each with a cancel flag wired to
//! HiGHS's interrupt callback and a progress sink fed by HiGHS's MIP callbacks.
//!
//! The database is the source of truth: a job is committed before it is queued in memory, a
//! worker claims it with a conditional update, and its outcome is written in one transaction.
//! At start-up, jobs a crash left running are queued again; at shutdown, running solves are
//! interrupted and queued again, so nothing accepted is lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use stockade::solver::Progress;
use stockade::{
    EvaluationSettings, InputError, ScenarioChoice, Settings, SolveControl, StockadeError,
};
use tokio::sync::{broadcast, mpsc, watch, OwnedSemaphorePermit, Semaphore};
use tracing::{error, info, info_span, warn, Instrument};

mod engine;

pub use engine::{CancelOutcome, Engine, SubmitError};

use crate::analysis::{Analysis, Hooks, Request};
use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::store::{status, JobOutcome, Store, StoreError};

/// The analyses a job can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Siting, dispersion and stockpile plan (`stockade solve`).
    Solve,
    /// A fixed plan over scenarios (`stockade evaluate`).
    Evaluate,
    /// Joint stockpile and cost sharing across the model's parties (`stockade share`).
    Share,
    /// Every variant of the model over a grid of parameter values (`stockade sweep`).
    Sweep,
    /// The worst loss of up to k elements for a fixed plan, with the ranked single points of
    /// failure (`stockade worst-case`).
    WorstCase,
}

impl JobKind {
    /// The snake_case name used in JSON and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Solve => "solve",
            JobKind::Evaluate => "evaluate",
            JobKind::Share => "share",
            JobKind::Sweep => "sweep",
            JobKind::WorstCase => "worst_case",
        }
    }

    /// Every kind, for error messages.
    pub const ALL: [JobKind; 5] = [
        JobKind::Solve,
        JobKind::Evaluate,
        JobKind::Share,
        JobKind::Sweep,
        JobKind::WorstCase,
    ];

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A job's input as committed to the store: the model as submitted and the settings after the
/// server's caps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredInput {
    /// The model JSON.
    pub model: serde_json::Value,
    /// Effective solver settings (`solve`).
    #[serde(default)]
    pub settings: Settings,
    /// The plan to evaluate (`evaluate`, `worst_case`), as `solve` returns it in `plan`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<serde_json::Value>,
    /// Evaluation settings (`evaluate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<EvaluationSettings>,
    /// Scenarios to sample from the hazards (`evaluate`); the explicit ones when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenarios: Option<usize>,
    /// Seed of that sample.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// What can be lost (`worst_case`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst_case: Option<stockade::interdiction::WorstCaseOptions>,
    /// The swept parameters (`sweep`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<stockade::sweep::Parameter>,
}

fn default_seed() -> u64 {
    1
}

/// What an analysis produced: the JSON the CLI prints with `--json`, and two figures kept apart
/// for listings.
#[derive(Debug, Clone)]
pub struct AnalysisOutput {
    /// The result document.
    pub result: serde_json::Value,
    /// The solver status (`optimal`, `interrupted`, ...).
    pub solver_status: String,
    /// Whether the solve stopped on request.
    pub interrupted: bool,
    /// The objective, when there is a plan.
    pub objective: Option<f64>,
}

impl StoredInput {
    /// A `solve` input.
    pub fn solve(model: serde_json::Value, settings: Settings) -> StoredInput {
        StoredInput {
            model,
            settings,
            plan: None,
            evaluation: None,
            scenarios: None,
            seed: default_seed(),
            worst_case: None,
            parameters: Vec::new(),
        }
    }

    /// The dispatcher's request for a job of `kind` with this input.
    pub fn request(&self, kind: JobKind) -> Result<Request, StockadeError> {
        let analysis = match kind {
            JobKind::Solve => Analysis::Solve {
                settings: self.settings.clone(),
                scenarios: ScenarioChoice::Explicit,
            },
            JobKind::WorstCase => Analysis::WorstCase {
                plan: stored_plan(self)?,
                options: self.worst_case.clone().unwrap_or_default(),
                settings: self.settings.clone(),
            },
            JobKind::Evaluate => {
                let scenarios = ScenarioChoice::sampled_or_explicit(self.scenarios, self.seed);
                Analysis::Evaluate {
                    plan: stored_plan(self)?,
                    scenarios,
                    settings: self.evaluation.clone().unwrap_or_default(),
                }
            }
            JobKind::Share => Analysis::Share {
                settings: stockade::share::ShareSettings {
                    solver: self.settings.clone(),
                    ..stockade::share::ShareSettings::default()
                },
            },
            JobKind::Sweep => {
                // Each variant solves on one HiGHS thread unless the caller asked otherwise; the
                // variants are spread over the cores. Progress counts finished variants.
                let defaults = stockade::sweep::SweepSettings::default();
                Analysis::Sweep {
                    parameters: self.parameters.clone(),
                    settings: stockade::sweep::SweepSettings {
                        solver: Settings {
                            threads: self.settings.threads.or(defaults.solver.threads),
                            ..self.settings.clone()
                        },
                        ..defaults
                    },
                }
            }
        };
        Ok(Request {
            model: self.model.to_string(),
            survivability: None,
            analysis,
        })
    }
}

/// Runs one job's analysis to the end on the calling thread (call it from the blocking pool)
/// through the one dispatcher. `steps(done, total)` hears from analyses that go step by step
/// (scenarios, coalition models, variants).
pub fn run_analysis(
    kind: JobKind,
    input: &StoredInput,
    control: &SolveControl,
    steps: &(dyn Fn(usize, usize) + Sync),
) -> Result<AnalysisOutput, StockadeError> {
    let request = input.request(kind)?;
    let ran = crate::analysis::run(
        request,
        &Hooks {
            control,
            steps,
            iteration: &|_, _| {},
        },
    )?;
    Ok(AnalysisOutput {
        result: ran.to_json()?,
        solver_status: ran.solver_status(),
        interrupted: ran.interrupted(),
        objective: ran.objective(),
    })
}

/// The plan of an `evaluate` or `worst_case` job.
fn stored_plan(input: &StoredInput) -> Result<stockade::Plan, StockadeError> {
    let plan_value = input
        .plan
        .clone()
        .ok_or_else(|| InputError::single("plan", "this job needs a plan"))?;
    serde_path_to_error::deserialize(plan_value).map_err(|e| {
        let path = e.path().to_string();
        InputError::single(format!("plan.{path}"), e.into_inner().to_string()).into()
    })
}

/// An event as sent to live subscribers. Lifecycle events carry the store's sequence number;
/// progress events are not stored and carry none.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    /// Store sequence number of a lifecycle event.
    pub seq: Option<i64>,
    /// `queued`, `started`, `progress` or `finished`.
    pub kind: String,
    /// JSON text.
    pub data: String,
}
