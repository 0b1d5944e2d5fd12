//! `stockade._native`: the thin native layer under the pure-Python package `stockade`.
//!
//! Everything crosses the boundary as JSON text (the core's serde types are the one schema), so
//! the Python side gets exactly what the CLI prints with `--json`. Errors are mapped in one place,
//! [`to_py_err`], onto the classes of `stockade._errors`. Every long call runs through one helper,
//! [`cancel::run_cancellable`] (GIL released, Ctrl-C and progress polled); one file per area.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use stockade::{InputError, Settings, StockadeError};

mod analyses;
mod cancel;
mod model;
mod solve;
mod sweep;

/// Maps a core error onto `stockade.InputError` / `stockade.SolverError` (the one place where
/// Rust errors become Python exceptions). The problems travel as JSON and become
/// `stockade.Problem` values on the Python side.
pub(crate) fn to_py_err(py: Python<'_>, err: StockadeError) -> PyErr {
    let (kind, message, problems) = match &err {
        StockadeError::Input(input) => (
            "input",
            err.to_string(),
            serde_json::to_string(&input.problems).unwrap_or_else(|_| "[]".to_string()),
        ),
        StockadeError::Solver(_) => ("solver", err.to_string(), "[]".to_string()),
    };
    let built = py.import("stockade._errors").and_then(|errors| {
        errors
            .getattr("_from_native")?
            .call1((kind, message.as_str(), problems))
    });
    match built {
        Ok(exc) => PyErr::from_value(exc),
        // The package itself is broken; say so rather than hide the original error.
        Err(import_err) => PyRuntimeError::new_err(format!(
            "{message} (and stockade._errors could not be loaded: {import_err})"
        )),
    }
}

pub(crate) fn input_err(py: Python<'_>, err: InputError) -> PyErr {
    to_py_err(py, StockadeError::Input(err))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot serialise to JSON: {e}")))
}

/// Parses `text` as JSON; a failure is an input error at `field` saying `{what}: {error}`.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    py: Python<'_>,
    text: &str,
    field: &str,
    what: &str,
) -> PyResult<T> {
    serde_json::from_str(text)
        .map_err(|e| input_err(py, InputError::single(field, format!("{what}: {e}"))))
}

pub(crate) fn parse_settings(py: Python<'_>, settings_json: &str) -> PyResult<Settings> {
    from_json(py, settings_json, "settings", "invalid settings")
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(solve::default_settings, m)?)?;
    m.add_function(wrap_pyfunction!(model::schema, m)?)?;
    m.add_function(wrap_pyfunction!(model::parse_model, m)?)?;
    m.add_function(wrap_pyfunction!(model::validate, m)?)?;
    m.add_function(wrap_pyfunction!(solve::solve, m)?)?;
    m.add_function(wrap_pyfunction!(solve::report, m)?)?;
    m.add_function(wrap_pyfunction!(solve::evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(solve::default_evaluation_settings, m)?)?;
    m.add_function(wrap_pyfunction!(model::import_orlib_cap, m)?)?;
    m.add_function(wrap_pyfunction!(model::import_holmberg, m)?)?;
    m.add_function(wrap_pyfunction!(model::import_orlib_pmed, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::default_sweep_settings, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::default_frontier_settings, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::sweep, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::frontier, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::parameter_values, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::sweep_variants, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::saa, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::saa_replication, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::saa_combine, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::default_share_settings, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::share, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::share_coalitions, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::share_coalition, m)?)?;
    m.add_function(wrap_pyfunction!(analyses::share_combine, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::frontier_levels, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::frontier_point, m)?)?;
    m.add_function(wrap_pyfunction!(sweep::frontier_report, m)?)?;
    Ok(())
}
