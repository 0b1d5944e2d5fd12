//! The master MIP: the first stage, its policy rows, one epigraph column per cut group, and the
//! cuts added to it.

use super::template::{CutRow, ScenarioDelta, DECOMPOSITION_OPTIONS};
use super::workers::Pass;
use super::*;

/// The master: first stage, policy rows, one epigraph column per cut group, and the cuts.
pub(super) struct Master {
    pub(super) mip: SparseMip,
    /// First-stage columns (the subproblems' coupling columns).
    pub(super) first: usize,
    /// Epigraph column of group g: `theta + g`.
    pub(super) theta: usize,
    /// Group of each scenario.
    pub(super) group: Vec<usize>,
    pub(super) groups: usize,
    pub(super) cut_family: u16,
    pub(super) cuts: u64,
}

impl Master {
    /// The master over `n` distinct scenario LPs.
    pub(super) fn new(net: &Network, n: usize) -> Self {
        let empty = ScenarioSet { cases: Vec::new() };
        let problem = SitingProblem::build(net, &empty, &DECOMPOSITION_OPTIONS);
        let first = problem.first_stage_cols();
        let mut mip = problem.mip;
        let groups = n.clamp(1, MAX_CUT_GROUPS);
        let group = (0..n).map(|w| w * groups / n.max(1)).collect();
        let theta = mip.num_cols();
        for _ in 0..groups {
            // Second-stage costs are >= 0 (checked), so each group's expected cost is too.
            mip.add_col(1.0, 0.0, f64::INFINITY, false);
        }
        let cut_family = mip.family("benders_cut");
        Master {
            mip,
            first,
            theta,
            group,
            groups,
            cut_family,
            cuts: 0,
        }
    }

    /// The first-stage part of master point `x`, inside the columns' bounds (an LP answer may
    /// stray past them by a tolerance, which would make a scenario LP look infeasible).
    pub(super) fn first_stage(&self, x: &[f64]) -> Vec<f64> {
        (0..self.first)
            .map(|j| x[j].clamp(self.mip.col_lower[j], self.mip.col_upper[j]))
            .collect()
    }

    /// First-stage cost of master point `x` (everything but the epigraph columns).
    pub(super) fn first_stage_cost(&self, x: &[f64]) -> f64 {
        self.mip.offset
            + (0..self.theta)
                .map(|c| self.mip.col_cost[c] * x[c])
                .sum::<f64>()
    }

    /// Builds the group cuts from a pass at `point`, keeping those that `x` (a master point)
    /// violates; returns them as rows (lower, terms) and the expected second-stage cost at the
    /// point when every scenario was feasible.
    pub(super) fn cuts_from(
        &self,
        pass: &Pass,
        deltas: &[ScenarioDelta],
        point: &[f64],
        x: &[f64],
    ) -> (Vec<CutRow>, Option<f64>) {
        let first = self.first;
        let mut rows = Vec::new();
        let mut expected = 0.0;
        let mut all_feasible = true;
        // Optimality cuts aggregated per group: theta_g - sum p_w grad_w y >= sum p_w (Q_w - grad_w point).
        let mut agg_grad = vec![vec![0.0; first]; self.groups];
        let mut agg_const = vec![0.0; self.groups];
        for (w, cut) in pass.cuts.iter().enumerate() {
            let constant =
                cut.value - cut.slack - cut.grad.iter().zip(point).map(|(g, y)| g * y).sum::<f64>();
            if cut.feasible {
                let p = deltas[w].probability;
                expected += p * cut.value;
                let g = self.group[w];
                agg_const[g] += p * constant;
                for (a, b) in agg_grad[g].iter_mut().zip(&cut.grad) {
                    *a += p * b;
                }
            } else {
                all_feasible = false;
                // Feasibility: constant + grad y <= 0, i.e. -grad y >= constant.
                let at_x = constant + dot(&cut.grad, &x[..first]);
                if at_x > 1e-7 * (1.0 + cut.value.abs()) {
                    let terms = sparse(&cut.grad, first, -1.0);
                    rows.push((constant, f64::INFINITY, terms));
                }
            }
        }
        for g in 0..self.groups {
            let theta = x[self.theta + g];
            let needed = agg_const[g] + dot(&agg_grad[g], &x[..first]);
            if needed > theta + 1e-7 * (1.0 + needed.abs()) {
                let mut terms = sparse(&agg_grad[g], first, -1.0);
                terms.push((Col(self.theta + g), 1.0));
                rows.push((agg_const[g], f64::INFINITY, terms));
            }
        }
        (rows, all_feasible.then_some(expected))
    }

    pub(super) fn add_cuts(&mut self, rows: &[CutRow]) {
        for (lo, hi, terms) in rows {
            self.mip
                .add_row(self.cut_family, *lo, *hi, terms.iter().copied());
            self.cuts += 1;
        }
    }
}

pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Nonzero entries of `v` (times `scale`), dropping those below a relative 1e-12.
pub(super) fn sparse(v: &[f64], n: usize, scale: f64) -> Vec<(Col, f64)> {
    let big = v.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    v.iter()
        .take(n)
        .enumerate()
        .filter(|(_, x)| x.abs() > 1e-12 * big.max(1e-300))
        .map(|(j, x)| (Col(j), scale * x))
        .collect()
}

/// The rows of `mip` from `from` on, in CSR form for [`LpSession::add_rows`].
pub(super) type CsrRows = (Vec<f64>, Vec<f64>, Vec<i32>, Vec<i32>, Vec<f64>);

pub(super) fn rows_from(mip: &SparseMip, from: usize) -> CsrRows {
    let base = mip.row_start[from];
    let lower = mip.row_lower[from..].to_vec();
    let upper = mip.row_upper[from..].to_vec();
    let starts = mip.row_start[from..mip.num_rows()]
        .iter()
        .map(|s| (s - base) as i32)
        .collect();
    let index = mip.index[base..].to_vec();
    let value = mip.value[base..].to_vec();
    (lower, upper, starts, index, value)
}
