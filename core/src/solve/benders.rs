//! Benders (L-shaped) decomposition of the two-stage siting model (DESIGN §4.1).
//!
//! The first stage (sites, modules, hardening, depots, stock, single-source assignments, and the
//! policy rows over them) stays in a master MIP; each scenario's second stage is an LP whose
//! right-hand side depends on the first stage. For a first stage `y`, scenario `w`'s LP is
//!
//! ```text
//! Q_w(y) = min c'x  s.t.  lo - B_w y <= W x <= hi - B_w y,  l_w <= x <= u_w
//! ```
//!
//! and `Q_w` is convex and piecewise linear in `y`. With `pi` the row duals of the LP at `y0`
//! (HiGHS's sign: the change of the objective per unit increase of the active bound), the
//! right-hand side moves by `-B_w (y - y0)`, so `Q_w(y) >= Q_w(y0) - pi' B_w (y - y0)` for every
//! `y`: the optimality cut. When hard demand (no shortfall penalty) cannot be met at `y0`, the
//! same argument on the phase-one LP (shortfall of hard demand allowed, costing 1 per tonne, all
//! else free) gives `F(y0) - pi' B_w (y - y0) <= 0`: the feasibility cut.
//!
//! The master carries one epigraph variable per group of scenarios (`theta_g >= sum over the
//! group of p_w Q_w`); with as many groups as scenarios this is the multi-cut method. The loop
//! runs first on the master's LP relaxation, separating at an in-out point between the master's
//! answer and a core point (Ben-Ameur and Neto 2007; Fischetti, Ljubic and Sinnl 2017), which
//! stabilises the cuts, then on the integer master: solve it, evaluate its plan on every scenario
//! (an upper bound), add the cuts it violates, until the master's bound (a lower bound: the
//! master is a relaxation) is within the gap of the best plan. The scenario LPs of a worker are
//! solved one after another by one HiGHS instance, each starting from the previous basis.
//!
//! Facility location gets more (Fischetti, Ljubic and Sinnl, "Benders decomposition without
//! separability", 2016): where a site's flows lie only on its capacity row, their customers'
//! demand rows and the open links `x <= d_j open_i`, the links are column bounds that move with
//! the first stage (a 1,100-row LP for capa instead of 101,100 rows), and each cut is rebuilt from
//! the demand duals `u` alone: per site the best capacity price, in closed form, which is the
//! cut `Q(y) >= sum_j d_j u_j - sum_i y_i G_i(u)` with `G_i(u)` what site `i` can earn from the
//! customers at prices `u` within its capacity. That is the customer-by-customer Lagrangian
//! bound of capacitated facility location, as strong as the LP at the point and the strongest
//! these prices allow at every other (see [`SiteBlock`]). With it OR-Library's capa, capb and
//! capc (100 sites x 1000 customers) are proven optimal in 5-33 s each on one thread, where
//! HiGHS on the extensive form leaves a gap after 600 s (`bash benches/benders/run.sh --cap`).

use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use crate::formulation::{BuildOptions, SitingProblem};
use crate::network::Network;
use crate::result::{DecompositionReport, SolveResult};
use crate::scenario::{intact, ScenarioCase, ScenarioSet};
use crate::solver::highs::LpSession;
use crate::solver::mip::{Col, SparseMip};
use crate::solver::{solve_mip_from, Method, Progress, Settings, SolveControl, SolverRun, Status};
use crate::StockadeError;

/// `auto` chooses Benders from this many scenarios on (when the model allows it).
pub const AUTO_MIN_SCENARIOS: usize = 100;

/// At most this many epigraph variables: beyond it scenarios share a cut (grouped multi-cut).
pub const MAX_CUT_GROUPS: usize = 1000;

/// The relaxation phase stops when its bound gained less than this (relative) over its last 20
/// iterations. On capa/capb/capc (the slowest three of the twelve, 60 s limit): 1e-5 took 48 s at
/// worst, 1e-4 33 s, 3e-4 31 s, 1e-3 ran out of time on capb-6000 (too weak a bound left).
const LP_TAIL: f64 = 1e-4;

/// Why Benders cannot solve this model, if it cannot.
pub fn unsupported(net: &Network, scenarios: &ScenarioSet) -> Option<String> {
    let m = &net.model;
    if m.risk.is_some() {
        return Some(
            "the model sets a risk measure, whose CVaR rows tie the scenarios together".into(),
        );
    }
    if m.policies.survivability.is_some() {
        return Some(
            "N-k survivability adds contingency scenarios that are constraints, not outcomes"
                .into(),
        );
    }
    if m.agreement.as_ref().is_some_and(|a| a.fairness.is_some()) {
        return Some(
            "the agreement's fairness rule bounds expected shortfall over all scenarios at once"
                .into(),
        );
    }
    if scenarios.cases.is_empty() {
        return Some("the model has no scenario".into());
    }
    None
}

/// Whether `method` (as the settings ask) means Benders for this model.
pub fn chooses_benders(
    method: Method,
    net: &Network,
    scenarios: &ScenarioSet,
) -> Result<bool, StockadeError> {
    match method {
        Method::Extensive => Ok(false),
        Method::Benders => match unsupported(net, scenarios) {
            Some(why) => Err(StockadeError::Solver(format!(
                "method benders cannot solve this model: {why}; use method extensive"
            ))),
            None => Ok(true),
        },
        Method::Auto => Ok(unsupported(net, scenarios).is_none()
            && (scenarios.cases.len() >= AUTO_MIN_SCENARIOS || large_capacitated_location(net))),
    }
}

/// `auto` also chooses Benders for capacitated facility location with this many flows in
/// [`SiteBlock`]s, whatever the scenario count.
pub const AUTO_MIN_LOCATION_FLOWS: usize = 50_000;

/// Whether the model is capacitated facility location of [`AUTO_MIN_LOCATION_FLOWS`] flows or
/// more, where the strengthened cuts beat the extensive form by far (capa/capb/capc: optimal in
/// 5-32 s, the extensive form 8-100 % from it at 60 s). Uncapacitated location (every site can
/// serve all demand, as in the p-median instances) stays with the extensive form, which is faster
/// there (pmed6: 15.7 s against 43.4 s).
fn large_capacitated_location(net: &Network) -> bool {
    let m = &net.model;
    if m.routes.len() < AUTO_MIN_LOCATION_FLOWS {
        return false;
    }
    let demand: f64 = m.demand.iter().map(|d| d.demand).sum();
    let capacitated = m
        .sites
        .iter()
        .any(|s| s.module_capacity * f64::from(s.max_modules) < demand);
    capacitated
        && Template::new(net).is_ok_and(|t| {
            t.blocks.iter().map(|b| b.flows.len()).sum::<usize>() >= AUTO_MIN_LOCATION_FLOWS
        })
}

/// The second stage of one scenario as an LP over its own columns.
#[derive(Debug, Clone)]
struct Template {
    /// First-stage columns (the master's first `first` columns).
    first: usize,
    /// The LP: second-stage columns only, rows that touch them; costs at probability 1.
    lp: SparseMip,
    /// Coupling of each LP row with the first stage: (row, first-stage column, coefficient).
    coupling: Vec<(u32, u32, f64)>,
    /// LP columns of hard-demand shortfall, fixed at 0 except in the phase-one LP.
    hard_shortfall: Vec<(u32, f64)>,
    /// Open links held as column bounds (see [`SiteBlock`]).
    links: Vec<BoundLink>,
    /// Rows of the one-scenario build's LP that became [`BoundLink`]s.
    link_rows: Vec<bool>,
    /// Facility-location blocks whose cuts are strengthened.
    blocks: Vec<SiteBlock>,
    /// Upper bounds of the first-stage columns in the master (for [`strengthen`]).
    first_upper: Vec<f64>,
}

/// An open link `x_col <= coef * y_first` (`site_demand_link`: a site delivers nothing unless
/// open) held as a column bound that moves with the first stage, not as a row: the scenario LP of
/// OR-Library's capa has 100,000 such rows besides 1,100 others.
#[derive(Debug, Clone, Copy, PartialEq)]
struct BoundLink {
    col: u32,
    first: u32,
    coef: f64,
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
struct SiteBlock {
    /// Its capacity row (LP row).
    capacity_row: u32,
    /// Its flows: (LP column, demand row of the flow's customer, index into `links`).
    flows: Vec<(u32, u32, u32)>,
}

/// Coupling terms: (row, first-stage column, coefficient).
type Coupling = Vec<(u32, u32, f64)>;

/// A cut as a master row: (lower, upper, terms).
type CutRow = (f64, f64, Vec<(Col, f64)>);

/// How one scenario differs from the template.
#[derive(Debug, Clone, Default)]
struct ScenarioDelta {
    probability: f64,
    /// (LP column, lower, upper) where they differ.
    cols: Vec<(u32, f64, f64)>,
    /// (LP row, lower, upper) where they differ.
    rows: Vec<(u32, f64, f64)>,
    /// (LP row, first-stage column, coefficient minus the template's).
    coupling: Vec<(u32, u32, f64)>,
}

impl ScenarioDelta {
    /// Everything but the probability, bit for bit: equal signatures mean equal LPs.
    fn signature(&self) -> Vec<u64> {
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
fn extract(problem: &SitingProblem<'_>) -> Result<(SparseMip, Coupling), StockadeError> {
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
fn site_blocks(lp: &SparseMip, coupling: &Coupling) -> (Vec<(u32, Vec<(u32, u32)>)>, Vec<bool>) {
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
fn without_link_rows(
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

/// Strengthens the duals of every [`SiteBlock`] (see there) of an LP solved at first stage `y`
/// with column costs `costs`, row duals `duals` and reduced costs `col_duals`, where
/// `static_upper` are the column bounds before the links and `row_upper` the rows' upper bounds
/// at `y`. Returns the dual (>= 0) of each link bound, and by how much (rounding, >= 0) the new
/// duals' bound at `y` fell short of the LP's, to subtract from the cut's value; `duals` gets the
/// new capacity duals.
#[allow(clippy::too_many_arguments)]
fn strengthen(
    t: &Template,
    y: &[f64],
    costs: &[f64],
    duals: &mut [f64],
    col_duals: &[f64],
    col_lower: &[f64],
    static_upper: &[f64],
    row_upper: &[f64],
    row_upper_at: &dyn Fn(&[f64], u32) -> f64,
) -> (Vec<f64>, f64) {
    let mut lift = 0.0;
    // The LP's own link duals: the bound's share of the reduced cost when the link is the
    // tighter of the column's two upper bounds.
    let mut link_duals: Vec<f64> = t
        .links
        .iter()
        .map(|l| {
            let k = l.col as usize;
            if l.coef * y[l.first as usize] <= static_upper[k] {
                (-col_duals[k]).max(0.0)
            } else {
                0.0
            }
        })
        .collect();
    // The first stage with every column at its upper bound (where it has one; the point where
    // not, or everywhere when the master's bounds were not given).
    let full: Vec<f64> = y
        .iter()
        .enumerate()
        .map(|(j, y)| match t.first_upper.get(j) {
            Some(u) if u.is_finite() => *u,
            _ => *y,
        })
        .collect();
    let mut items: Vec<(f64, f64, f64)> = Vec::new();
    'blocks: for b in &t.blocks {
        let r = b.capacity_row as usize;
        let k_now = row_upper[r];
        let k_full = row_upper_at(&full, b.capacity_row);
        if !(k_now >= 0.0 && k_full >= 0.0) {
            continue;
        }
        items.clear();
        // The site's term with the LP's own duals, to keep the better of the two.
        let w_lp = (-duals[r]).max(0.0);
        let mut h_lp = k_now * w_lp;
        for &(k, d, l) in &b.flows {
            let (k, l) = (k as usize, l as usize);
            let link = t.links[l];
            let upper = static_upper[k];
            if col_lower[k] != 0.0 {
                continue 'blocks; // its reduced cost would not be free to move
            }
            if upper == 0.0 {
                continue; // fixed at 0: its bound carries its dual, whatever w is
            }
            if upper != f64::INFINITY {
                continue 'blocks;
            }
            let (l_now, l_full) = (
                link.coef * y[link.first as usize],
                link.coef * full[link.first as usize],
            );
            h_lp += l_now * link_duals[l];
            let p = duals[d as usize] - costs[k];
            if p > 0.0 {
                items.push((p, l_now, l_full));
            }
        }
        // h(w) = K w + sum_k L_k (p_k - w)^+ at the point and at the site fully open; the
        // minimum is at w = 0 or at a breakpoint p_k. Items by p descending, prefix sums.
        items.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (mut sum_lp_now, mut sum_l_now, mut sum_lp_full, mut sum_l_full) = (0.0, 0.0, 0.0, 0.0);
        let mut best = (f64::INFINITY, f64::INFINITY, 0.0);
        let consider = |w: f64, h_now: f64, h_full: f64, best: &mut (f64, f64, f64)| {
            let tol = 1e-12 * (1.0 + h_now.abs().max(best.0.abs()));
            if h_now < best.0 - tol || (h_now <= best.0 + tol && h_full < best.1) {
                *best = (h_now, h_full, w);
            }
        };
        for &(p, l_now, l_full) in items.iter() {
            // w = p: the items before this one (p_i >= p) contribute L_i (p_i - p).
            let h_now = k_now * p + sum_lp_now - p * sum_l_now;
            let h_full = k_full * p + sum_lp_full - p * sum_l_full;
            consider(p, h_now, h_full, &mut best);
            sum_lp_now += l_now * p;
            sum_l_now += l_now;
            sum_lp_full += l_full * p;
            sum_l_full += l_full;
        }
        consider(0.0, sum_lp_now, sum_lp_full, &mut best);
        let (h_best, _, w) = best;
        if h_best.is_nan() || h_best > h_lp + 1e-9 * (1.0 + h_lp.abs()) {
            continue; // rounding: keep the LP's duals
        }
        // The LP's duals are optimal, so h_best >= h_lp but for rounding; what rounding gives
        // away comes off the cut's value, which then stays a valid bound.
        lift += (h_best - h_lp).max(0.0);
        duals[r] = -w;
        for &(k, d, l) in &b.flows {
            let k = k as usize;
            link_duals[l as usize] = if static_upper[k] == 0.0 {
                0.0
            } else {
                (duals[d as usize] - costs[k] - w).max(0.0)
            };
        }
    }
    (link_duals, lift)
}

const DECOMPOSITION_OPTIONS: BuildOptions<'static> = BuildOptions {
    elastic: false,
    contingencies: &[],
    evaluation: false,
    recourse_columns: true,
    min_max_phase_one: false,
};

impl Template {
    fn new(net: &Network) -> Result<Self, StockadeError> {
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
    fn delta(&self, net: &Network, case: &ScenarioCase) -> Result<ScenarioDelta, StockadeError> {
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

/// A cut from one scenario at a point: `value + sum_j grad_j (y_j - point_j)`.
#[derive(Debug, Clone)]
struct ScenarioCut {
    /// Q_w at the point (optimality) or F_w, the hard shortfall (feasibility).
    value: f64,
    /// How far below `value` the cut passes at the point (rounding in [`strengthen`], >= 0).
    slack: f64,
    /// Dense gradient over the first-stage columns.
    grad: Vec<f64>,
    feasible: bool,
}

/// The phase-one LP's answer: least hard shortfall, duals, and the costs it ran with.
struct PhaseOne {
    shortfall: f64,
    row_duals: Vec<f64>,
    col_duals: Vec<f64>,
    costs: Vec<f64>,
}

/// One worker's HiGHS instance, warm across scenarios and iterations.
struct Worker {
    session: LpSession,
    /// Bounds currently loaded, to change only what differs.
    col_lower: Vec<f64>,
    col_upper: Vec<f64>,
    row_lower: Vec<f64>,
    row_upper: Vec<f64>,
}

impl Worker {
    fn new(t: &Template, settings: &Settings) -> Result<Self, StockadeError> {
        Ok(Worker {
            session: LpSession::new(&t.lp, settings)?,
            col_lower: t.lp.col_lower.clone(),
            col_upper: t.lp.col_upper.clone(),
            row_lower: t.lp.row_lower.clone(),
            row_upper: t.lp.row_upper.clone(),
        })
    }

    /// Loads bounds, changing only those that differ from what is loaded.
    fn load(
        &mut self,
        col_lower: &[f64],
        col_upper: &[f64],
        row_lower: &[f64],
        row_upper: &[f64],
    ) -> Result<(), StockadeError> {
        let (mut idx, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new());
        for c in 0..col_lower.len() {
            if col_lower[c] != self.col_lower[c] || col_upper[c] != self.col_upper[c] {
                idx.push(c as i32);
                lo.push(col_lower[c]);
                hi.push(col_upper[c]);
            }
        }
        if !idx.is_empty() {
            self.session.set_cols_bounds(&idx, &lo, &hi)?;
            self.col_lower.copy_from_slice(col_lower);
            self.col_upper.copy_from_slice(col_upper);
        }
        idx.clear();
        lo.clear();
        hi.clear();
        for r in 0..row_lower.len() {
            if row_lower[r] != self.row_lower[r] || row_upper[r] != self.row_upper[r] {
                idx.push(r as i32);
                lo.push(row_lower[r]);
                hi.push(row_upper[r]);
            }
        }
        if !idx.is_empty() {
            self.session.set_rows_bounds(&idx, &lo, &hi)?;
            self.row_lower.copy_from_slice(row_lower);
            self.row_upper.copy_from_slice(row_upper);
        }
        Ok(())
    }

    /// Solves scenario `delta` at first stage `y`; with `keep`, also returns its column values.
    fn solve(
        &mut self,
        t: &Template,
        delta: &ScenarioDelta,
        y: &[f64],
        base_shift: &[f64],
        keep: bool,
    ) -> Result<(ScenarioCut, Option<Vec<f64>>), StockadeError> {
        let mut col_lower = t.lp.col_lower.clone();
        let mut col_upper = t.lp.col_upper.clone();
        for (c, lo, hi) in &delta.cols {
            col_lower[*c as usize] = *lo;
            col_upper[*c as usize] = *hi;
        }
        let mut row_lower = t.lp.row_lower.clone();
        let mut row_upper = t.lp.row_upper.clone();
        for (r, lo, hi) in &delta.rows {
            row_lower[*r as usize] = *lo;
            row_upper[*r as usize] = *hi;
        }
        let mut shift = base_shift.to_vec();
        for (r, c, v) in &delta.coupling {
            shift[*r as usize] += v * y[*c as usize];
        }
        let static_row_upper = row_upper.clone();
        for r in 0..shift.len() {
            row_lower[r] -= shift[r];
            row_upper[r] -= shift[r];
        }
        let static_upper = col_upper.clone();
        for link in &t.links {
            let k = link.col as usize;
            col_upper[k] = col_upper[k].min(link.coef * y[link.first as usize]);
        }
        self.load(&col_lower, &col_upper, &row_lower, &row_upper)?;
        let out = self.session.solve()?;
        let (value, mut duals, col_duals, costs, feasible, values) = match out.status {
            Status::Optimal => (
                out.objective.unwrap_or(0.0),
                out.row_duals,
                out.col_duals,
                None,
                true,
                out.values,
            ),
            Status::Infeasible if !t.hard_shortfall.is_empty() => {
                let p = self.phase_one(t, &col_lower, &col_upper)?;
                (
                    p.shortfall,
                    p.row_duals,
                    p.col_duals,
                    Some(p.costs),
                    false,
                    Vec::new(),
                )
            }
            other => {
                return Err(StockadeError::Solver(format!(
                    "a scenario LP ended {} in the decomposition",
                    other.as_str()
                )))
            }
        };
        let row_upper_at = |at: &[f64], r: u32| {
            let mut rhs = static_row_upper[r as usize];
            for (row, c, v) in t.coupling.iter().chain(&delta.coupling) {
                if *row == r {
                    rhs -= v * at[*c as usize];
                }
            }
            rhs
        };
        let (link_duals, lift) = strengthen(
            t,
            y,
            costs.as_deref().unwrap_or(&t.lp.col_cost),
            &mut duals,
            &col_duals,
            &col_lower,
            &static_upper,
            &row_upper,
            &row_upper_at,
        );
        let mut grad = vec![0.0; t.first];
        for (r, c, v) in t.coupling.iter().chain(&delta.coupling) {
            grad[*c as usize] -= duals[*r as usize] * v;
        }
        for (link, v) in t.links.iter().zip(&link_duals) {
            grad[link.first as usize] -= v * link.coef;
        }
        Ok((
            ScenarioCut {
                value,
                slack: lift,
                grad,
                feasible,
            },
            (keep && feasible).then_some(values),
        ))
    }

    /// The phase-one LP: hard shortfall allowed at 1 per tonne, nothing else costs. Returns the
    /// least hard shortfall and the duals; restores the optimality LP afterwards.
    fn phase_one(
        &mut self,
        t: &Template,
        col_lower: &[f64],
        col_upper: &[f64],
    ) -> Result<PhaseOne, StockadeError> {
        let n = t.lp.num_cols();
        let all: Vec<i32> = (0..n as i32).collect();
        let mut costs = vec![0.0; n];
        let mut upper = col_upper.to_vec();
        for (c, demand) in &t.hard_shortfall {
            costs[*c as usize] = 1.0;
            upper[*c as usize] = *demand;
        }
        self.session.set_costs(&all, &costs)?;
        self.session.set_cols_bounds(&all, col_lower, &upper)?;
        let out = self.session.solve();
        self.session.set_costs(&all, &t.lp.col_cost)?;
        self.session.set_cols_bounds(&all, col_lower, col_upper)?;
        let out = out?;
        match (out.status, out.objective) {
            (Status::Optimal, Some(shortfall)) => Ok(PhaseOne {
                shortfall,
                row_duals: out.row_duals,
                col_duals: out.col_duals,
                costs,
            }),
            (status, _) => Err(StockadeError::Solver(format!(
                "the phase-one LP of a scenario ended {}",
                status.as_str()
            ))),
        }
    }
}

/// Every scenario's LP, spread over workers that keep their HiGHS instances.
struct Subproblems {
    template: Template,
    /// Distinct scenario LPs, each with the summed probability of the scenarios that share it.
    deltas: Vec<ScenarioDelta>,
    /// The distinct LP of each scenario of the set.
    scenario_of: Vec<usize>,
    /// Scenario ranges, one per worker, each with its worker.
    workers: Vec<(std::ops::Range<usize>, Mutex<Option<Worker>>)>,
    lp_settings: Settings,
    pool: rayon::ThreadPool,
    solves: u64,
    seconds: f64,
}

/// What one pass over every scenario found at a point.
struct Pass {
    cuts: Vec<ScenarioCut>,
    /// Second-stage values of every scenario, when asked for.
    values: Option<Vec<Vec<f64>>>,
}

impl Subproblems {
    fn new(
        net: &Network,
        scenarios: &ScenarioSet,
        settings: &Settings,
    ) -> Result<Self, StockadeError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(settings.threads.map_or(0, |n| n as usize))
            .build()
            .map_err(|e| StockadeError::Solver(format!("thread pool: {e}")))?;
        let template = Template::new(net)?;
        let deltas: Vec<ScenarioDelta> = pool.install(|| {
            scenarios
                .cases
                .par_iter()
                .map(|case| template.delta(net, case))
                .collect::<Result<_, _>>()
        })?;
        // Scenarios whose LPs are identical (the same things fail) are solved once: their cuts
        // and second stages are the same.
        let mut distinct: Vec<ScenarioDelta> = Vec::new();
        let mut seen: std::collections::HashMap<Vec<u64>, usize> = Default::default();
        let mut scenario_of = Vec::with_capacity(deltas.len());
        for delta in deltas {
            let key = delta.signature();
            let next = distinct.len();
            let at = *seen.entry(key).or_insert(next);
            if at == next {
                distinct.push(delta);
            } else {
                distinct[at].probability += delta.probability;
            }
            scenario_of.push(at);
        }
        let deltas = distinct;
        let n = deltas.len();
        let k = pool.current_num_threads().clamp(1, n.max(1));
        let chunk = n.div_ceil(k);
        let workers = (0..n)
            .step_by(chunk.max(1))
            .map(|s| (s..(s + chunk).min(n), Mutex::new(None)))
            .collect();
        // Presolve off, so HiGHS keeps the basis between scenarios.
        let lp_settings = Settings {
            presolve: false,
            threads: None,
            time_limit_s: None,
            log: false,
            ..settings.clone()
        };
        Ok(Subproblems {
            template,
            deltas,
            scenario_of,
            workers,
            lp_settings,
            pool,
            solves: 0,
            seconds: 0.0,
        })
    }

    /// Solves every scenario at first stage `y` (the master's first columns).
    fn pass(
        &mut self,
        y: &[f64],
        keep: bool,
        control: &SolveControl,
    ) -> Result<Option<Pass>, StockadeError> {
        let started = Instant::now();
        let t = &self.template;
        let mut base_shift = vec![0.0; t.lp.num_rows()];
        for (r, c, v) in &t.coupling {
            base_shift[*r as usize] += v * y[*c as usize];
        }
        let cancelled = || {
            control
                .cancel
                .as_ref()
                .is_some_and(|c| c.load(Ordering::Relaxed))
        };
        let deltas = &self.deltas;
        let lp_settings = &self.lp_settings;
        type Chunk = Result<Option<Vec<(ScenarioCut, Option<Vec<f64>>)>>, StockadeError>;
        let chunks: Vec<Chunk> = self.pool.install(|| {
            self.workers
                .par_iter()
                .map(|(range, slot)| {
                    let mut guard = slot
                        .lock()
                        .map_err(|_| StockadeError::Solver("a worker panicked".into()))?;
                    let worker = match guard.as_mut() {
                        Some(w) => w,
                        None => guard.insert(Worker::new(t, lp_settings)?),
                    };
                    let mut out = Vec::with_capacity(range.len());
                    for w in range.clone() {
                        if cancelled() {
                            return Ok(None);
                        }
                        out.push(worker.solve(t, &deltas[w], y, &base_shift, keep)?);
                    }
                    Ok(Some(out))
                })
                .collect()
        });
        self.solves += self.deltas.len() as u64;
        self.seconds += started.elapsed().as_secs_f64();
        let mut cuts = Vec::with_capacity(self.deltas.len());
        let mut values = keep.then(Vec::new);
        for chunk in chunks {
            let Some(chunk) = chunk? else {
                return Ok(None);
            };
            for (cut, v) in chunk {
                if let (Some(all), Some(v)) = (values.as_mut(), v) {
                    all.push(v);
                }
                cuts.push(cut);
            }
        }
        if values.as_ref().is_some_and(|v| v.len() != cuts.len()) {
            values = None;
        }
        Ok(Some(Pass { cuts, values }))
    }
}

/// The master: first stage, policy rows, one epigraph column per cut group, and the cuts.
struct Master {
    mip: SparseMip,
    /// First-stage columns (the subproblems' coupling columns).
    first: usize,
    /// Epigraph column of group g: `theta + g`.
    theta: usize,
    /// Group of each scenario.
    group: Vec<usize>,
    groups: usize,
    cut_family: u16,
    cuts: u64,
}

impl Master {
    /// The master over `n` distinct scenario LPs.
    fn new(net: &Network, n: usize) -> Self {
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
    fn first_stage(&self, x: &[f64]) -> Vec<f64> {
        (0..self.first)
            .map(|j| x[j].clamp(self.mip.col_lower[j], self.mip.col_upper[j]))
            .collect()
    }

    /// First-stage cost of master point `x` (everything but the epigraph columns).
    fn first_stage_cost(&self, x: &[f64]) -> f64 {
        self.mip.offset
            + (0..self.theta)
                .map(|c| self.mip.col_cost[c] * x[c])
                .sum::<f64>()
    }

    /// Builds the group cuts from a pass at `point`, keeping those that `x` (a master point)
    /// violates; returns them as rows (lower, terms) and the expected second-stage cost at the
    /// point when every scenario was feasible.
    fn cuts_from(
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

    fn add_cuts(&mut self, rows: &[CutRow]) {
        for (lo, hi, terms) in rows {
            self.mip
                .add_row(self.cut_family, *lo, *hi, terms.iter().copied());
            self.cuts += 1;
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Nonzero entries of `v` (times `scale`), dropping those below a relative 1e-12.
fn sparse(v: &[f64], n: usize, scale: f64) -> Vec<(Col, f64)> {
    let big = v.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    v.iter()
        .take(n)
        .enumerate()
        .filter(|(_, x)| x.abs() > 1e-12 * big.max(1e-300))
        .map(|(j, x)| (Col(j), scale * x))
        .collect()
}

/// The rows of `mip` from `from` on, in CSR form for [`LpSession::add_rows`].
type CsrRows = (Vec<f64>, Vec<f64>, Vec<i32>, Vec<i32>, Vec<f64>);

fn rows_from(mip: &SparseMip, from: usize) -> CsrRows {
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

/// The best plan found: master values and every scenario's second stage.
struct Incumbent {
    objective: f64,
    master: Vec<f64>,
    second: Vec<Vec<f64>>,
}

fn relative_gap(upper: f64, lower: f64) -> f64 {
    let diff = (upper - lower).max(0.0);
    if diff == 0.0 {
        0.0
    } else {
        diff / upper.abs().max(1e-10)
    }
}

/// Solves the siting model by Benders decomposition. The caller has checked
/// [`unsupported`]; the result has the same shape as the extensive form's, with
/// `method = benders` and a [`DecompositionReport`].
pub fn solve_benders(
    net: &Network,
    scenarios: &ScenarioSet,
    settings: &Settings,
    control: &SolveControl,
) -> Result<SolveResult, StockadeError> {
    if let Some(why) = unsupported(net, scenarios) {
        return Err(StockadeError::Solver(format!(
            "method benders cannot solve this model: {why}"
        )));
    }
    let started = Instant::now();
    let deadline = settings.time_limit_s;
    let elapsed = || started.elapsed().as_secs_f64();
    let out_of_time = || deadline.is_some_and(|t| elapsed() >= t);
    let cancelled = || {
        control
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    };

    let build_started = Instant::now();
    let mut subs = Subproblems::new(net, scenarios, settings)?;
    let mut master = Master::new(net, subs.deltas.len());
    let first = master.first;
    subs.template.first_upper = master.mip.col_upper[..first].to_vec();
    let mut build_s = build_started.elapsed().as_secs_f64();

    let mut lower = f64::NEG_INFINITY;
    let mut incumbent: Option<Incumbent> = None;
    let mut lp_iterations = 0_u64;
    let mut integer_iterations = 0_u64;
    let mut master_s = 0.0;
    let mut lp_bound = None;
    let mut stopped: Option<Status> = None;
    let report = |iteration: u64, phase: &str, lower: f64, upper: Option<f64>, cuts: u64| {
        let gap = upper.map(|u| relative_gap(u, lower));
        if settings.log {
            eprintln!(
                "benders {phase} {iteration:>4}  lower {lower:.6e}  upper {}  gap {}  cuts {cuts}  {:.1}s",
                upper.map_or("-".into(), |u| format!("{u:.6e}")),
                gap.map_or("-".into(), |g| format!("{:.4}%", 100.0 * g)),
                elapsed()
            );
        }
        if let Some(sink) = &control.progress {
            sink(&Progress {
                elapsed_s: elapsed(),
                incumbent: upper,
                best_bound: lower.is_finite().then_some(lower),
                gap,
                iteration: Some(iteration),
                cuts: Some(cuts),
            });
        }
    };

    // Phase 1: the LP relaxation, separating at in-out points.
    {
        let mut relaxed = master.mip.clone();
        relaxed.col_integer.iter_mut().for_each(|i| *i = false);
        let mut lp = LpSession::new(&relaxed, &subs.lp_settings)?;
        let mut loaded_rows = relaxed.num_rows();
        let mut core: Option<Vec<f64>> = None;
        let mut lambda = 0.5;
        let mut stall = 0;
        let mut lp_upper = f64::INFINITY;
        let mut lp_lower = f64::NEG_INFINITY;
        let mut history = Vec::new();
        // The relaxation gets at most half the time limit, so that the integer phase has time
        // to find a plan.
        let lp_out_of_time = || deadline.is_some_and(|t| elapsed() >= 0.5 * t);
        loop {
            if lp_out_of_time() || cancelled() {
                break;
            }
            lp_iterations += 1;
            let t0 = Instant::now();
            let out = lp.solve()?;
            master_s += t0.elapsed().as_secs_f64();
            let (Status::Optimal, Some(obj)) = (out.status, out.objective) else {
                // An infeasible relaxation: the integer phase reports it.
                break;
            };
            let x = out.values;
            if obj > lp_lower + 1e-6 * obj.abs().max(1.0) {
                stall = 0;
            } else {
                stall += 1;
            }
            lp_lower = lp_lower.max(obj);
            // A tailing-off bound (under LP_TAIL gained over 20 iterations) is left to the
            // integer phase, whose cuts at integer plans close the gap faster than fractional
            // ones.
            history.push(lp_lower);
            if history.len() > 20
                && lp_lower - history[history.len() - 21] < LP_TAIL * lp_lower.abs().max(1.0)
            {
                break;
            }
            let y = master.first_stage(&x);
            let core_point = core.get_or_insert_with(|| y.clone());
            let point: Vec<f64> = (0..first)
                .map(|j| lambda * y[j] + (1.0 - lambda) * core_point[j])
                .collect();
            let Some(pass) = subs.pass(&point, false, control)? else {
                break;
            };
            let (rows, expected) = master.cuts_from(&pass, &subs.deltas, &point, &x);
            if let Some(e) = expected {
                // The in-out point is a convex combination of relaxation points: an upper bound
                // of the relaxation.
                let mut full = x.clone();
                full[..first].copy_from_slice(&point);
                lp_upper = lp_upper.min(master.first_stage_cost(&full) + e);
            }
            for (c, y) in core_point.iter_mut().zip(&y) {
                *c = 0.5 * *c + 0.5 * y;
            }
            report(lp_iterations, "lp", lp_lower, None, master.cuts);
            if rows.is_empty() {
                if lambda >= 1.0 {
                    break;
                }
                lambda = 1.0;
                continue;
            }
            if stall >= 5 {
                lambda = 1.0;
            }
            master.add_cuts(&rows);
            let (lo, hi, starts, index, value) = rows_from(&master.mip, loaded_rows);
            lp.add_rows(&lo, &hi, &starts, &index, &value)?;
            loaded_rows = master.mip.num_rows();
            if relative_gap(lp_upper, lp_lower) < 1e-6 {
                break;
            }
        }
        if lp_lower.is_finite() {
            lower = lp_lower;
            lp_bound = Some(lp_lower);
        }
    }

    // Phase 2: the integer master.
    let mut start: Vec<(usize, f64)> = Vec::new();
    let master_control = SolveControl {
        cancel: control.cancel.clone(),
        progress: None,
    };
    loop {
        if cancelled() {
            stopped = Some(Status::Interrupted);
            break;
        }
        if out_of_time() {
            stopped = Some(Status::TimeLimit);
            break;
        }
        integer_iterations += 1;
        let remaining = deadline.map(|t| (t - elapsed()).max(0.0));
        let master_settings = Settings {
            time_limit_s: remaining,
            mip_gap: settings.mip_gap * 0.5,
            log: false,
            ..settings.clone()
        };
        let t0 = Instant::now();
        let run = solve_mip_from(&master.mip, &master_settings, &master_control, &start)?;
        master_s += t0.elapsed().as_secs_f64();
        if !run.has_solution {
            // No first stage satisfies the policies and feasibility cuts: infeasible (or the
            // master ran out of time before finding one).
            stopped = Some(match run.status {
                Status::Optimal => Status::Infeasible,
                s => s,
            });
            break;
        }
        if let Some(b) = run.proven_bound() {
            lower = lower.max(b);
        }
        let x = run.values.clone();
        let point = master.first_stage(&x);
        let Some(pass) = subs.pass(&point, true, control)? else {
            stopped = Some(Status::Interrupted);
            break;
        };
        let (rows, expected) = master.cuts_from(&pass, &subs.deltas, &point, &x);
        if let (Some(e), Some(values)) = (expected, pass.values) {
            let objective = master.first_stage_cost(&x) + e;
            if incumbent.as_ref().is_none_or(|i| objective < i.objective) {
                // The next master starts from this plan, each epigraph column at its groups'
                // cost there (a hair above, so that rounding never makes the start infeasible):
                // HiGHS then prunes with the best plan's cost from its first node.
                let mut theta_at = vec![0.0; master.groups];
                for (w, cut) in pass.cuts.iter().enumerate() {
                    theta_at[master.group[w]] += subs.deltas[w].probability * cut.value;
                }
                start = (0..master.mip.num_cols())
                    .map(|c| match c.checked_sub(master.theta) {
                        Some(g) => (c, theta_at[g] * (1.0 + 1e-7) + 1e-6),
                        None => (c, x[c]),
                    })
                    .collect();
                incumbent = Some(Incumbent {
                    objective,
                    master: x.clone(),
                    second: values,
                });
            }
        }
        let upper = incumbent.as_ref().map(|i| i.objective);
        report(integer_iterations, "mip", lower, upper, master.cuts);
        let master_status = run.status;
        if upper.is_some_and(|u| relative_gap(u, lower) <= settings.mip_gap) {
            break;
        }
        if rows.is_empty() {
            // Nothing to cut: the master's own gap is what is left (or its time ran out).
            if master_status != Status::Optimal {
                stopped = Some(master_status);
            }
            break;
        }
        master.add_cuts(&rows);
    }

    // The answer in the extensive form's shape, so that reports and plans read it the same way.
    let build_started = Instant::now();
    let extensive = SitingProblem::build(net, scenarios, &DECOMPOSITION_OPTIONS);
    build_s += build_started.elapsed().as_secs_f64();
    let mut status = match stopped {
        Some(s) => s,
        // The loop ended at the gap, or with no cut left to add to a master solved to its gap.
        None if incumbent.is_some() => Status::Optimal,
        None => Status::Unknown,
    };
    // A lower bound above the incumbent's cost beyond the gap is an internal error (a solve
    // returned a bound it did not prove), never `optimal`.
    let inconsistent = incumbent.as_ref().is_some_and(|i| {
        lower.is_finite()
            && lower - i.objective > settings.mip_gap.max(1e-6) * i.objective.abs().max(1.0)
    });
    if inconsistent {
        status = Status::Unknown;
    }
    let mut values = Vec::new();
    let mut objective = None;
    if let Some(inc) = &incumbent {
        let n = extensive.mip.num_cols();
        values = Vec::with_capacity(n);
        values.extend_from_slice(&inc.master[..first]);
        for distinct in &subs.scenario_of {
            values.extend_from_slice(&inc.second[*distinct]);
        }
        values.extend_from_slice(&inc.master[first..master.theta]);
        if values.len() != n {
            return Err(StockadeError::Solver(format!(
                "decomposition layout mismatch: {} values for {n} columns",
                values.len()
            )));
        }
        let obj = extensive.mip.offset + dot(&extensive.mip.col_cost, &values);
        objective = Some(obj);
    }
    let run = SolverRun {
        status,
        has_solution: incumbent.is_some(),
        objective,
        best_bound: lower.is_finite().then_some(lower),
        mip_gap: objective.map(|o| relative_gap(o, lower.min(o))),
        runtime_s: elapsed() - build_s,
        size: master.mip.size(),
        detail: if inconsistent {
            format!(
                "benders: internal error: lower bound {lower:.6e} above the incumbent's cost \
                 {:.6e} after {integer_iterations} integer iterations; the plan is the best found, \
                 not proven optimal",
                incumbent.as_ref().map_or(f64::NAN, |i| i.objective)
            )
        } else {
            format!(
                "benders: {lp_iterations} LP and {integer_iterations} integer iterations, {} cuts",
                master.cuts
            )
        },
        values,
        row_duals: Vec::new(),
    };
    let mut result = extensive.read(&run, build_s, settings);
    result.method = Method::Benders;
    result.decomposition = Some(DecompositionReport {
        scenarios: scenarios.cases.len(),
        distinct_scenarios: subs.deltas.len(),
        cut_groups: master.groups,
        lp_iterations,
        integer_iterations,
        cuts: master.cuts,
        lp_bound,
        subproblem_solves: subs.solves,
        master_s,
        subproblems_s: subs.seconds,
    });
    Ok(result)
}

#[cfg(test)]
mod tests {
    //! The strengthened cuts against the scenario LP itself: a cut taken at any point must lie
    //! below the LP's optimum at every other point (HiGHS solves each; nothing of the cut's
    //! arithmetic is involved), and must touch it at its own point.
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::import::{orlib_cap, CapOptions};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A random OR-Library-style instance: `m` warehouses, `n` customers, with or without a
    /// failure file (one scenario per line; a failed site loses all or half its capacity).
    fn instance(
        rng: &mut ChaCha8Rng,
        m: usize,
        n: usize,
        failures: Option<String>,
        single_source: bool,
    ) -> Network {
        let mut text = format!("{m} {n}\n");
        for _ in 0..m {
            text += &format!("{} {}\n", rng.gen_range(5..40), rng.gen_range(10..100));
        }
        for _ in 0..n {
            text += &format!("{}\n", rng.gen_range(1..12));
            for _ in 0..m {
                text += &format!("{} ", rng.gen_range(0..60));
            }
            text += "\n";
        }
        let opts = CapOptions {
            failures,
            single_source,
            ..CapOptions::default()
        };
        let mut model = orlib_cap(&text, "random", &opts).unwrap();
        // Partial losses too: a failed site keeps half its capacity in some scenarios.
        for scenario in &mut model.scenarios {
            for availability in scenario.availability.values_mut() {
                if rng.gen_bool(0.5) {
                    *availability = 0.5;
                }
            }
        }
        Network::new(model).unwrap()
    }

    fn check_cuts(net: &Network, rng: &mut ChaCha8Rng) -> usize {
        let scenarios = ScenarioSet::explicit(net);
        let settings = Settings::default();
        let mut subs = Subproblems::new(net, &scenarios, &settings).unwrap();
        let master = Master::new(net, subs.deltas.len());
        let first = master.first;
        subs.template.first_upper = master.mip.col_upper[..first].to_vec();
        assert_eq!(subs.template.blocks.len(), net.model.sites.len());
        let control = SolveControl::default();
        let mut points: Vec<Vec<f64>> = (0..12)
            .map(|_| (0..first).map(|_| rng.gen_range(0.0..=1.0)).collect())
            .collect();
        for _ in 0..12 {
            points.push(
                (0..first)
                    .map(|_| f64::from(rng.gen_range(0..2_u8)))
                    .collect(),
            );
        }
        let passes: Vec<Pass> = points
            .iter()
            .map(|y| subs.pass(y, false, &control).unwrap().unwrap())
            .collect();
        let mut checked = 0;
        for (a, at_a) in points.iter().zip(&passes) {
            for (w, cut) in at_a.cuts.iter().enumerate() {
                for (b, at_b) in points.iter().zip(&passes) {
                    let other = &at_b.cuts[w];
                    let bound = cut.value - cut.slack
                        + cut
                            .grad
                            .iter()
                            .zip(b)
                            .zip(a)
                            .map(|((g, yb), ya)| g * (yb - ya))
                            .sum::<f64>();
                    // An optimality cut bounds Q where Q is finite; a feasibility cut bounds the
                    // least hard shortfall F, which is 0 where the LP is feasible.
                    let truth = match (cut.feasible, other.feasible) {
                        (true, true) => other.value,
                        (true, false) => continue,
                        (false, true) => 0.0,
                        (false, false) => other.value,
                    };
                    assert!(
                        bound <= truth + 1e-6 * (1.0 + truth.abs()),
                        "cut from {a:?} gives {bound} at {b:?}, where the LP says {truth}"
                    );
                    checked += 1;
                }
            }
        }
        checked
    }

    #[test]
    fn strengthened_cuts_never_cut_off_the_scenario_lp() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut checked = 0;
        for _ in 0..15 {
            let (m, n) = (rng.gen_range(2..5), rng.gen_range(3..8));
            checked += check_cuts(&instance(&mut rng, m, n, None, false), &mut rng);
        }
        // Single-source: the links gate on assignment columns, not on the sites' open columns.
        for _ in 0..3 {
            let (m, n) = (rng.gen_range(2..4), rng.gen_range(2..5));
            checked += check_cuts(&instance(&mut rng, m, n, None, true), &mut rng);
        }
        for _ in 0..5 {
            let (m, n) = (rng.gen_range(2..5), rng.gen_range(3..8));
            let failures: String = (0..4)
                .map(|_| format!("{}\n", rng.gen_range(0..m)))
                .collect();
            checked += check_cuts(&instance(&mut rng, m, n, Some(failures), false), &mut rng);
        }
        assert!(checked > 10_000, "{checked} cut/point pairs");
    }
}
