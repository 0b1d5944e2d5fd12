//! SAA bounds and cost sharing from Python, whole or as the units of work the Ray backend sends
//! out.

use pyo3::prelude::*;

use crate::{from_json, input_err, parse_settings, to_json, to_py_err};

pub(crate) fn saa_inputs(
    py: Python<'_>,
    model_json: &str,
    design_json: &str,
) -> PyResult<(stockade::Network, stockade::saa::SaaDesign)> {
    let model = stockade::parse_model(model_json).map_err(|e| input_err(py, e))?;
    let net = stockade::Network::new(model).map_err(|e| input_err(py, e))?;
    let design: stockade::saa::SaaDesign =
        from_json(py, design_json, "design", "invalid SAA design")?;
    Ok((net, design))
}

/// The Mak-Morton-Wood SAA bounds of a model (JSON) for a design (`{replications, sample,
/// evaluation_sample, seed}`), as `stockade solve --saa M:N:N' --json`. GIL released.
#[pyfunction]
pub(crate) fn saa(
    py: Python<'_>,
    model_json: &str,
    design_json: &str,
    settings_json: &str,
) -> PyResult<String> {
    let (net, design) = saa_inputs(py, model_json, design_json)?;
    let settings = parse_settings(py, settings_json)?;
    let report = py
        .detach(move || stockade::saa::saa(&net, design, &settings))
        .map_err(|e| to_py_err(py, e))?;
    to_json(&report)
}

/// Replication `r` of an SAA design alone (its bound and plan, as JSON): the unit of work the
/// Ray backend sends out. GIL released.
#[pyfunction]
pub(crate) fn saa_replication(
    py: Python<'_>,
    model_json: &str,
    design_json: &str,
    r: usize,
    settings_json: &str,
) -> PyResult<String> {
    let (net, design) = saa_inputs(py, model_json, design_json)?;
    let settings = parse_settings(py, settings_json)?;
    let rep = py
        .detach(move || stockade::saa::saa_replication(&net, &design, r, &settings))
        .map_err(|e| to_py_err(py, e))?;
    to_json(&rep)
}

/// The SAA report from every replication of the design (a JSON list, any order). GIL released.
#[pyfunction]
pub(crate) fn saa_combine(
    py: Python<'_>,
    model_json: &str,
    design_json: &str,
    replications_json: &str,
) -> PyResult<String> {
    let (net, design) = saa_inputs(py, model_json, design_json)?;
    let reps: Vec<stockade::saa::Replication> = from_json(
        py,
        replications_json,
        "replications",
        "invalid replications",
    )?;
    let report = py
        .detach(move || stockade::saa::saa_from_replications(&net, design, &reps))
        .map_err(|e| to_py_err(py, e))?;
    to_json(&report)
}

pub(crate) fn share_inputs(
    py: Python<'_>,
    model_json: &str,
    settings_json: &str,
) -> PyResult<(stockade::Network, stockade::share::ShareSettings)> {
    let model = stockade::parse_model(model_json).map_err(|e| input_err(py, e))?;
    let net = stockade::Network::new(model).map_err(|e| input_err(py, e))?;
    let settings: stockade::share::ShareSettings =
        from_json(py, settings_json, "settings", "invalid share settings")?;
    Ok((net, settings))
}

/// `ShareSettings::default()` as JSON.
#[pyfunction]
pub(crate) fn default_share_settings() -> PyResult<String> {
    to_json(&stockade::share::ShareSettings::default())
}

/// The cost-sharing analysis of a model with parties (JSON), as `stockade share --json`. GIL
/// released.
#[pyfunction]
pub(crate) fn share(py: Python<'_>, model_json: &str, settings_json: &str) -> PyResult<String> {
    let (net, settings) = share_inputs(py, model_json, settings_json)?;
    let report = py
        .detach(move || stockade::share::share(&net, &settings, &|_, _| {}))
        .map_err(|e| to_py_err(py, e))?;
    to_json(&report)
}

/// The coalitions (bit masks over `parties`) a share analysis needs, as a JSON list.
#[pyfunction]
pub(crate) fn share_coalitions(
    py: Python<'_>,
    model_json: &str,
    settings_json: &str,
) -> PyResult<String> {
    let (net, settings) = share_inputs(py, model_json, settings_json)?;
    let masks =
        stockade::share::coalitions_needed(&net, &settings).map_err(|e| to_py_err(py, e))?;
    to_json(&masks)
}

/// One coalition's stand-alone value (`[result, level]` as JSON): the unit of work the Ray
/// backend sends out. GIL released.
#[pyfunction]
pub(crate) fn share_coalition(
    py: Python<'_>,
    model_json: &str,
    mask: u64,
    settings_json: &str,
) -> PyResult<String> {
    let (net, settings) = share_inputs(py, model_json, settings_json)?;
    let value = py
        .detach(move || stockade::share::coalition_value(&net, mask, &settings.solver))
        .map_err(|e| to_py_err(py, e))?;
    to_json(&value)
}

/// The share analysis from coalition values solved elsewhere (`[[mask, [result, level]], ...]`).
#[pyfunction]
pub(crate) fn share_combine(
    py: Python<'_>,
    model_json: &str,
    settings_json: &str,
    solved_json: &str,
) -> PyResult<String> {
    let (net, settings) = share_inputs(py, model_json, settings_json)?;
    let solved: Vec<(u64, stockade::share::JointOutcome)> =
        from_json(py, solved_json, "coalitions", "invalid coalition values")?;
    let report = py
        .detach(move || stockade::share::share_from_values(&net, &settings, solved, &|_, _| {}))
        .map_err(|e| to_py_err(py, e))?;
    to_json(&report)
}
