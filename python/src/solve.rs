//! Solving and evaluating from Python: the siting model and a fixed plan, cancellable with
//! progress, and the human report of a result.

use pyo3::prelude::*;
use stockade::{Settings, SolveControl, SolveResult};

use crate::cancel::{run_cancellable, Listener};
use crate::{from_json, input_err, parse_settings, to_json};

/// `Settings::default()` as JSON: the one source of the solver defaults.
#[pyfunction]
pub(crate) fn default_settings() -> PyResult<String> {
    to_json(&Settings::default())
}

/// Solves a model (JSON) with settings (JSON) and returns the result as JSON, as the CLI's
/// `solve --json`.
///
/// The solve runs on its own thread with the GIL released. Every 100 ms the calling thread
/// checks for signals: on Ctrl-C it raises the cancel flag, waits for HiGHS to stop (status
/// `interrupted`) and re-raises `KeyboardInterrupt`. `progress`, when given, is called on the
/// calling thread with a dict `{elapsed_s, incumbent, best_bound, gap}` (and `iteration`, `cuts`
/// under Benders) whenever the solver reported
/// something new; an exception from it cancels the solve and propagates.
#[pyfunction]
#[pyo3(signature = (model_json, settings_json, progress=None))]
pub(crate) fn solve(
    py: Python<'_>,
    model_json: &str,
    settings_json: &str,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    let model = stockade::parse_model(model_json).map_err(|e| input_err(py, e))?;
    let settings = parse_settings(py, settings_json)?;
    let wants_progress = progress.is_some();
    let result: SolveResult = run_cancellable(
        py,
        "solve",
        Listener::progress(progress),
        c"stockade: HiGHS is in a phase that does not check for interrupts (presolve or an \
          LP relaxation); the cancelled solve ends by itself in the background",
        move |cancel, latest| {
            let control = SolveControl {
                cancel: Some(cancel),
                progress: wants_progress.then(|| -> stockade::solver::ProgressSink {
                    Box::new(move |p| latest.progress(p))
                }),
            };
            stockade::solve_with(model, &settings, &control)
        },
    )?;
    to_json(&result)
}

/// Evaluates a fixed plan (JSON, as `solve --plan-out` writes it) on the model's explicit
/// scenarios, or on `scenarios` sampled from its hazards with `seed`, as `stockade evaluate
/// --json`. Settings (JSON) are `EvaluationSettings`. Runs with the GIL released; `progress`, when
/// given, is called on the calling thread with `(done, total)`. On Ctrl-C (or an exception from
/// `progress`) the core's cancel flag stops the evaluation between scenarios; the exception is
/// raised once it has stopped (or after STOP_GRACE).
#[pyfunction]
#[pyo3(signature = (model_json, plan_json, settings_json, scenarios=None, seed=1, progress=None))]
pub(crate) fn evaluate(
    py: Python<'_>,
    model_json: &str,
    plan_json: &str,
    settings_json: &str,
    scenarios: Option<usize>,
    seed: u64,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    let model = stockade::parse_model(model_json).map_err(|e| input_err(py, e))?;
    let plan: stockade::Plan = from_json(py, plan_json, "plan", "invalid plan")?;
    let settings: stockade::EvaluationSettings =
        from_json(py, settings_json, "settings", "invalid settings")?;
    let net = py
        .detach(move || stockade::Network::new(model))
        .map_err(|e| input_err(py, e))?;
    let choice = stockade::ScenarioChoice::sampled_or_explicit(scenarios, seed);
    choice
        .check(&net.model, "hazards")
        .map_err(|e| input_err(py, e))?;
    let evaluation = run_cancellable(
        py,
        "evaluate",
        Listener::steps(progress),
        c"stockade: the cancelled evaluation ends by itself in the background",
        move |cancel, latest| {
            let set = stockade::ScenarioSet::chosen(&net, choice);
            stockade::evaluate_with(
                &net,
                &plan,
                &set,
                &settings,
                &|done, total| latest.steps(done, total),
                Some(&cancel),
            )
        },
    )?;
    to_json(&evaluation)
}

/// `EvaluationSettings::default()` as JSON.
#[pyfunction]
pub(crate) fn default_evaluation_settings() -> PyResult<String> {
    to_json(&stockade::EvaluationSettings::default())
}

/// The human report of a result (JSON), as `stockade solve` prints it.
#[pyfunction]
pub(crate) fn report(py: Python<'_>, result_json: &str) -> PyResult<String> {
    let result: SolveResult = from_json(py, result_json, "result", "not a solve result")?;
    Ok(stockade::report::render(&result))
}
