//! The scenario template: one scenario's second stage as an LP over its own columns, its coupling
//! to the first stage, open links held as column bounds, and how each scenario differs from it.

use super::*;

/// The second stage of one scenario as an LP over its own columns.
#[derive(Debug, Clone)]
pub(super) struct Template {
    /// First-stage columns (the master's first `first` columns).
    pub(super) first: usize,
    /// The LP: second-stage columns only, rows that touch them; costs at probability 1.
    pub(super) lp: SparseMip,
    /// Coupling of each LP row with the first stage: (row, first-stage column, coefficient).
    pub(super) coupling: Vec<(u32, u32, f64)>,
    /// LP columns of hard-demand shortfall, fixed at 0 except in the phase-one LP.
    pub(super) hard_shortfall: Vec<(u32, f64)>,
    /// Open links held as column bounds (see [`SiteBlock`]).
    pub(super) links: Vec<BoundLink>,
    /// Rows of the one-scenario build's LP that became [`BoundLink`]s.
    pub(super) link_rows: Vec<bool>,
    /// Facility-location blocks whose cuts are strengthened.
    pub(super) blocks: Vec<SiteBlock>,
    /// Upper bounds of the first-stage columns in the master (for [`strengthen`]).
    pub(super) first_upper: Vec<f64>,
}

/// An open link `x_col <= coef * y_first` (`site_demand_link`: a site delivers nothing unless
/// open) held as a column bound that moves with the first stage, not as a row: the scenario LP of
/// OR-Library's capa has 100,000 such rows besides 1,100 others.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct BoundLink {
    pub(super) col: u32,
    pub(super) first: u32,
    pub(super) coef: f64,
}

/// A site whose flows lie on no row but its capacity row, one demand row each and their open
/// links: the facility-location structure of the OR-Library instances. For such a site the cut
/// is strengthened (Magnanti and Wong's idea, in the closed form facility location allows): with
/// the demand rows' duals `u` fixed, the capacity dual `w` and the link duals
/// `v_k = (u_j - c_k - w)^+` are chosen to minimise the site's term
/// `K(y) w + sum_k L_k(y) v_k` (a convex piecewise-linear function of `w` alone) at the point,
/// ties broken at the site fully open. The dual stays feasible and the cut stays tight at the
/// point (the LP's own duals are one choice of `w`), and a closed site gets the smallest
/// coefficient any dual with these `u` allows, instead of whatever a degenerate simplex left.
/// With `w` per site given, the cut is `sum_j d_j u_j - sum_i y_i G_i(u)` where `G_i` is the
/// best a site can earn from the customers at prices `u` within its capacity (a fractional
/// knapsack): the Lagrangian cut of capacitated facility location, one customer at a time.
#[derive(Debug, Clone)]
pub(super) struct SiteBlock {
    /// Its capacity row (LP row).
    pub(super) capacity_row: u32,
    /// Its flows: (LP column, demand row of the flow's customer, index into `links`).
    pub(super) flows: Vec<(u32, u32, u32)>,
}

/// Coupling terms: (row, first-stage column, coefficient).
pub(super) type Coupling = Vec<(u32, u32, f64)>;

/// A cut as a master row: (lower, upper, terms).
pub(super) type CutRow = (f64, f64, Vec<(Col, f64)>);

/// How one scenario differs from the template.
#[derive(Debug, Clone, Default)]
pub(super) struct ScenarioDelta {
    pub(super) probability: f64,
    /// (LP column, lower, upper) where they differ.
    pub(super) cols: Vec<(u32, f64, f64)>,
    /// (LP row, lower, upper) where they differ.
    pub(super) rows: Vec<(u32, f64, f64)>,
    /// (LP row, first-stage column, coefficient minus the template's).
    pub(super) coupling: Vec<(u32, u32, f64)>,
}

impl ScenarioDelta {
    /// Everything but the probability, bit for bit: equal signatures mean equal LPs.
    pub(super) fn signature(&self) -> Vec<u64> {
        let mut key =
            Vec::with_capacity(3 * (self.cols.len() + self.rows.len() + self.coupling.len()) + 2);
        for (c, lo, hi) in &self.cols {
            key.extend([u64::from(*c), lo.to_bits(), hi.to_bits()]);
        }
        key.push(u64::MAX);
        for (r, lo, hi) in &self.rows {
            key.extend([u64::from(*r), lo.to_bits(), hi.to_bits()]);
        }
        key.push(u64::MAX);
        for (r, c, v) in &self.coupling {
            key.extend([u64::from(*r), u64::from(*c), v.to_bits()]);
        }
        key
    }
}

/// Splits a one-scenario build into its second-stage LP and its coupling.
pub(super) fn extract(problem: &SitingProblem<'_>) -> Result<(SparseMip, Coupling), StockadeError> {
    let mip = &problem.mip;
    let first = problem.first_stage_cols();
    let second = problem.second_stage_cols();
    let is_second = |c: usize| c >= first && c < first + second;
    let mut lp = SparseMip::new();
    for c in first..first + second {
        lp.add_col(mip.col_cost[c], mip.col_lower[c], mip.col_upper[c], false);
    }
    let mut coupling = Vec::new();
    for r in 0..mip.num_rows() {
        let span = mip.row_start[r]..mip.row_start[r + 1];
        if !mip.index[span.clone()]
            .iter()
            .any(|c| is_second(*c as usize))
        {
            continue;
        }
        let family = lp.family(mip.families[mip.row_family[r] as usize]);
        let mut terms = Vec::new();
        let row = lp.num_rows() as u32;
        for k in span {
            let c = mip.index[k] as usize;
            if is_second(c) {
                terms.push((Col(c - first), mip.value[k]));
            } else if c < first {
                coupling.push((row, c as u32, mip.value[k]));
            } else {
                return Err(StockadeError::Solver(
                    "a second-stage row touches a policy column: the model does not decompose"
                        .into(),
                ));
            }
        }
        lp.add_row(family, mip.row_lower[r], mip.row_upper[r], terms);
    }
    Ok((lp, coupling))
}

/// The [`SiteBlock`]s of a scenario LP (before its links become bounds): for each, its capacity
/// row and its flows with their demand rows; and which rows are the blocks' open links.
#[allow(clippy::type_complexity)]
pub(super) fn site_blocks(
    lp: &SparseMip,
    coupling: &Coupling,
) -> (Vec<(u32, Vec<(u32, u32)>)>, Vec<bool>) {
    let rows = lp.num_rows();
    let mut col_rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); lp.num_cols()];
    for r in 0..rows {
        for k in lp.row_start[r]..lp.row_start[r + 1] {
            col_rows[lp.index[k] as usize].push((r as u32, lp.value[k]));
        }
    }
    let mut row_coupling: Vec<Vec<(u32, f64)>> = vec![Vec::new(); rows];
    for (r, c, v) in coupling {
        row_coupling[*r as usize].push((*c, *v));
    }
    let family = |r: usize| lp.families[lp.row_family[r] as usize];
    // `x_k - coef * y_c <= 0`: one LP term with coefficient 1, one coupling term below 0.
    let is_link = |r: usize| {
        family(r) == "site_demand_link"
            && lp.row_start[r + 1] - lp.row_start[r] == 1
            && lp.value[lp.row_start[r]] == 1.0
            && row_coupling[r].len() == 1
            && row_coupling[r][0].1 < 0.0
            && lp.row_lower[r] == f64::NEG_INFINITY
            && lp.row_upper[r] == 0.0
    };
    let mut blocks = Vec::new();
    let mut link_rows = vec![false; rows];
    'rows: for (r, coupled) in row_coupling.iter().enumerate() {
        if family(r) != "site_capacity"
            || lp.row_upper[r] != 0.0
            || lp.row_lower[r] != f64::NEG_INFINITY
            || coupled.is_empty()
        {
            continue;
        }
        let mut flows = Vec::new();
        let mut links = Vec::new();
        for k in lp.row_start[r]..lp.row_start[r + 1] {
            let col = lp.index[k] as usize;
            let on = &col_rows[col];
            let plain = lp.value[k] == 1.0
                && lp.col_lower[col] == 0.0
                && lp.col_upper[col] == f64::INFINITY
                && lp.col_cost[col] >= 0.0
                && on.len() == 3;
            if !plain {
                continue 'rows;
            }
            let demand = on
                .iter()
                .find(|(o, v)| family(*o as usize) == "demand_balance" && *v == 1.0);
            let link = on.iter().find(|(o, _)| is_link(*o as usize));
            match (demand, link) {
                (Some((d, _)), Some((l, _))) => {
                    flows.push((col as u32, *d));
                    links.push(*l as usize);
                }
                _ => continue 'rows,
            }
        }
        for l in links {
            link_rows[l] = true;
        }
        blocks.push((r as u32, flows));
    }
    (blocks, link_rows)
}

/// The LP without the rows marked in `drop` (each an open link, see [`site_blocks`]), which
/// come back as [`BoundLink`]s; with the new index of every kept row. `None` when a marked row
/// is not an open link (`x - coef * y <= 0`, one LP term of coefficient 1, one coupling term):
/// a scenario whose rows differ from the template's there.
pub(super) fn without_link_rows(
    lp: &SparseMip,
    coupling: &Coupling,
    drop: &[bool],
) -> Option<(SparseMip, Coupling, Vec<BoundLink>, Vec<u32>)> {
    let mut out = SparseMip::new();
    out.col_cost = lp.col_cost.clone();
    out.col_lower = lp.col_lower.clone();
    out.col_upper = lp.col_upper.clone();
    out.col_integer = lp.col_integer.clone();
    let mut row_of = vec![u32::MAX; lp.num_rows()];
    let mut links = Vec::new();
    let mut link_coupling: std::collections::HashMap<u32, Vec<(u32, f64)>> = Default::default();
    for (r, c, v) in coupling {
        if drop[*r as usize] {
            link_coupling.entry(*r).or_default().push((*c, *v));
        }
    }
    for r in 0..lp.num_rows() {
        let span = lp.row_start[r]..lp.row_start[r + 1];
        if drop[r] {
            let [(first, coef)] = link_coupling.get(&(r as u32))?.as_slice() else {
                return None;
            };
            let (first, coef) = (*first, *coef);
            let is_link = span.len() == 1
                && lp.value[span.start] == 1.0
                && coef < 0.0
                && lp.row_lower[r] == f64::NEG_INFINITY
                && lp.row_upper[r] == 0.0;
            if !is_link {
                return None;
            }
            links.push(BoundLink {
                col: lp.index[span.start] as u32,
                first,
                coef: -coef,
            });
            continue;
        }
        row_of[r] = out.num_rows() as u32;
        let family = out.family(lp.families[lp.row_family[r] as usize]);
        let terms: Vec<_> = span
            .map(|k| (Col(lp.index[k] as usize), lp.value[k]))
            .collect();
        out.add_row(family, lp.row_lower[r], lp.row_upper[r], terms);
    }
    let coupling = coupling
        .iter()
        .filter(|(r, _, _)| !drop[*r as usize])
        .map(|(r, c, v)| (row_of[*r as usize], *c, *v))
        .collect();
    Some((out, coupling, links, row_of))
}

pub(super) const DECOMPOSITION_OPTIONS: BuildOptions<'static> = BuildOptions {
    elastic: false,
    contingencies: &[],
    evaluation: false,
    recourse_columns: true,
    min_max_phase_one: false,
};

impl Template {
    pub(super) fn new(net: &Network) -> Result<Self, StockadeError> {
        let set = ScenarioSet {
            cases: vec![intact(net, "template", 1.0)],
        };
        let problem = SitingProblem::build(net, &set, &DECOMPOSITION_OPTIONS);
        let (lp, coupling) = extract(&problem)?;
        let (blocks, link_rows) = site_blocks(&lp, &coupling);
        let (lp, coupling, links, row_of) = without_link_rows(&lp, &coupling, &link_rows)
            .ok_or_else(|| {
                StockadeError::Solver("an open link of the template is malformed".into())
            })?;
        let link_of: std::collections::HashMap<u32, u32> = links
            .iter()
            .enumerate()
            .map(|(l, link)| (link.col, l as u32))
            .collect();
        let blocks = blocks
            .into_iter()
            .map(|(capacity_row, flows)| SiteBlock {
                capacity_row: row_of[capacity_row as usize],
                flows: flows
                    .into_iter()
                    .map(|(k, demand_row)| (k, row_of[demand_row as usize], link_of[&k]))
                    .collect(),
            })
            .collect();
        let first = problem.first_stage_cols();
        let mut hard_shortfall = Vec::new();
        for (d, u) in problem.handles(0).shortfall.iter().enumerate() {
            if let (Some(u), None) = (u, net.demand_penalty[d]) {
                hard_shortfall.push(((u.0 - first) as u32, net.model.demand[d].demand));
            }
        }
        if lp.col_cost.iter().any(|c| *c < 0.0) {
            return Err(StockadeError::Solver(
                "a second-stage cost is negative; Benders needs them >= 0".into(),
            ));
        }
        Ok(Template {
            first,
            lp,
            coupling,
            hard_shortfall,
            links,
            link_rows,
            blocks,
            first_upper: Vec::new(),
        })
    }

    /// How scenario `case` differs from the template.
    pub(super) fn delta(
        &self,
        net: &Network,
        case: &ScenarioCase,
    ) -> Result<ScenarioDelta, StockadeError> {
        let set = ScenarioSet::alone(case);
        let problem = SitingProblem::build(net, &set, &DECOMPOSITION_OPTIONS);
        let second = self.lp.num_cols();
        let (lp, coupling) = extract(&problem)?;
        let converted = (lp.num_rows() == self.link_rows.len())
            .then(|| without_link_rows(&lp, &coupling, &self.link_rows))
            .flatten();
        let (lp, coupling, links, _) = converted.unwrap_or((lp, coupling, Vec::new(), Vec::new()));
        let same_shape = links == self.links
            && lp.num_rows() == self.lp.num_rows()
            && lp.row_start == self.lp.row_start
            && lp.index == self.lp.index
            && lp.value == self.lp.value
            && lp.col_cost == self.lp.col_cost;
        if !same_shape {
            return Err(StockadeError::Solver(format!(
                "scenario {} changes the second-stage matrix, which Benders keeps fixed; use method extensive",
                case.id
            )));
        }
        let mut delta = ScenarioDelta {
            probability: case.probability,
            ..ScenarioDelta::default()
        };
        for c in 0..second {
            if lp.col_lower[c] != self.lp.col_lower[c] || lp.col_upper[c] != self.lp.col_upper[c] {
                delta
                    .cols
                    .push((c as u32, lp.col_lower[c], lp.col_upper[c]));
            }
        }
        for r in 0..lp.num_rows() {
            if lp.row_lower[r] != self.lp.row_lower[r] || lp.row_upper[r] != self.lp.row_upper[r] {
                delta
                    .rows
                    .push((r as u32, lp.row_lower[r], lp.row_upper[r]));
            }
        }
        // Coupling differences: both lists are in row order, columns in row-term order.
        let mut base: std::collections::HashMap<(u32, u32), f64> = self
            .coupling
            .iter()
            .map(|(r, c, v)| ((*r, *c), *v))
            .collect();
        for (r, c, v) in coupling {
            let old = base.remove(&(r, c)).unwrap_or(0.0);
            if v != old {
                delta.coupling.push((r, c, v - old));
            }
        }
        for ((r, c), v) in base {
            delta.coupling.push((r, c, -v));
        }
        delta.coupling.sort_by_key(|(r, c, _)| (*r, *c));
        Ok(delta)
    }
}
