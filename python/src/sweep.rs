//! Sweeps and frontiers from Python: whole (cancellable, with progress) or level by level for
//! the Ray backend.

use pyo3::prelude::*;
use stockade::InputError;

use crate::cancel::{run_cancellable, Listener};
use crate::{from_json, input_err, to_json, to_py_err};

/// The native module.
/// `SweepSettings::default()` as JSON (solver settings, workers, warm_start).
#[pyfunction]
pub(crate) fn default_sweep_settings() -> PyResult<String> {
    to_json(&stockade::sweep::SweepSettings::default())
}

/// `FrontierSettings::default()` as JSON (resilience, points, beta, sweep).
#[pyfunction]
pub(crate) fn default_frontier_settings() -> PyResult<String> {
    to_json(&stockade::frontier::FrontierSettings::default())
}

/// Solves every variant of a model (JSON) over the Cartesian product of `parameters_json`
/// (`[{"path", "values"}]`) with `settings_json` (`SweepSettings`), and returns the sweep report
/// as JSON, as the CLI's `sweep --json`. The GIL is released while the variants solve;
/// `progress(done, total)` hears as variants finish; Ctrl-C stops the sweep.
#[pyfunction]
#[pyo3(signature = (model_json, parameters_json, settings_json, progress=None))]
pub(crate) fn sweep(
    py: Python<'_>,
    model_json: &str,
    parameters_json: &str,
    settings_json: &str,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    let model: serde_json::Value =
        serde_json::from_str(model_json).map_err(|e| input_err(py, InputError::from_serde(e)))?;
    let parameters: Vec<stockade::sweep::Parameter> =
        from_json(py, parameters_json, "parameters", "invalid parameters")?;
    let settings: stockade::sweep::SweepSettings =
        from_json(py, settings_json, "settings", "invalid settings")?;
    let report = run_cancellable(
        py,
        "sweep",
        Listener::steps(progress),
        c"stockade: the cancelled sweep's running solves end by themselves in the background",
        move |cancel, latest| {
            let steps = |done, total| latest.steps(done, total);
            stockade::sweep::sweep(&model, &parameters, &settings, Some(cancel), &steps)
        },
    )?;
    to_json(&report)
}

/// Values of `FROM:TO:STEP` or `V1,V2,...` for parameter `path`, as `sweep --set` reads them.
#[pyfunction]
pub(crate) fn parameter_values(py: Python<'_>, path: &str, spec: &str) -> PyResult<Vec<f64>> {
    stockade::sweep::parse_values(path, spec).map_err(|e| input_err(py, e))
}

/// Every variant of a sweep, in sweep order, as JSON `[[[path, value], ...], ...]`, each written
/// into the model and validated first (a bad path or value raises `InputError` naming it). The
/// Ray backend sends these out as tasks.
#[pyfunction]
pub(crate) fn sweep_variants(
    py: Python<'_>,
    model_json: &str,
    parameters_json: &str,
) -> PyResult<String> {
    let model: serde_json::Value =
        serde_json::from_str(model_json).map_err(|e| input_err(py, InputError::from_serde(e)))?;
    let parameters: Vec<stockade::sweep::Parameter> =
        from_json(py, parameters_json, "parameters", "invalid parameters")?;
    let cells = stockade::sweep::grid(&parameters).map_err(|e| input_err(py, e))?;
    let mut out = Vec::with_capacity(cells.len());
    for cell in cells {
        let assignment: Vec<(String, f64)> = parameters
            .iter()
            .zip(&cell)
            .map(|(p, i)| (p.path.clone(), p.values[*i]))
            .collect();
        stockade::sweep::variant_model(&model, &assignment).map_err(|e| input_err(py, e))?;
        out.push(assignment);
    }
    to_json(&out)
}

/// The cost-resilience frontier of a model (JSON) with `settings_json` (`FrontierSettings`), as
/// the CLI's `frontier --json`. The GIL is released while the levels solve; `progress(done,
/// total)` hears as levels finish; Ctrl-C stops it.
#[pyfunction]
#[pyo3(signature = (model_json, settings_json, progress=None))]
pub(crate) fn frontier(
    py: Python<'_>,
    model_json: &str,
    settings_json: &str,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    let model = stockade::parse_model(model_json).map_err(|e| input_err(py, e))?;
    let settings: stockade::frontier::FrontierSettings =
        from_json(py, settings_json, "settings", "invalid settings")?;
    let report = run_cancellable(
        py,
        "frontier",
        Listener::steps(progress),
        c"stockade: the cancelled frontier's running solves end by themselves in the background",
        move |cancel, latest| {
            let steps = |done, total| latest.steps(done, total);
            stockade::frontier::frontier(&model, &settings, Some(cancel), &steps)
        },
    )?;
    to_json(&report)
}

pub(crate) fn frontier_inputs(
    py: Python<'_>,
    model_json: &str,
    settings_json: &str,
) -> PyResult<(stockade::Model, stockade::frontier::FrontierSettings)> {
    let model = stockade::parse_model(model_json).map_err(|e| input_err(py, e))?;
    let settings: stockade::frontier::FrontierSettings =
        from_json(py, settings_json, "settings", "invalid settings")?;
    Ok((model, settings))
}

pub(crate) fn parse_levels(
    py: Python<'_>,
    levels_json: &str,
) -> PyResult<stockade::frontier::FrontierLevels> {
    from_json(py, levels_json, "levels", "invalid frontier levels")
}

/// The levels of a frontier (JSON), found before any is solved. GIL released.
#[pyfunction]
pub(crate) fn frontier_levels(
    py: Python<'_>,
    model_json: &str,
    settings_json: &str,
) -> PyResult<String> {
    let (model, settings) = frontier_inputs(py, model_json, settings_json)?;
    let levels = py
        .detach(move || stockade::frontier::frontier_levels(&model, &settings, None))
        .map_err(|e| to_py_err(py, e))?;
    to_json(&levels)
}

/// Level `i` of a frontier solved alone (a point, as JSON): the unit of work the Ray backend
/// sends out. GIL released.
#[pyfunction]
pub(crate) fn frontier_point(
    py: Python<'_>,
    model_json: &str,
    settings_json: &str,
    levels_json: &str,
    i: usize,
) -> PyResult<String> {
    let (model, settings) = frontier_inputs(py, model_json, settings_json)?;
    let levels = parse_levels(py, levels_json)?;
    let (point, _) = py
        .detach(move || {
            stockade::frontier::frontier_point(&model, &settings, &levels, i, None, None)
        })
        .map_err(|e| to_py_err(py, e))?;
    to_json(&point)
}

/// The frontier report from its levels and every level's point (JSON list, in level order).
#[pyfunction]
pub(crate) fn frontier_report(
    py: Python<'_>,
    model_json: &str,
    settings_json: &str,
    levels_json: &str,
    points_json: &str,
    runtime_s: f64,
) -> PyResult<String> {
    let (model, settings) = frontier_inputs(py, model_json, settings_json)?;
    let levels = parse_levels(py, levels_json)?;
    let points: Vec<stockade::frontier::FrontierPoint> =
        from_json(py, points_json, "points", "invalid frontier points")?;
    to_json(&stockade::frontier::frontier_report(
        &model, &settings, &levels, points, runtime_s,
    ))
}
