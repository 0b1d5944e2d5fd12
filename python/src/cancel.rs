//! The one way a blocking call runs from Python: on its own thread with the GIL released, while
//! the calling thread wakes every 100 ms to check for Ctrl-C and to hand the latest progress to
//! the caller's callback. On Ctrl-C, or an exception from the callback, the core's cancel flag
//! goes up and the call gets [`STOP_GRACE`] to stop before the exception is raised anyway (with
//! a RuntimeWarning that the work ends in the background: HiGHS's presolve and root LP
//! relaxation do not poll the flag).

use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use stockade::solver::Progress;
use stockade::StockadeError;

use crate::to_py_err;

/// How often the calling thread wakes to check for Ctrl-C and report progress.
const POLL: Duration = Duration::from_millis(100);

/// How long a cancelled call may take to stop before the caller gets control back anyway.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// The caller's progress callback and what it hears.
#[derive(Debug)]
pub enum Listener<'py> {
    /// No callback.
    None,
    /// A solve's progress: a dict `{elapsed_s, incumbent, best_bound, gap}` (and `iteration`,
    /// `cuts` under Benders) whenever the solver reported something new.
    Progress(Bound<'py, PyAny>),
    /// Steps of a total (scenarios, variants, levels): `(done, total)` whenever they change.
    Steps(Bound<'py, PyAny>),
}

impl<'py> Listener<'py> {
    /// A solve's listener.
    pub fn progress(callback: Option<Bound<'py, PyAny>>) -> Self {
        callback.map_or(Listener::None, Listener::Progress)
    }

    /// A stepped call's listener.
    pub fn steps(callback: Option<Bound<'py, PyAny>>) -> Self {
        callback.map_or(Listener::None, Listener::Steps)
    }
}

/// What the worker thread last reported, for the calling thread to pass on.
#[derive(Debug, Default)]
pub struct Latest {
    progress: Mutex<Option<Progress>>,
    steps: Mutex<Option<(usize, usize)>>,
}

impl Latest {
    /// A solve's progress point.
    pub fn progress(&self, p: &Progress) {
        if let Ok(mut slot) = self.progress.lock() {
            *slot = Some(*p);
        }
    }

    /// `done` of `total` steps (never going back).
    pub fn steps(&self, done: usize, total: usize) {
        if let Ok(mut slot) = self.steps.lock() {
            let done = slot.map_or(done, |(d, _)| d.max(done));
            *slot = Some((done, total));
        }
    }
}

/// Runs `work` (given the cancel flag and the report sink) as described in the module doc;
/// `name` names its thread, and `background` is the warning when it outlives the grace.
pub fn run_cancellable<T: Send + 'static>(
    py: Python<'_>,
    name: &str,
    listener: Listener<'_>,
    background: &'static CStr,
    work: impl FnOnce(Arc<AtomicBool>, Arc<Latest>) -> Result<T, StockadeError> + Send + 'static,
) -> PyResult<T> {
    let cancel = Arc::new(AtomicBool::new(false));
    let latest = Arc::new(Latest::default());
    let (tx, rx) = mpsc::channel::<Result<T, StockadeError>>();
    let (flag, sink) = (Arc::clone(&cancel), Arc::clone(&latest));
    let worker = std::thread::Builder::new()
        .name(format!("stockade-{name}"))
        .spawn(move || {
            // The receiver outlives the worker unless the caller is gone; nothing to do then.
            let _ = tx.send(work(flag, sink));
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the {name} thread: {e}")))?;
    let mut reported_steps: Option<(usize, usize)> = None;
    // A `Receiver` is not `Sync`, so it moves into each GIL-free wait and back out.
    let mut rx = rx;
    let outcome = loop {
        let (received, back) = py.detach(move || (rx.recv_timeout(POLL), rx));
        rx = back;
        match received {
            Ok(outcome) => break Some(outcome),
            Err(RecvTimeoutError::Disconnected) => break None,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let heard = py.check_signals().and_then(|()| match &listener {
            Listener::None => Ok(()),
            Listener::Progress(callback) => {
                let point = latest.progress.lock().ok().and_then(|mut slot| slot.take());
                match point {
                    Some(p) => report_progress(py, callback, &p),
                    None => Ok(()),
                }
            }
            Listener::Steps(callback) => new_steps(callback, &latest, &mut reported_steps),
        });
        if let Err(err) = heard {
            cancel.store(true, Ordering::SeqCst);
            return Err(stop(py, err, worker, rx, background));
        }
    };
    // The worker has sent its result; joining only reaps the thread.
    let _ = py.detach(|| worker.join());
    // The last steps (a short call may end before the first poll) reach the caller too.
    if let (Listener::Steps(callback), Some(Ok(_))) = (&listener, &outcome) {
        new_steps(callback, &latest, &mut reported_steps)?;
    }
    match outcome {
        Some(Ok(value)) => Ok(value),
        Some(Err(err)) => Err(to_py_err(py, err)),
        None => Err(to_py_err(
            py,
            StockadeError::Solver(format!("the {name} thread ended without a result (panic)")),
        )),
    }
}

/// The cancel flag is up: waits (GIL released) up to [`STOP_GRACE`] for the work to stop and
/// returns `err`, with a RuntimeWarning when it did not stop in time.
fn stop<T: Send + 'static>(
    py: Python<'_>,
    err: PyErr,
    worker: std::thread::JoinHandle<()>,
    rx: mpsc::Receiver<Result<T, StockadeError>>,
    background: &'static CStr,
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
            background,
            1,
        );
        if let Err(warning_error) = warned {
            // Warnings turned into errors: the interrupt still wins, the warning is chained.
            err.set_cause(py, Some(warning_error));
        }
    }
    err
}

/// Calls `callback(done, total)` when the steps changed since `reported`.
fn new_steps(
    callback: &Bound<'_, PyAny>,
    latest: &Latest,
    reported: &mut Option<(usize, usize)>,
) -> PyResult<()> {
    let now = latest.steps.lock().ok().and_then(|slot| *slot);
    if let Some((done, total)) = now.filter(|n| Some(*n) != *reported) {
        *reported = now;
        callback.call1((done, total))?;
    }
    Ok(())
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
