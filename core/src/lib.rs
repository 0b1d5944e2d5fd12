//! # stockade
//!
//! Plans critical-mineral supply chains for defense: where processing capacity should stand and
//! how dispersed it must be, and how large stockpiles should be, so that demand keeps being met
//! when sites, suppliers, routes or countries drop out. Questions become mixed-integer programs
//! solved with HiGHS.
//!
//! One pipeline, one folder per stage: [`Model`] (the file, [`model`]) -> [`Network`] (validated,
//! [`network`]) -> [`ScenarioSet`] ([`scenario`]) -> [`SitingProblem`] (the sparse MIP, built in
//! the crate-private `formulation`) -> [`solve`] (extensive form or Benders, over [`solver`] and
//! HiGHS) -> [`SolveResult`] -> [`analysis`] -> [`report`]. The worst case of a plan (which k
//! losses hurt most, DESIGN §4.3) is [`interdiction::worst_case`]; the min-max plan and the
//! choice of what to protect are [`robust::solve_robust`] and [`robust::fortify`].
//!
//! ```no_run
//! let text = std::fs::read_to_string("models/rare-earths.json")?;
//! let model = stockade::parse_model(&text)?;
//! let result = stockade::solve(model, &stockade::Settings::default())?;
//! println!("{:?} {:?}", result.status, result.objective);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

// The pipeline, in the order data flows through it (each layer uses only those above it).
pub mod analysis;
pub mod error;
mod formulation;
pub mod model;
pub mod network;
pub mod plan;
pub mod report;
pub mod result;
pub mod scenario;
pub mod solve;
pub mod solver;

pub use analysis::{evaluate, frontier, game, interdiction, robust, saa, share, sweep};
pub use error::{InputError, Problem, StockadeError};
pub use evaluate::{evaluate, evaluate_with, Evaluation, EvaluationSettings};
pub use formulation::{build_report, BuildOptions, BuildReport, SitingProblem};
pub use model::{import, Model};
pub use network::{parse_model, Network};
pub use plan::Plan;
pub use result::SolveResult;
pub use scenario::{ScenarioChoice, ScenarioSet};
pub use solve::{solve_siting, solve_siting_from, WarmStart};
pub use solver::{Settings, SolveControl, Status};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// Validates a model: every problem at once, each with its JSON path and entity id.
pub fn validate(model: &Model) -> Vec<Problem> {
    match Network::new(model.clone()) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems,
    }
}

/// Validates and solves the siting model over its explicit scenarios.
pub fn solve(model: Model, settings: &Settings) -> Result<SolveResult, StockadeError> {
    solve_with(model, settings, &SolveControl::default())
}

/// [`solve`] with a cancellation flag and a progress sink.
pub fn solve_with(
    model: Model,
    settings: &Settings,
    control: &SolveControl,
) -> Result<SolveResult, StockadeError> {
    let net = Network::new(model)?;
    let scenarios = ScenarioSet::explicit(&net);
    solve_siting(&net, &scenarios, settings, control)
}
