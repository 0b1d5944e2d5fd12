//! `stockade._native`: the thin native layer under the pure-Python package `stockade`.
//!
//! Everything crosses the boundary as JSON text (the core's serde types are the one schema), so
//! the Python side gets exactly what the CLI prints with `--json`. Errors are mapped in one place,
//! [`to_py_err`], onto the classes of `stockade._errors`. Solves run on their own thread with the
//! GIL released; the calling thread polls for Ctrl-C and reports progress.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use stockade::import::{self, CapOptions};
use stockade::solver::Progress;
use stockade::{InputError, Settings, SolveControl, SolveResult, StockadeError};

/// How often the calling thread wakes to check for Ctrl-C and report progress.
const POLL: Duration = Duration::from_millis(100);

/// Maps a core error onto `stockade.InputError` / `stockade.SolverError` (the one place where
/// Rust errors become Python exceptions). The problems travel as JSON and become
/// `stockade.Problem` values on the Python side.
fn to_py_err(py: Python<'_>, err: StockadeError) -> PyErr {
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

fn input_err(py: Python<'_>, err: InputError) -> PyErr {
    to_py_err(py, StockadeError::Input(err))
}

fn to_json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot serialise to JSON: {e}")))
}

/// `Settings::default()` as JSON: the one source of the solver defaults.
#[pyfunction]
fn default_settings() -> PyResult<String> {
    to_json(&Settings::default())
}

/// The JSON Schema of the model file.
#[pyfunction]
fn schema() -> PyResult<String> {
    to_json(&stockade::Model::json_schema())
}

/// Parses model JSON (unknown fields are errors, with their JSON path) and returns it in the
/// core's canonical form. Does not validate references or values: see `validate`.
#[pyfunction]
fn parse_model(py: Python<'_>, text: &str) -> PyResult<String> {
    let model = stockade::parse_model(text).map_err(|e| input_err(py, e))?;
    to_json(&model)
}

/// Every problem of a model as a JSON list of `{path, entity?, message}`; `[]` when valid.
#[pyfunction]
fn validate(py: Python<'_>, text: &str) -> PyResult<String> {
    let model = stockade::parse_model(text).map_err(|e| input_err(py, e))?;
    let problems = py.detach(move || stockade::validate(&model));
    to_json(&problems)
}

/// Parses `text` as JSON; a failure is an input error at `field` saying `{what}: {error}`.
fn from_json<T: serde::de::DeserializeOwned>(
    py: Python<'_>,
    text: &str,
    field: &str,
    what: &str,
) -> PyResult<T> {
    serde_json::from_str(text)
        .map_err(|e| input_err(py, InputError::single(field, format!("{what}: {e}"))))
}

fn parse_settings(py: Python<'_>, settings_json: &str) -> PyResult<Settings> {
    from_json(py, settings_json, "settings", "invalid settings")
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
fn solve(
    py: Python<'_>,
    model_json: &str,
    settings_json: &str,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    let model = stockade::parse_model(model_json).map_err(|e| input_err(py, e))?;
    let settings = parse_settings(py, settings_json)?;

    let cancel = Arc::new(AtomicBool::new(false));
    let latest: Arc<Mutex<Option<Progress>>> = Arc::new(Mutex::new(None));
    let sink = Arc::clone(&latest);
    let control = SolveControl {
        cancel: Some(Arc::clone(&cancel)),
        progress: progress
            .as_ref()
            .map(|_| -> stockade::solver::ProgressSink {
                Box::new(move |p: &Progress| {
                    if let Ok(mut slot) = sink.lock() {
                        *slot = Some(*p);
                    }
                })
            }),
    };

    let (tx, rx) = mpsc::channel::<Result<SolveResult, StockadeError>>();
    let worker = std::thread::Builder::new()
        .name("stockade-solve".to_string())
        .spawn(move || {
            // The receiver outlives the worker unless the caller is gone; nothing to do then.
            let _ = tx.send(stockade::solve_with(model, &settings, &control));
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the solve thread: {e}")))?;

    // A `Receiver` is not `Sync`, so it moves into each GIL-free wait and back out.
    let mut rx = rx;
    let (outcome, rx) = loop {
        let (received, back) = py.detach(move || (rx.recv_timeout(POLL), rx));
        rx = back;
        match received {
            Ok(outcome) => break (Some(outcome), rx),
            Err(RecvTimeoutError::Disconnected) => break (None, rx),
            Err(RecvTimeoutError::Timeout) => {}
        }
        let stop = match py.check_signals() {
            Err(signal) => Some(signal),
            Ok(()) => match (
                &progress,
                latest.lock().ok().and_then(|mut slot| slot.take()),
            ) {
                (Some(callback), Some(point)) => report_progress(py, callback, &point).err(),
                _ => None,
            },
        };
        if let Some(err) = stop {
            cancel.store(true, Ordering::SeqCst);
            return Err(stop_solve(py, err, worker, rx));
        }
    };
    drop(rx);
    // The worker has sent its result; joining only reaps the thread.
    let _ = py.detach(|| worker.join());
    match outcome {
        Some(Ok(result)) => to_json(&result),
        Some(Err(err)) => Err(to_py_err(py, err)),
        None => Err(to_py_err(
            py,
            StockadeError::Solver("the solve thread ended without a result (panic)".to_string()),
        )),
    }
}

/// How long a cancelled solve may take to stop before the caller gets control back anyway.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// The cancel flag is up: waits (GIL released) for HiGHS to stop and returns `err` (the
/// KeyboardInterrupt, or the progress callback's exception). HiGHS polls the flag at its
/// interrupt points, which presolve and the MIP solver's root LP relaxation do not reach for a
/// while; past [`STOP_GRACE`] the solve thread is left to stop by itself (it holds no Python
/// object) and a RuntimeWarning says so, so Ctrl-C always hands the prompt back promptly.
fn stop_solve(
    py: Python<'_>,
    err: PyErr,
    worker: std::thread::JoinHandle<()>,
    rx: mpsc::Receiver<Result<SolveResult, StockadeError>>,
) -> PyErr {
    let stopped = py.detach(move || match rx.recv_timeout(STOP_GRACE) {
        Ok(_) | Err(RecvTimeoutError::Disconnected) => {
            let _ = worker.join();
            true
        }
        Err(RecvTimeoutError::Timeout) => false,
    });
    if !stopped {
        let warned = PyErr::warn(
            py,
            &py.get_type::<pyo3::exceptions::PyRuntimeWarning>(),
            c"stockade: HiGHS is in a phase that does not check for interrupts (presolve or an \
              LP relaxation); the cancelled solve ends by itself in the background",
            1,
        );
        if let Err(warning_error) = warned {
            // Warnings turned into errors: the interrupt still wins, the warning is chained.
            err.set_cause(py, Some(warning_error));
        }
    }
    err
}

fn report_progress(py: Python<'_>, callback: &Bound<'_, PyAny>, p: &Progress) -> PyResult<()> {
    let point = PyDict::new(py);
    point.set_item("elapsed_s", p.elapsed_s)?;
    point.set_item("incumbent", p.incumbent)?;
    point.set_item("best_bound", p.best_bound)?;
    point.set_item("gap", p.gap)?;
    // A decomposition also says which iteration it is on and how many cuts its master holds.
    if let Some(i) = p.iteration {
        point.set_item("iteration", i)?;
    }
    if let Some(c) = p.cuts {
        point.set_item("cuts", c)?;
    }
    callback.call1((point,))?;
    Ok(())
}

/// Evaluates a fixed plan (JSON, as `solve --plan-out` writes it) on the model's explicit
/// scenarios, or on `scenarios` sampled from its hazards with `seed`, as `stockade evaluate
/// --json`. Settings (JSON) are `EvaluationSettings`. Runs with the GIL released; `progress`, when
/// given, is called on the calling thread with `(done, total)`. On Ctrl-C (or an exception from
/// `progress`) the core's cancel flag stops the evaluation between scenarios; the exception is
/// raised once it has stopped (or after STOP_GRACE).
#[pyfunction]
#[pyo3(signature = (model_json, plan_json, settings_json, scenarios=None, seed=1, progress=None))]
fn evaluate(
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
    if let Some(n) = scenarios {
        if net.model.hazards.is_empty() {
            return Err(input_err(
                py,
                InputError::single(
                    "hazards",
                    format!("scenarios={n} samples from the hazards, and the model has none"),
                ),
            ));
        }
    }
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let total = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (done_w, total_w) = (Arc::clone(&done), Arc::clone(&total));
    let (tx, rx) = mpsc::channel::<Result<stockade::Evaluation, StockadeError>>();
    let cancel = Arc::new(AtomicBool::new(false));
    let cancel_w = Arc::clone(&cancel);
    std::thread::Builder::new()
        .name("stockade-evaluate".to_string())
        .spawn(move || {
            let set = match scenarios {
                Some(n) => stockade::ScenarioSet::sampled(&net, n, seed),
                None => stockade::ScenarioSet::explicit(&net),
            };
            let report = |d: usize, t: usize| {
                done_w.fetch_max(d, Ordering::Relaxed);
                total_w.store(t, Ordering::Relaxed);
            };
            let _ = tx.send(stockade::evaluate_with(
                &net,
                &plan,
                &set,
                &settings,
                &report,
                Some(&cancel_w),
            ));
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the evaluation: {e}")))?;
    let mut rx = rx;
    let mut reported = 0usize;
    loop {
        let (received, back) = py.detach(move || (rx.recv_timeout(POLL), rx));
        rx = back;
        match received {
            Ok(Ok(evaluation)) => return to_json(&evaluation),
            Ok(Err(err)) => return Err(to_py_err(py, err)),
            Err(RecvTimeoutError::Disconnected) => {
                return Err(to_py_err(
                    py,
                    StockadeError::Solver("the evaluation thread ended without a result".into()),
                ))
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        let step = py.check_signals().and_then(|()| match &progress {
            Some(callback) => {
                let d = done.load(Ordering::Relaxed);
                if d > reported {
                    reported = d;
                    callback.call1((d, total.load(Ordering::Relaxed)))?;
                }
                Ok(())
            }
            None => Ok(()),
        });
        if let Err(err) = step {
            // Stop the evaluation between scenarios and let it finish before raising.
            cancel.store(true, Ordering::SeqCst);
            let _ = py.detach(move || rx.recv_timeout(STOP_GRACE));
            return Err(err);
        }
    }
}

/// `EvaluationSettings::default()` as JSON.
#[pyfunction]
fn default_evaluation_settings() -> PyResult<String> {
    to_json(&stockade::EvaluationSettings::default())
}

/// The human report of a result (JSON), as `stockade solve` prints it.
#[pyfunction]
fn report(py: Python<'_>, result_json: &str) -> PyResult<String> {
    let result: SolveResult = from_json(py, result_json, "result", "not a solve result")?;
    Ok(stockade::report::render(&result))
}

/// OR-Library capacitated warehouse location text (`cap41` ... `capc`) to model JSON.
#[pyfunction]
#[pyo3(signature = (text, name, capacity=None, single_source=false, failures=None))]
fn import_orlib_cap(
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
fn import_holmberg(py: Python<'_>, text: &str, name: &str) -> PyResult<String> {
    let model = py
        .detach(|| import::holmberg(text, name))
        .map_err(|e| input_err(py, e))?;
    to_json(&model)
}

/// OR-Library p-median text to model JSON.
#[pyfunction]
fn import_orlib_pmed(py: Python<'_>, text: &str, name: &str) -> PyResult<String> {
    let model = py
        .detach(|| import::orlib_pmed(text, name))
        .map_err(|e| input_err(py, e))?;
    to_json(&model)
}

/// The native module.
/// `SweepSettings::default()` as JSON (solver settings, workers, warm_start).
#[pyfunction]
fn default_sweep_settings() -> PyResult<String> {
    to_json(&stockade::sweep::SweepSettings::default())
}

/// `FrontierSettings::default()` as JSON (resilience, points, beta, sweep).
#[pyfunction]
fn default_frontier_settings() -> PyResult<String> {
    to_json(&stockade::frontier::FrontierSettings::default())
}

/// Runs `work` (a sweep or a frontier) on its own thread with the GIL released. Every 100 ms the
/// calling thread checks for Ctrl-C and calls `progress(done, total)` when more variants have
/// finished. On Ctrl-C (or an exception from `progress`) it raises the cancel flag, waits up to
/// [`STOP_GRACE`] for the running solves to stop, and re-raises.
fn run_counted<T: Send + 'static>(
    py: Python<'_>,
    progress: Option<Bound<'_, PyAny>>,
    work: impl FnOnce(Arc<AtomicBool>, &(dyn Fn(usize, usize) + Sync)) -> Result<T, StockadeError>
        + Send
        + 'static,
) -> PyResult<T> {
    let cancel = Arc::new(AtomicBool::new(false));
    let counts: Arc<Mutex<Option<(usize, usize)>>> = Arc::new(Mutex::new(None));
    let (tx, rx) = mpsc::channel::<Result<T, StockadeError>>();
    let flag = Arc::clone(&cancel);
    let sink = Arc::clone(&counts);
    let worker = std::thread::Builder::new()
        .name("stockade-sweep".to_string())
        .spawn(move || {
            let report = move |done: usize, total: usize| {
                if let Ok(mut slot) = sink.lock() {
                    *slot = Some((done, total));
                }
            };
            let _ = tx.send(work(flag, &report));
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the sweep thread: {e}")))?;
    let mut rx = rx;
    let mut reported: Option<(usize, usize)> = None;
    let outcome = loop {
        let (received, back) = py.detach(move || (rx.recv_timeout(POLL), rx));
        rx = back;
        let latest = counts.lock().ok().and_then(|slot| *slot);
        let mut stop = py.check_signals().err();
        if stop.is_none() && latest != reported {
            if let (Some(callback), Some((done, total))) = (&progress, latest) {
                stop = callback.call1((done, total)).err();
            }
            reported = latest;
        }
        match (received, stop) {
            (Ok(_), Some(err)) => {
                // Finished, but the caller pressed Ctrl-C (or its callback raised) meanwhile.
                let _ = py.detach(|| worker.join());
                return Err(err);
            }
            (Ok(outcome), None) => break Some(outcome),
            (Err(RecvTimeoutError::Disconnected), _) => break None,
            (Err(RecvTimeoutError::Timeout), None) => {}
            (Err(RecvTimeoutError::Timeout), Some(err)) => {
                cancel.store(true, Ordering::SeqCst);
                let stopped = py.detach(move || match rx.recv_timeout(STOP_GRACE) {
                    Ok(_) | Err(RecvTimeoutError::Disconnected) => {
                        let _ = worker.join();
                        true
                    }
                    Err(RecvTimeoutError::Timeout) => false,
                });
                if !stopped {
                    let _ = PyErr::warn(
                        py,
                        &py.get_type::<pyo3::exceptions::PyRuntimeWarning>(),
                        c"stockade: the cancelled sweep's running solves end by themselves in \
                          the background",
                        1,
                    );
                }
                return Err(err);
            }
        }
    };
    let _ = py.detach(|| worker.join());
    match outcome {
        Some(Ok(value)) => Ok(value),
        Some(Err(err)) => Err(to_py_err(py, err)),
        None => Err(to_py_err(
            py,
            StockadeError::Solver("the sweep thread ended without a result (panic)".to_string()),
        )),
    }
}

/// Solves every variant of a model (JSON) over the Cartesian product of `parameters_json`
/// (`[{"path", "values"}]`) with `settings_json` (`SweepSettings`), and returns the sweep report
/// as JSON, as the CLI's `sweep --json`. The GIL is released while the variants solve;
/// `progress(done, total)` hears as variants finish; Ctrl-C stops the sweep.
#[pyfunction]
#[pyo3(signature = (model_json, parameters_json, settings_json, progress=None))]
fn sweep(
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
    let report = run_counted(py, progress, move |cancel, report| {
        stockade::sweep::sweep(&model, &parameters, &settings, Some(cancel), report)
    })?;
    to_json(&report)
}

/// Values of `FROM:TO:STEP` or `V1,V2,...` for parameter `path`, as `sweep --set` reads them.
#[pyfunction]
fn parameter_values(py: Python<'_>, path: &str, spec: &str) -> PyResult<Vec<f64>> {
    stockade::sweep::parse_values(path, spec).map_err(|e| input_err(py, e))
}

/// Every variant of a sweep, in sweep order, as JSON `[[[path, value], ...], ...]`, each written
/// into the model and validated first (a bad path or value raises `InputError` naming it). The
/// Ray backend sends these out as tasks.
#[pyfunction]
fn sweep_variants(py: Python<'_>, model_json: &str, parameters_json: &str) -> PyResult<String> {
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
fn frontier(
    py: Python<'_>,
    model_json: &str,
    settings_json: &str,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    let model = stockade::parse_model(model_json).map_err(|e| input_err(py, e))?;
    let settings: stockade::frontier::FrontierSettings =
        from_json(py, settings_json, "settings", "invalid settings")?;
    let report = run_counted(py, progress, move |cancel, report| {
        stockade::frontier::frontier(&model, &settings, Some(cancel), report)
    })?;
    to_json(&report)
}

fn saa_inputs(
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
fn saa(
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
fn saa_replication(
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
fn saa_combine(
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

fn share_inputs(
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
fn default_share_settings() -> PyResult<String> {
    to_json(&stockade::share::ShareSettings::default())
}

/// The cost-sharing analysis of a model with parties (JSON), as `stockade share --json`. GIL
/// released.
#[pyfunction]
fn share(py: Python<'_>, model_json: &str, settings_json: &str) -> PyResult<String> {
    let (net, settings) = share_inputs(py, model_json, settings_json)?;
    let report = py
        .detach(move || stockade::share::share(&net, &settings, &|_, _| {}))
        .map_err(|e| to_py_err(py, e))?;
    to_json(&report)
}

/// The coalitions (bit masks over `parties`) a share analysis needs, as a JSON list.
#[pyfunction]
fn share_coalitions(py: Python<'_>, model_json: &str, settings_json: &str) -> PyResult<String> {
    let (net, settings) = share_inputs(py, model_json, settings_json)?;
    let masks =
        stockade::share::coalitions_needed(&net, &settings).map_err(|e| to_py_err(py, e))?;
    to_json(&masks)
}

/// One coalition's stand-alone value (`[result, level]` as JSON): the unit of work the Ray
/// backend sends out. GIL released.
#[pyfunction]
fn share_coalition(
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
fn share_combine(
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

fn frontier_inputs(
    py: Python<'_>,
    model_json: &str,
    settings_json: &str,
) -> PyResult<(stockade::Model, stockade::frontier::FrontierSettings)> {
    let model = stockade::parse_model(model_json).map_err(|e| input_err(py, e))?;
    let settings: stockade::frontier::FrontierSettings =
        from_json(py, settings_json, "settings", "invalid settings")?;
    Ok((model, settings))
}

fn parse_levels(py: Python<'_>, levels_json: &str) -> PyResult<stockade::frontier::FrontierLevels> {
    from_json(py, levels_json, "levels", "invalid frontier levels")
}

/// The levels of a frontier (JSON), found before any is solved. GIL released.
#[pyfunction]
fn frontier_levels(py: Python<'_>, model_json: &str, settings_json: &str) -> PyResult<String> {
    let (model, settings) = frontier_inputs(py, model_json, settings_json)?;
    let levels = py
        .detach(move || stockade::frontier::frontier_levels(&model, &settings, None))
        .map_err(|e| to_py_err(py, e))?;
    to_json(&levels)
}

/// Level `i` of a frontier solved alone (a point, as JSON): the unit of work the Ray backend
/// sends out. GIL released.
#[pyfunction]
fn frontier_point(
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
fn frontier_report(
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

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(default_settings, m)?)?;
    m.add_function(wrap_pyfunction!(schema, m)?)?;
    m.add_function(wrap_pyfunction!(parse_model, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(solve, m)?)?;
    m.add_function(wrap_pyfunction!(report, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(default_evaluation_settings, m)?)?;
    m.add_function(wrap_pyfunction!(import_orlib_cap, m)?)?;
    m.add_function(wrap_pyfunction!(import_holmberg, m)?)?;
    m.add_function(wrap_pyfunction!(import_orlib_pmed, m)?)?;
    m.add_function(wrap_pyfunction!(default_sweep_settings, m)?)?;
    m.add_function(wrap_pyfunction!(default_frontier_settings, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(frontier, m)?)?;
    m.add_function(wrap_pyfunction!(parameter_values, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_variants, m)?)?;
    m.add_function(wrap_pyfunction!(saa, m)?)?;
    m.add_function(wrap_pyfunction!(saa_replication, m)?)?;
    m.add_function(wrap_pyfunction!(saa_combine, m)?)?;
    m.add_function(wrap_pyfunction!(default_share_settings, m)?)?;
    m.add_function(wrap_pyfunction!(share, m)?)?;
    m.add_function(wrap_pyfunction!(share_coalitions, m)?)?;
    m.add_function(wrap_pyfunction!(share_coalition, m)?)?;
    m.add_function(wrap_pyfunction!(share_combine, m)?)?;
    m.add_function(wrap_pyfunction!(frontier_levels, m)?)?;
    m.add_function(wrap_pyfunction!(frontier_point, m)?)?;
    m.add_function(wrap_pyfunction!(frontier_report, m)?)?;
    Ok(())
}
