//! The one place that talks to HiGHS through its C API: options, the model hand-over, the
//! status mapping and the callback bridge. All `unsafe` of the crate lives here.

use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::atomic::Ordering;
use std::time::Instant;

use highs_sys as sys;

use crate::solver::mip::SparseMip;
use crate::solver::settings::{relative_gap, Progress, Settings, SolveControl, SolverRun, Status};
use crate::StockadeError;

mod session;

pub(crate) use session::LpSession;

/// Owns a `Highs` instance and frees it on drop.
struct Instance(*mut c_void);

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: the pointer came from Highs_create and is destroyed exactly once.
        unsafe { sys::Highs_destroy(self.0) }
    }
}

impl Instance {
    fn new() -> Result<Self, StockadeError> {
        // SAFETY: Highs_create has no preconditions; a null return is handled.
        let ptr = unsafe { sys::Highs_create() };
        if ptr.is_null() {
            return Err(StockadeError::Solver("Highs_create returned null".into()));
        }
        Ok(Instance(ptr))
    }

    fn check(&self, what: &str, status: sys::HighsInt) -> Result<(), StockadeError> {
        if status == sys::kHighsStatusError {
            Err(StockadeError::Solver(format!("HiGHS rejected {what}")))
        } else {
            Ok(())
        }
    }

    fn set_bool(&self, name: &str, value: bool) -> Result<(), StockadeError> {
        let key = CString::new(name).map_err(|e| StockadeError::Solver(e.to_string()))?;
        // SAFETY: valid instance and NUL-terminated option name.
        let st = unsafe { sys::Highs_setBoolOptionValue(self.0, key.as_ptr(), c_int::from(value)) };
        self.check(name, st)
    }

    fn set_int(&self, name: &str, value: i64) -> Result<(), StockadeError> {
        let key = CString::new(name).map_err(|e| StockadeError::Solver(e.to_string()))?;
        let value = sys::HighsInt::try_from(value)
            .map_err(|_| StockadeError::Solver(format!("{name} out of range")))?;
        // SAFETY: valid instance and NUL-terminated option name.
        let st = unsafe { sys::Highs_setIntOptionValue(self.0, key.as_ptr(), value) };
        self.check(name, st)
    }

    fn set_double(&self, name: &str, value: f64) -> Result<(), StockadeError> {
        let key = CString::new(name).map_err(|e| StockadeError::Solver(e.to_string()))?;
        // SAFETY: valid instance and NUL-terminated option name.
        let st = unsafe { sys::Highs_setDoubleOptionValue(self.0, key.as_ptr(), value) };
        self.check(name, st)
    }

    fn set_string(&self, name: &str, value: &str) -> Result<(), StockadeError> {
        let key = CString::new(name).map_err(|e| StockadeError::Solver(e.to_string()))?;
        let val = CString::new(value).map_err(|e| StockadeError::Solver(e.to_string()))?;
        // SAFETY: valid instance and NUL-terminated strings.
        let st = unsafe { sys::Highs_setStringOptionValue(self.0, key.as_ptr(), val.as_ptr()) };
        self.check(name, st)
    }

    fn info_double(&self, name: &str) -> Option<f64> {
        let key = CString::new(name).ok()?;
        let mut out = 0.0;
        // SAFETY: valid instance, NUL-terminated name, out points to a live f64.
        let st = unsafe { sys::Highs_getDoubleInfoValue(self.0, key.as_ptr(), &mut out) };
        (st == sys::kHighsStatusOk).then_some(out)
    }

    fn info_int(&self, name: &str) -> Option<i64> {
        let key = CString::new(name).ok()?;
        let mut out: sys::HighsInt = 0;
        // SAFETY: valid instance, NUL-terminated name, out points to a live HighsInt.
        let st = unsafe { sys::Highs_getIntInfoValue(self.0, key.as_ptr(), &mut out) };
        (st == sys::kHighsStatusOk).then_some(i64::from(out))
    }
}

/// HiGHS runs one thread pool per process, sized by the first solve: a later solve that asks for
/// another size fails outright. So the first request fixes the size (0 = HiGHS's default) and
/// later requests for another size run on the existing pool instead of failing.
static SCHEDULER: std::sync::Mutex<Option<u32>> = std::sync::Mutex::new(None);

/// The thread count to pass to HiGHS for a request, if any.
fn scheduler_threads(requested: Option<u32>) -> Option<u32> {
    let Ok(mut pool) = SCHEDULER.lock() else {
        return None;
    };
    let want = requested.map_or(0, |n| n.max(1));
    match *pool {
        None => {
            *pool = Some(want);
            requested.map(|n| n.max(1))
        }
        Some(size) if size == want && want > 0 => Some(want),
        Some(_) => None,
    }
}

fn apply_settings(h: &Instance, settings: &Settings) -> Result<(), StockadeError> {
    // What HiGHS would reject is the caller's input, said by field, not a solver failure.
    settings.check_highs("settings")?;
    h.set_bool("output_flag", settings.log)?;
    if settings.log {
        // HiGHS's console is stdout, where `--json` output goes: its log goes to stderr instead,
        // through its log file option.
        h.set_bool("log_to_console", false)?;
        h.set_string("log_file", "/dev/stderr")?;
    }
    if let Some(t) = settings.time_limit_s {
        h.set_double("time_limit", t.max(0.0))?;
    }
    h.set_double("mip_rel_gap", settings.mip_gap.max(0.0))?;
    if let Some(n) = scheduler_threads(settings.threads) {
        h.set_int("threads", i64::from(n))?;
    }
    h.set_int("random_seed", i64::from(settings.seed.min(i32::MAX as u32)))?;
    h.set_string("presolve", if settings.presolve { "on" } else { "off" })?;
    if let Some(tol) = settings.mip_feasibility_tolerance {
        h.set_double("mip_feasibility_tolerance", tol)?;
    }
    Ok(())
}

fn pass_model(h: &Instance, mip: &SparseMip) -> Result<(), StockadeError> {
    let to_int = |n: usize, what: &str| {
        sys::HighsInt::try_from(n)
            .map_err(|_| StockadeError::Solver(format!("model too large for HiGHS ({what} = {n})")))
    };
    let num_col = to_int(mip.num_cols(), "columns")?;
    let num_row = to_int(mip.num_rows(), "rows")?;
    let num_nz = to_int(mip.index.len(), "nonzeros")?;
    let starts: Vec<sys::HighsInt> = mip.row_start[..mip.num_rows()]
        .iter()
        .map(|s| *s as sys::HighsInt)
        .collect();
    let index: &[i32] = &mip.index;
    let integrality: Vec<sys::HighsInt> = mip
        .col_integer
        .iter()
        .map(|i| {
            if *i {
                sys::kHighsVarTypeInteger
            } else {
                sys::kHighsVarTypeContinuous
            }
        })
        .collect();
    let inf = 1e30; // HiGHS's infinity
    let clamp = |v: &f64| v.clamp(-inf, inf);
    let col_lower: Vec<f64> = mip.col_lower.iter().map(clamp).collect();
    let col_upper: Vec<f64> = mip.col_upper.iter().map(clamp).collect();
    let row_lower: Vec<f64> = mip.row_lower.iter().map(clamp).collect();
    let row_upper: Vec<f64> = mip.row_upper.iter().map(clamp).collect();
    // SAFETY: every array has the length HiGHS expects (num_col, num_row or num_nz) and
    // outlives the call; HiGHS copies the data.
    let st = unsafe {
        if mip.is_lp() {
            sys::Highs_passLp(
                h.0,
                num_col,
                num_row,
                num_nz,
                sys::kHighsMatrixFormatRowwise,
                sys::kHighsObjSenseMinimize,
                mip.offset,
                mip.col_cost.as_ptr(),
                col_lower.as_ptr(),
                col_upper.as_ptr(),
                row_lower.as_ptr(),
                row_upper.as_ptr(),
                starts.as_ptr(),
                index.as_ptr(),
                mip.value.as_ptr(),
            )
        } else {
            sys::Highs_passMip(
                h.0,
                num_col,
                num_row,
                num_nz,
                sys::kHighsMatrixFormatRowwise,
                sys::kHighsObjSenseMinimize,
                mip.offset,
                mip.col_cost.as_ptr(),
                col_lower.as_ptr(),
                col_upper.as_ptr(),
                row_lower.as_ptr(),
                row_upper.as_ptr(),
                starts.as_ptr(),
                index.as_ptr(),
                mip.value.as_ptr(),
                integrality.as_ptr(),
            )
        }
    };
    h.check("the model", st)
}

/// Hands a primal solution to HiGHS as a MIP start: a whole one (every column, in order) as it
/// is, which HiGHS only checks; a partial one for HiGHS to complete by a sub-MIP over the rest.
/// Entries naming a column the model does not have or a non-finite value are dropped; HiGHS's
/// answer is ignored on purpose (see [`run_from`]).
fn set_start(h: &Instance, mip: &SparseMip, start: &[(usize, f64)]) {
    let whole = start.len() == mip.num_cols()
        && start
            .iter()
            .enumerate()
            .all(|(i, (c, v))| i == *c && v.is_finite());
    if whole {
        let values: Vec<f64> = start.iter().map(|(_, v)| *v).collect();
        // SAFETY: valid instance with a model passed; `values` holds one entry per column and
        // HiGHS copies it before returning; the row and dual arrays may be null.
        let _status = unsafe {
            sys::Highs_setSolution(
                h.0,
                values.as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        return;
    }
    let (index, value): (Vec<sys::HighsInt>, Vec<f64>) = start
        .iter()
        .filter(|(c, v)| *c < mip.num_cols() && v.is_finite())
        .filter_map(|(c, v)| Some((sys::HighsInt::try_from(*c).ok()?, *v)))
        .unzip();
    let Ok(count) = sys::HighsInt::try_from(index.len()) else {
        return;
    };
    if count == 0 {
        return;
    }
    // SAFETY: valid instance with a model passed; `index` and `value` both hold `count` entries,
    // every index is a column of that model, and HiGHS copies them before returning.
    let _status =
        unsafe { sys::Highs_setSparseSolution(h.0, count, index.as_ptr(), value.as_ptr()) };
}

/// Data the callback reads; lives on the stack of [`run`] for the whole solve.
struct CallbackData<'a> {
    control: &'a SolveControl,
}

extern "C" fn callback(
    callback_type: c_int,
    _message: *const c_char,
    data_out: *const sys::HighsCallbackDataOut,
    data_in: *mut sys::HighsCallbackDataIn,
    user_data: *mut c_void,
) {
    if user_data.is_null() {
        return;
    }
    // SAFETY: user_data is the &CallbackData passed to Highs_setCallback in `run`, alive until
    // HiGHS returns from Highs_run.
    let data = unsafe { &*(user_data as *const CallbackData<'_>) };
    let interrupt_kinds = [
        sys::kHighsCallbackSimplexInterrupt,
        sys::kHighsCallbackIpmInterrupt,
        sys::kHighsCallbackMipInterrupt,
    ];
    if interrupt_kinds.contains(&callback_type) {
        let cancelled = data
            .control
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed));
        if cancelled && !data_in.is_null() {
            // SAFETY: HiGHS passes a valid data_in for interrupt callbacks.
            unsafe { (*data_in).user_interrupt = 1 };
        }
        return;
    }
    let progress_kinds = [
        sys::kHighsCallbackMipImprovingSolution,
        sys::kHighsCallbackMipLogging,
    ];
    if progress_kinds.contains(&callback_type) && !data_out.is_null() {
        if let Some(sink) = &data.control.progress {
            // SAFETY: HiGHS passes a valid data_out for MIP callbacks.
            let out = unsafe { &*data_out };
            let finite = |v: f64| (v.is_finite() && v.abs() < 1e29).then_some(v);
            sink(&Progress {
                elapsed_s: out.running_time,
                incumbent: finite(out.mip_primal_bound),
                best_bound: finite(out.mip_dual_bound),
                gap: finite(out.mip_gap),
                iteration: None,
                cuts: None,
            });
        }
    }
}

/// Maps HiGHS's model status to ours. Every value has an arm; unknown ones become `Unknown`.
fn map_status(code: sys::HighsInt) -> (Status, &'static str) {
    match code {
        sys::kHighsModelStatusOptimal => (Status::Optimal, "optimal"),
        sys::kHighsModelStatusModelEmpty => (Status::Optimal, "model empty"),
        sys::kHighsModelStatusInfeasible => (Status::Infeasible, "infeasible"),
        sys::kHighsModelStatusUnboundedOrInfeasible => {
            (Status::Infeasible, "unbounded or infeasible")
        }
        sys::kHighsModelStatusUnbounded => (Status::Unbounded, "unbounded"),
        sys::kHighsModelStatusTimeLimit => (Status::TimeLimit, "time limit"),
        sys::kHighsModelStatusInterrupt | sys::kHighsModelStatusHighsInterrupt => {
            (Status::Interrupted, "interrupted")
        }
        sys::kHighsModelStatusIterationLimit => (Status::Unknown, "iteration limit"),
        sys::kHighsModelStatusSolutionLimit => (Status::Unknown, "solution limit"),
        sys::kHighsModelStatusMemoryLimit => (Status::Unknown, "memory limit"),
        sys::kHighsModelStatusObjectiveBound => (Status::Unknown, "objective bound"),
        sys::kHighsModelStatusObjectiveTarget => (Status::Unknown, "objective target"),
        sys::kHighsModelStatusNotset => (Status::Unknown, "not set"),
        sys::kHighsModelStatusLoadError => (Status::Unknown, "load error"),
        sys::kHighsModelStatusModelError => (Status::Unknown, "model error"),
        sys::kHighsModelStatusPresolveError => (Status::Unknown, "presolve error"),
        sys::kHighsModelStatusSolveError => (Status::Unknown, "solve error"),
        sys::kHighsModelStatusPostsolveError => (Status::Unknown, "postsolve error"),
        _ => (Status::Unknown, "unrecognised HiGHS status"),
    }
}

/// Passes `mip` to a fresh HiGHS instance and frees it without solving: the model hand-over
/// alone, for measuring what a build costs up to the point where HiGHS holds the model.
pub(crate) fn load_only(mip: &SparseMip) -> Result<(), StockadeError> {
    let h = Instance::new()?;
    h.set_bool("output_flag", false)?;
    pass_model(&h, mip)
}

/// Passes `mip` to a fresh HiGHS instance, solves it and reads the outcome back.
pub(crate) fn run(
    mip: &SparseMip,
    settings: &Settings,
    control: &SolveControl,
) -> Result<SolverRun, StockadeError> {
    run_from(mip, settings, control, &[])
}

/// [`run`] with a MIP start: `start` gives values of some columns (column index, value), as a
/// neighbouring solve found them. HiGHS completes a partial start (fixing its integers and
/// solving for the rest) and keeps it as the first incumbent when it is feasible; an infeasible
/// or rejected start is only a hint that did not help, so the solve goes on without it.
pub(crate) fn run_from(
    mip: &SparseMip,
    settings: &Settings,
    control: &SolveControl,
    start: &[(usize, f64)],
) -> Result<SolverRun, StockadeError> {
    let started = Instant::now();
    let h = Instance::new()?;
    apply_settings(&h, settings)?;
    pass_model(&h, mip)?;
    if !start.is_empty() && !mip.is_lp() {
        set_start(&h, mip, start);
    }

    let data = CallbackData { control };
    let wants_callback = control.cancel.is_some() || control.progress.is_some();
    if wants_callback {
        // SAFETY: `data` outlives Highs_run below; the callback only reads it.
        let st = unsafe {
            sys::Highs_setCallback(
                h.0,
                Some(callback),
                &data as *const CallbackData<'_> as *mut c_void,
            )
        };
        h.check("the callback", st)?;
        let mut kinds = vec![
            sys::kHighsCallbackSimplexInterrupt,
            sys::kHighsCallbackIpmInterrupt,
            sys::kHighsCallbackMipInterrupt,
        ];
        if control.progress.is_some() {
            kinds.push(sys::kHighsCallbackMipImprovingSolution);
            kinds.push(sys::kHighsCallbackMipLogging);
        }
        for kind in kinds {
            // SAFETY: valid instance; kind is one of HiGHS's callback constants.
            let st = unsafe { sys::Highs_startCallback(h.0, kind) };
            h.check("a callback kind", st)?;
        }
    }

    // SAFETY: valid instance with a model passed.
    let mut run_status = unsafe { sys::Highs_run(h.0) };
    if run_status == sys::kHighsStatusError && settings.threads.is_some() {
        // HiGHS refuses to run when `threads` differs from the size its scheduler already has
        // on this thread (sized by an earlier solve that set no count, which the process-wide
        // bookkeeping in `scheduler_threads` cannot see). The solve then runs on that pool.
        // SAFETY: valid instance.
        let code = unsafe { sys::Highs_getModelStatus(h.0) };
        if code == sys::kHighsModelStatusNotset && h.set_int("threads", 0).is_ok() {
            // SAFETY: valid instance with a model passed.
            run_status = unsafe { sys::Highs_run(h.0) };
        }
    }
    let runtime_s = started.elapsed().as_secs_f64();
    // SAFETY: valid instance.
    let code = unsafe { sys::Highs_getModelStatus(h.0) };
    let (mut status, detail) = map_status(code);
    if run_status == sys::kHighsStatusError && status == Status::Optimal {
        status = Status::Unknown;
    }

    let primal_status = h.info_int("primal_solution_status").unwrap_or(0);
    // 2 = kHighsSolutionStatusFeasible
    let has_solution = primal_status == 2;
    let mut values = Vec::new();
    let mut row_duals = Vec::new();
    if has_solution {
        values = vec![0.0; mip.num_cols()];
        let mut col_dual = vec![0.0; mip.num_cols()];
        let mut row_value = vec![0.0; mip.num_rows()];
        row_duals = vec![0.0; mip.num_rows()];
        // SAFETY: each buffer has the length HiGHS writes (columns or rows of the passed model).
        // A model without columns (an empty network) has nothing to read, and HiGHS says
        // so with an error: its values and duals are the zeros already here.
        let st = if values.is_empty() {
            sys::kHighsStatusOk
        } else {
            unsafe {
                sys::Highs_getSolution(
                    h.0,
                    values.as_mut_ptr(),
                    col_dual.as_mut_ptr(),
                    row_value.as_mut_ptr(),
                    row_duals.as_mut_ptr(),
                )
            }
        };
        h.check("reading the solution", st)?;
        if !mip.is_lp() {
            row_duals.clear();
        }
    }
    let objective = has_solution
        .then(|| h.info_double("objective_function_value"))
        .flatten();
    let (best_bound, mip_gap) = if mip.is_lp() {
        let b = (status == Status::Optimal).then_some(objective).flatten();
        (b, b.map(|_| 0.0))
    } else {
        let bound = h
            .info_double("mip_dual_bound")
            .filter(|b| b.is_finite() && b.abs() < 1e29);
        let gap = objective.zip(bound).map(|(o, b)| relative_gap(o, b));
        (bound, gap)
    };
    Ok(SolverRun {
        status,
        has_solution,
        objective,
        best_bound,
        mip_gap,
        runtime_s,
        size: mip.size(),
        detail: detail.to_string(),
        values,
        row_duals,
    })
}
