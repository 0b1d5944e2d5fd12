//! LP sessions: one HiGHS instance kept across many solves of the same LP, changing bounds, costs
//! and rows between them, each re-solve warm from the last basis (evaluation, Benders workers).

use super::*;

/// One HiGHS instance kept across many solves of the same LP, changing only bounds and
/// coefficients between them: HiGHS keeps its basis, so each re-solve is a warm-started dual
/// simplex.
pub struct LpSession {
    pub(super) highs: Instance,
    pub(super) num_cols: usize,
    pub(super) num_rows: usize,
}

// SAFETY: a HiGHS instance is plain heap data owned by this session; it is never shared (every
// method takes `&mut self`), and HiGHS's own thread pool is process-wide, not tied to the thread
// that created the instance, so the session may move to another thread between calls.
unsafe impl Send for LpSession {}

impl std::fmt::Debug for LpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LpSession")
            .field("num_cols", &self.num_cols)
            .field("num_rows", &self.num_rows)
            .finish()
    }
}

/// Outcome of one [`LpSession::solve`].
#[derive(Debug, Clone)]
pub struct LpOutcome {
    /// Status.
    pub status: Status,
    /// Objective when solved.
    pub objective: Option<f64>,
    /// Column values when solved.
    pub values: Vec<f64>,
    /// Row duals when solved: the change of the objective per unit increase of the row's active
    /// bound (<= 0 on an active upper bound of a minimisation).
    pub row_duals: Vec<f64>,
    /// Reduced costs when solved: the change of the objective per unit increase of the column's
    /// active bound.
    pub col_duals: Vec<f64>,
}

impl LpSession {
    /// Loads `mip` (which must be an LP) with the given settings.
    pub fn new(mip: &SparseMip, settings: &Settings) -> Result<Self, StockadeError> {
        if !mip.is_lp() {
            return Err(StockadeError::Solver(
                "an LP session needs a model without integer columns".into(),
            ));
        }
        let highs = Instance::new()?;
        apply_settings(&highs, settings)?;
        pass_model(&highs, mip)?;
        Ok(LpSession {
            highs,
            num_cols: mip.num_cols(),
            num_rows: mip.num_rows(),
        })
    }

    /// Sets the bounds of column `col`.
    pub fn set_col_bounds(
        &mut self,
        col: usize,
        lower: f64,
        upper: f64,
    ) -> Result<(), StockadeError> {
        if col >= self.num_cols {
            return Err(StockadeError::Solver(format!("column {col} out of range")));
        }
        let inf = 1e30;
        // SAFETY: valid instance, index checked above.
        let st = unsafe {
            sys::Highs_changeColBounds(
                self.highs.0,
                col as sys::HighsInt,
                lower.clamp(-inf, inf),
                upper.clamp(-inf, inf),
            )
        };
        self.highs.check("column bounds", st)
    }

    /// Sets the bounds of row `row`.
    pub fn set_row_bounds(
        &mut self,
        row: usize,
        lower: f64,
        upper: f64,
    ) -> Result<(), StockadeError> {
        if row >= self.num_rows {
            return Err(StockadeError::Solver(format!("row {row} out of range")));
        }
        let inf = 1e30;
        // SAFETY: valid instance, index checked above.
        let st = unsafe {
            sys::Highs_changeRowBounds(
                self.highs.0,
                row as sys::HighsInt,
                lower.clamp(-inf, inf),
                upper.clamp(-inf, inf),
            )
        };
        self.highs.check("row bounds", st)
    }

    /// Solves from the current basis. A warm solve that ends `unknown` (proving nothing) is run
    /// once more from scratch: HiGHS has been seen to end a
    /// warm re-solve `unknown` on an LP it then solves cold (a random fortification case,
    /// issue 21), and every session user (evaluation, Benders workers) needs the answer.
    pub fn solve(&mut self) -> Result<LpOutcome, StockadeError> {
        let mut status = self.run();
        if status == Status::Unknown {
            // SAFETY: valid instance; keeps the model, drops the basis and solution.
            unsafe { sys::Highs_clearSolver(self.highs.0) };
            status = self.run();
        }
        if status != Status::Optimal {
            return Ok(LpOutcome {
                status,
                objective: None,
                values: Vec::new(),
                row_duals: Vec::new(),
                col_duals: Vec::new(),
            });
        }
        let mut values = vec![0.0; self.num_cols];
        let mut col_dual = vec![0.0; self.num_cols];
        let mut row_value = vec![0.0; self.num_rows];
        let mut row_dual = vec![0.0; self.num_rows];
        // SAFETY: buffers sized to the model's columns and rows.
        // A model without columns (an empty network) has nothing to read, and HiGHS says
        // so with an error: its values and duals are the zeros already here.
        let st = if values.is_empty() {
            sys::kHighsStatusOk
        } else {
            unsafe {
                sys::Highs_getSolution(
                    self.highs.0,
                    values.as_mut_ptr(),
                    col_dual.as_mut_ptr(),
                    row_value.as_mut_ptr(),
                    row_dual.as_mut_ptr(),
                )
            }
        };
        self.highs.check("reading the solution", st)?;
        Ok(LpOutcome {
            status,
            objective: self.highs.info_double("objective_function_value"),
            values,
            row_duals: row_dual,
            col_duals: col_dual,
        })
    }

    /// Runs HiGHS on the session's model as it stands and maps its status.
    pub(super) fn run(&mut self) -> Status {
        // SAFETY: valid instance with a model.
        unsafe { sys::Highs_run(self.highs.0) };
        // SAFETY: valid instance.
        map_status(unsafe { sys::Highs_getModelStatus(self.highs.0) }).0
    }

    /// Sets the bounds of many rows in one call (`rows`, `lower` and `upper` of equal length).
    pub fn set_rows_bounds(
        &mut self,
        rows: &[i32],
        lower: &[f64],
        upper: &[f64],
    ) -> Result<(), StockadeError> {
        let n = self.num_rows;
        self.check_set(rows, n, lower.len(), upper.len(), "row")?;
        let (lower, upper) = clamp_bounds(lower, upper);
        // SAFETY: valid instance; the three arrays have `rows.len()` entries, each index in range.
        let st = unsafe {
            sys::Highs_changeRowsBoundsBySet(
                self.highs.0,
                rows.len() as sys::HighsInt,
                rows.as_ptr(),
                lower.as_ptr(),
                upper.as_ptr(),
            )
        };
        self.highs.check("row bounds", st)
    }

    /// Sets the bounds of many columns in one call.
    pub fn set_cols_bounds(
        &mut self,
        cols: &[i32],
        lower: &[f64],
        upper: &[f64],
    ) -> Result<(), StockadeError> {
        let n = self.num_cols;
        self.check_set(cols, n, lower.len(), upper.len(), "column")?;
        let (lower, upper) = clamp_bounds(lower, upper);
        // SAFETY: valid instance; the three arrays have `cols.len()` entries, each index in range.
        let st = unsafe {
            sys::Highs_changeColsBoundsBySet(
                self.highs.0,
                cols.len() as sys::HighsInt,
                cols.as_ptr(),
                lower.as_ptr(),
                upper.as_ptr(),
            )
        };
        self.highs.check("column bounds", st)
    }

    /// Sets the objective coefficients of many columns in one call.
    pub fn set_costs(&mut self, cols: &[i32], costs: &[f64]) -> Result<(), StockadeError> {
        let n = self.num_cols;
        self.check_set(cols, n, costs.len(), costs.len(), "column")?;
        // SAFETY: valid instance; both arrays have `cols.len()` entries, each index in range.
        let st = unsafe {
            sys::Highs_changeColsCostBySet(
                self.highs.0,
                cols.len() as sys::HighsInt,
                cols.as_ptr(),
                costs.as_ptr(),
            )
        };
        self.highs.check("costs", st)
    }

    /// Appends rows given in CSR form (`starts` has one entry per new row).
    pub fn add_rows(
        &mut self,
        lower: &[f64],
        upper: &[f64],
        starts: &[i32],
        index: &[i32],
        value: &[f64],
    ) -> Result<(), StockadeError> {
        let rows = lower.len();
        let in_range = index
            .iter()
            .all(|c| *c >= 0 && (*c as usize) < self.num_cols);
        let starts_ok = starts.len() == rows
            && starts.windows(2).all(|w| w[0] <= w[1])
            && starts
                .iter()
                .all(|s| *s >= 0 && (*s as usize) <= index.len());
        if upper.len() != rows || value.len() != index.len() || !in_range || !starts_ok {
            return Err(StockadeError::Solver("malformed rows to add".into()));
        }
        if rows == 0 {
            return Ok(());
        }
        let (lower, upper) = clamp_bounds(lower, upper);
        // SAFETY: valid instance; `lower`, `upper` and `starts` have `rows` entries, `index` and
        // `value` have `index.len()` entries, every column index is in range (checked above).
        let st = unsafe {
            sys::Highs_addRows(
                self.highs.0,
                rows as sys::HighsInt,
                lower.as_ptr(),
                upper.as_ptr(),
                index.len() as sys::HighsInt,
                starts.as_ptr(),
                index.as_ptr(),
                value.as_ptr(),
            )
        };
        self.highs.check("new rows", st)?;
        self.num_rows += rows;
        Ok(())
    }

    pub(super) fn check_set(
        &self,
        set: &[i32],
        limit: usize,
        a: usize,
        b: usize,
        what: &str,
    ) -> Result<(), StockadeError> {
        if a != set.len() || b != set.len() {
            return Err(StockadeError::Solver(format!("{what} set lengths differ")));
        }
        if let Some(bad) = set.iter().find(|i| **i < 0 || **i as usize >= limit) {
            return Err(StockadeError::Solver(format!("{what} {bad} out of range")));
        }
        Ok(())
    }
}

pub(super) fn clamp_bounds(lower: &[f64], upper: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let inf = 1e30;
    (
        lower.iter().map(|v| v.clamp(-inf, inf)).collect(),
        upper.iter().map(|v| v.clamp(-inf, inf)).collect(),
    )
}
