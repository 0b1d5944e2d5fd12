//! The model file from Python: its schema, parsing, validation, and the benchmark importers.

use pyo3::prelude::*;
use stockade::import::{self, CapOptions};

use crate::{input_err, to_json};

/// The JSON Schema of the model file.
#[pyfunction]
pub(crate) fn schema() -> PyResult<String> {
    to_json(&stockade::Model::json_schema())
}

/// Parses model JSON (unknown fields are errors, with their JSON path) and returns it in the
/// core's canonical form. Does not validate references or values: see `validate`.
#[pyfunction]
pub(crate) fn parse_model(py: Python<'_>, text: &str) -> PyResult<String> {
    let model = stockade::parse_model(text).map_err(|e| input_err(py, e))?;
    to_json(&model)
}

/// Every problem of a model as a JSON list of `{path, entity?, message}`; `[]` when valid.
#[pyfunction]
pub(crate) fn validate(py: Python<'_>, text: &str) -> PyResult<String> {
    let model = stockade::parse_model(text).map_err(|e| input_err(py, e))?;
    let problems = py.detach(move || stockade::validate(&model));
    to_json(&problems)
}

/// OR-Library capacitated warehouse location text (`cap41` ... `capc`) to model JSON.
#[pyfunction]
#[pyo3(signature = (text, name, capacity=None, single_source=false, failures=None))]
pub(crate) fn import_orlib_cap(
    py: Python<'_>,
    text: &str,
    name: &str,
    capacity: Option<f64>,
    single_source: bool,
    failures: Option<String>,
) -> PyResult<String> {
    let opts = CapOptions {
        capacity,
        single_source,
        failures,
    };
    let model = py
        .detach(|| import::orlib_cap(text, name, &opts))
        .map_err(|e| input_err(py, e))?;
    to_json(&model)
}

/// Holmberg single-source capacitated facility location text to model JSON.
#[pyfunction]
pub(crate) fn import_holmberg(py: Python<'_>, text: &str, name: &str) -> PyResult<String> {
    let model = py
        .detach(|| import::holmberg(text, name))
        .map_err(|e| input_err(py, e))?;
    to_json(&model)
}

/// OR-Library p-median text to model JSON.
#[pyfunction]
pub(crate) fn import_orlib_pmed(py: Python<'_>, text: &str, name: &str) -> PyResult<String> {
    let model = py
        .detach(|| import::orlib_pmed(text, name))
        .map_err(|e| input_err(py, e))?;
    to_json(&model)
}
