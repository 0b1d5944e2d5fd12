//! A sparse mixed-integer program in row-wise (CSR) form, built row by row and handed to HiGHS in
//! one call. Rows carry the constraint family they belong to, so a formulation's size can be
//! inspected family by family.

/// Index of a column (variable) in a [`SparseMip`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Col(pub usize);

/// Index of a row (constraint) in a [`SparseMip`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Row(pub usize);

/// A minimisation MIP: `min c'x + offset` s.t. `row_lower <= A x <= row_upper`,
/// `col_lower <= x <= col_upper`, some `x` integer.
#[derive(Debug, Clone, Default)]
pub struct SparseMip {
    /// Objective coefficients.
    pub col_cost: Vec<f64>,
    /// Column lower bounds.
    pub col_lower: Vec<f64>,
    /// Column upper bounds (`f64::INFINITY` for none).
    pub col_upper: Vec<f64>,
    /// Whether each column is integer.
    pub col_integer: Vec<bool>,
    /// Row lower bounds (`f64::NEG_INFINITY` for none).
    pub row_lower: Vec<f64>,
    /// Row upper bounds (`f64::INFINITY` for none).
    pub row_upper: Vec<f64>,
    /// Family (index into `families`) of each row.
    pub row_family: Vec<u16>,
    /// CSR row starts; `row_start.len() == rows + 1`.
    pub row_start: Vec<usize>,
    /// CSR column indices.
    pub index: Vec<i32>,
    /// CSR values.
    pub value: Vec<f64>,
    /// Names of the constraint families.
    pub families: Vec<&'static str>,
    /// Constant added to the objective.
    pub offset: f64,
}

/// Size of a model as HiGHS sees it.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
pub struct ModelSize {
    /// Constraints.
    pub rows: usize,
    /// Variables.
    pub columns: usize,
    /// Nonzeros of the constraint matrix.
    pub nonzeros: usize,
    /// Integer (including binary) variables.
    pub integer_columns: usize,
}

impl SparseMip {
    /// An empty model.
    pub fn new() -> Self {
        SparseMip {
            row_start: vec![0],
            ..Default::default()
        }
    }

    /// Adds a column with its cost and bounds.
    pub fn add_col(&mut self, cost: f64, lower: f64, upper: f64, integer: bool) -> Col {
        self.col_cost.push(cost);
        self.col_lower.push(lower);
        self.col_upper.push(upper);
        self.col_integer.push(integer);
        Col(self.col_cost.len() - 1)
    }

    /// Adds a binary column.
    pub fn add_binary(&mut self, cost: f64) -> Col {
        self.add_col(cost, 0.0, 1.0, true)
    }

    /// Registers a constraint family and returns its tag for [`SparseMip::add_row`].
    pub fn family(&mut self, name: &'static str) -> u16 {
        if let Some(i) = self.families.iter().position(|f| *f == name) {
            return i as u16;
        }
        self.families.push(name);
        (self.families.len() - 1) as u16
    }

    /// Adds `lower <= sum coef * col <= upper`. Zero coefficients are dropped; repeated columns
    /// are kept as given (HiGHS sums them), so callers pass each column once.
    pub fn add_row(
        &mut self,
        family: u16,
        lower: f64,
        upper: f64,
        terms: impl IntoIterator<Item = (Col, f64)>,
    ) -> Row {
        for (col, coef) in terms {
            if coef != 0.0 {
                self.index.push(col.0 as i32);
                self.value.push(coef);
            }
        }
        self.row_start.push(self.index.len());
        self.row_lower.push(lower);
        self.row_upper.push(upper);
        self.row_family.push(family);
        Row(self.row_lower.len() - 1)
    }

    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.row_lower.len()
    }

    /// Number of columns.
    pub fn num_cols(&self) -> usize {
        self.col_cost.len()
    }

    /// Size as HiGHS sees it.
    pub fn size(&self) -> ModelSize {
        ModelSize {
            rows: self.num_rows(),
            columns: self.num_cols(),
            nonzeros: self.index.len(),
            integer_columns: self.col_integer.iter().filter(|i| **i).count(),
        }
    }

    /// Rows per constraint family, by family name, as results report them.
    pub fn rows_by_family(&self) -> std::collections::BTreeMap<String, usize> {
        let mut counts = vec![0usize; self.families.len()];
        for f in &self.row_family {
            counts[*f as usize] += 1;
        }
        self.families
            .iter()
            .map(|f| f.to_string())
            .zip(counts)
            .collect()
    }

    /// Terms of row `r`.
    pub fn row_terms(&self, r: Row) -> impl Iterator<Item = (Col, f64)> + '_ {
        let (a, b) = (self.row_start[r.0], self.row_start[r.0 + 1]);
        self.index[a..b]
            .iter()
            .zip(&self.value[a..b])
            .map(|(i, v)| (Col(*i as usize), *v))
    }

    /// Value of row `r` at the point `x`.
    pub fn row_activity(&self, r: Row, x: &[f64]) -> f64 {
        self.row_terms(r).map(|(c, v)| v * x[c.0]).sum()
    }

    /// Whether every column is continuous.
    pub fn is_lp(&self) -> bool {
        !self.col_integer.iter().any(|i| *i)
    }
}

impl SparseMip {
    /// A copy without the columns `keep` rejects, and for every original column its index in the
    /// copy. The dropped columns must be fixed at zero (they then change no row).
    pub fn keep_columns(&self, keep: impl Fn(usize) -> bool) -> (SparseMip, Vec<Option<usize>>) {
        let mut map = vec![None; self.num_cols()];
        let mut out = SparseMip {
            families: self.families.clone(),
            offset: self.offset,
            row_lower: self.row_lower.clone(),
            row_upper: self.row_upper.clone(),
            row_family: self.row_family.clone(),
            ..SparseMip::new()
        };
        for (c, slot) in map.iter_mut().enumerate() {
            if keep(c) {
                *slot = Some(out.col_cost.len());
                out.col_cost.push(self.col_cost[c]);
                out.col_lower.push(self.col_lower[c]);
                out.col_upper.push(self.col_upper[c]);
                out.col_integer.push(self.col_integer[c]);
            }
        }
        for r in 0..self.num_rows() {
            for (col, v) in self.row_terms(Row(r)) {
                if let Some(k) = map[col.0] {
                    out.index.push(k as i32);
                    out.value.push(v);
                }
            }
            out.row_start.push(out.index.len());
        }
        (out, map)
    }
}
