//! Worst case of a fixed plan (DESIGN §4.3): which `k` elements (sites, suppliers, depots,
//! routes), if lost for the year, cause the largest second-stage cost (operating cost plus
//! shortfall penalty)? Solved as one MIP (Wood 1993): the inner min-cost flow LP of the fixed
//! plan is replaced by its dual, and the products of interdiction binaries and bounded capacity
//! duals are linearised. The ranked single points of failure (every element lost alone) come
//! from the fixed-plan evaluation LPs, which are also the oracle the MIP is tested against.
//!
//! # The inner LP (primal, for a fixed plan and a loss set z)
//!
//! ```text
//! min  sum_e c_e x_e + sum_d P_d u_d
//! s.t. sum_{e in R_r} x_e                    <= C_r (1 - z_r)   capacity row r   (dual pi_r >= 0)
//!      yield_s sum_{e in s} x_e - sum_{e out s} x_e = 0         site with input  (dual beta_s free)
//!      sum_{e in d} x_e + u_d                 = D_d             demand d         (dual lambda_d free)
//!      x, u >= 0
//! ```
//!
//! Capacity rows: a supplier's outflow, a site's output (`module_capacity x modules` of the
//! plan), a depot's release of each material (its stock), and a route's flow (its capacity, or
//! for an uncapacitated route the capacity of its start node, which never binds unless the route
//! is lost). `z_r` is the loss binary of the element the row belongs to (0 for rows of elements
//! that are not targets). `P_d` is the demand's shortfall penalty, or for hard demand the
//! evaluation's hard penalty ([`crate::formulation::evaluation_hard_penalty`]), so that every loss has a
//! finite cost, exactly as `stockade evaluate` prices it; the report names hard demand left
//! unmet.
//!
//! # The dual, and the MIP
//!
//! ```text
//! max  sum_d D_d lambda_d - sum_r C_r pi_r + sum_r C_r psi_r
//! s.t. lambda_{to(e)} [+ yield_s beta_s if e enters site s] [- beta_s if e leaves site s]
//!        - sum_{r: e in R_r} pi_r <= c_e                        for every route e
//!      lambda_d <= P_d
//!      psi_r <= pi_r,  psi_r <= PI_r z_r,  0 <= pi_r <= PI_r    (psi_r = z_r pi_r, linearised)
//!      sum z <= k,  z binary
//! ```
//!
//! `psi_r = z_r pi_r` is exact at an optimum: the objective pushes `psi_r` up to
//! `min(pi_r, PI_r z_r)`, which is `pi_r z_r` for binary `z_r` once `pi_r <= PI_r`.
//!
//! **Why `PI_r` (the largest `P_d` of the demand nodes row r's routes lead to, directly or
//! through sites) is a valid bound on the capacity duals.** Give every capacity row an extra
//! column `e_r >= 0` that buys capacity beyond `C_r (1 - z_r)` at `PI_r` per unit; its dual
//! constraint is exactly `pi_r <= PI_r`. That LP has the same optimal value as the
//! original for every z: take any of its solutions with `e_r > 0`. Decompose the flow
//! (generalised flow with gains `yield <= 1`: paths from sources to demand, lossy cycles fed by
//! paths, unit-gain circulations). Drop the cycles and circulations: costs are >= 0 and they
//! serve no demand. Then drop path flow through row r until its excess is gone: a path that
//! uses `delta` units of row r delivers at most `delta` t (every yield downstream is <= 1), so
//! its demand node (downstream of r) takes at most `delta` more shortfall, at most `PI_r delta`
//! more penalty, while the path's own cost (>= 0) is saved and `PI_r delta` of bought capacity
//! is no longer needed.
//! No other row's use goes up. So buying capacity never pays, the two LPs agree, and an optimal
//! dual with every `pi_r <= PI_r` exists for every loss set: the MIP's optimum is the true worst
//! case. (For fixed z the MIP is also never above it: any dual-feasible point bounds the primal
//! from below.)
//!
//! Numerics: `PI_r` can be large (hard demand in a model without any penalty is priced at 1e7),
//! and a binary that HiGHS accepts at its default integrality tolerance of 1e-6 would then free
//! 10 currency units of dual per tonne. The MIP is solved at a tolerance of 1e-9, and the worst
//! set it returns is always re-priced by the primal LP (a disagreement is reported).

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::analysis::evaluate::{evaluate, solve_cold, EvaluationSettings};
use crate::error::InputError;
use crate::formulation::{evaluation_hard_penalty, with_fixed_plan};
use crate::network::{Network, NodeRef};
use crate::plan::Plan;
use crate::scenario::{intact, loss_case, Element, ScenarioCase, ScenarioSet};
use crate::solver::mip::{Col, ModelSize, SparseMip};
use crate::solver::{solve_mip, Settings, SolveControl, Status};
use crate::StockadeError;

/// Element kinds that can be lost, as named by `--targets`.
pub const TARGET_KINDS: [&str; 4] = ["sites", "suppliers", "depots", "routes"];

/// Every element of the given kinds (`sites`, `suppliers`, `depots`, `routes`), in that order of
/// the kinds as given. An unknown kind is an input error naming `--targets`.
pub fn candidate_elements(net: &Network, targets: &[String]) -> Result<Vec<Element>, InputError> {
    let m = &net.model;
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for t in targets {
        let t = t.trim();
        if seen.contains(&t) {
            continue;
        }
        seen.push(t);
        match t {
            "sites" => out.extend((0..m.sites.len()).map(Element::Site)),
            "suppliers" => out.extend((0..m.suppliers.len()).map(Element::Supplier)),
            "depots" => out.extend((0..m.depots.len()).map(Element::Depot)),
            "routes" => out.extend((0..net.route_key.len()).map(Element::Route)),
            other => {
                return Err(InputError::single(
                    "--targets",
                    format!(
                        "unknown element kind `{other}`; expected some of sites, suppliers, depots, routes"
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// An element named for people and files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ElementRef {
    /// `site`, `supplier`, `depot` or `route`.
    pub kind: String,
    /// Its id (a route's id or `FROM->TO`).
    pub id: String,
}

impl ElementRef {
    /// The named element.
    pub fn of(net: &Network, e: Element) -> ElementRef {
        let m = &net.model;
        let (kind, id) = match e {
            Element::Supplier(i) => ("supplier", m.suppliers[i].id.clone()),
            Element::Site(i) => ("site", m.sites[i].id.clone()),
            Element::Depot(i) => ("depot", m.depots[i].id.clone()),
            Element::Route(i) => ("route", net.route_key[i].clone()),
        };
        ElementRef {
            kind: kind.to_string(),
            id,
        }
    }
}

/// Names of a set of elements, `a + b`.
pub fn describe(set: &[ElementRef]) -> String {
    if set.is_empty() {
        return "nothing".into();
    }
    set.iter()
        .map(|e| e.id.as_str())
        .collect::<Vec<_>>()
        .join(" + ")
}

/// One capacity row of the inner LP.
#[derive(Debug, Clone)]
struct CapacityRow {
    /// Element whose loss zeroes the row, when it is a candidate.
    element: Option<Element>,
    /// Capacity left when nothing is lost, t/yr (or t of stock).
    capacity: f64,
    /// Routes whose flow the row bounds.
    routes: Vec<usize>,
    /// Bound on the row's dual: the largest penalty of any demand its routes lead to.
    dual_bound: f64,
}

/// The fixed plan's second stage as the interdiction sees it.
#[derive(Debug, Clone)]
struct SecondStage {
    rows: Vec<CapacityRow>,
    /// Routes that can carry flow (single-source assignments shut the others).
    usable: Vec<bool>,
    /// Cost of one tonne on each route: the route's own plus what its start node charges.
    unit_cost: Vec<f64>,
    /// Shortfall penalty of each demand node (hard demand at the evaluation's hard penalty).
    penalty: Vec<f64>,
}

impl SecondStage {
    fn new(net: &Network, plan: &Plan, candidates: &[Element], duration: f64) -> SecondStage {
        let m = &net.model;
        let n_routes = net.route_key.len();
        let is_candidate = |e: Element| candidates.contains(&e);
        let hard = evaluation_hard_penalty(net);
        let penalty: Vec<f64> = net
            .demand_penalty
            .iter()
            .map(|p| p.unwrap_or(hard))
            .collect();
        let unit_cost = (0..n_routes)
            .map(|e| {
                let node = match net.route_from[e] {
                    NodeRef::Supplier(s) => m.suppliers[s].unit_cost,
                    NodeRef::Site(s) => m.sites[s].unit_cost,
                    NodeRef::Depot(_) => m.materials[net.route_material[e]].unit_price,
                    NodeRef::Demand(_) => 0.0,
                };
                net.route_def(e).unit_cost + node
            })
            .collect();
        // A single-source demand takes material only from the site the plan assigns it to.
        let usable: Vec<bool> = (0..n_routes)
            .map(|e| match (net.route_from[e], net.route_to[e]) {
                (NodeRef::Site(s), NodeRef::Demand(d)) if m.demand[d].single_source => {
                    plan.assignments.get(&m.demand[d].id) == Some(&m.sites[s].id)
                }
                _ => true,
            })
            .collect();
        let site_capacity: Vec<f64> = m
            .sites
            .iter()
            .map(|s| {
                plan.sites.get(&s.id).map_or(0.0, |d| {
                    if d.open {
                        s.module_capacity * f64::from(d.modules)
                    } else {
                        0.0
                    }
                })
            })
            .collect();
        let depot_stock = |l: usize, mat: usize| -> f64 {
            let depot = &m.depots[l];
            let id = &m.materials[mat].id;
            let planned = plan
                .depots
                .get(&depot.id)
                .and_then(|d| d.stock.get(id))
                .copied()
                .unwrap_or(0.0);
            planned.max(depot.existing_stock.get(id).copied().unwrap_or(0.0))
        };
        let outs = |n: NodeRef| -> Vec<usize> {
            net.routes_out(n)
                .iter()
                .copied()
                .filter(|e| usable[*e])
                .collect()
        };
        let downstream = downstream_penalty(net, &usable, &penalty);
        let mut rows = Vec::new();
        let mut push = |element: Element, capacity: f64, routes: Vec<usize>| {
            if !routes.is_empty() {
                let dual_bound = routes.iter().map(|e| downstream[*e]).fold(0.0f64, f64::max);
                rows.push(CapacityRow {
                    element: is_candidate(element).then_some(element),
                    capacity,
                    routes,
                    dual_bound,
                });
            }
        };
        for (i, s) in m.suppliers.iter().enumerate() {
            push(Element::Supplier(i), s.capacity, outs(NodeRef::Supplier(i)));
        }
        for (i, cap) in site_capacity.iter().enumerate() {
            push(Element::Site(i), *cap, outs(NodeRef::Site(i)));
        }
        for l in 0..m.depots.len() {
            for &mat in &net.depot_materials[l] {
                let routes: Vec<usize> = outs(NodeRef::Depot(l))
                    .into_iter()
                    .filter(|e| net.route_material[*e] == mat)
                    .collect();
                push(Element::Depot(l), depot_stock(l, mat), routes);
            }
        }
        for (e, _) in usable.iter().enumerate().filter(|(_, u)| **u) {
            let own = net.route_def(e).capacity;
            // A partial loss scales a route's capacity, and an uncapacitated route has none to
            // scale: like the evaluation, only a whole-year loss closes it.
            let candidate = is_candidate(Element::Route(e)) && (own.is_some() || duration >= 1.0);
            if own.is_none() && !candidate {
                continue;
            }
            // An uncapacitated route carries at most what its start node can put out.
            let start = match net.route_from[e] {
                NodeRef::Supplier(s) => m.suppliers[s].capacity,
                NodeRef::Site(s) => site_capacity[s],
                NodeRef::Depot(l) => depot_stock(l, net.route_material[e]),
                NodeRef::Demand(_) => 0.0,
            };
            // A partial loss scales the route's own capacity (not the smaller of it and what its
            // start node can put out, which would make it bind sooner than in the scenarios).
            let capacity = own.unwrap_or(start);
            push(Element::Route(e), capacity, vec![e]);
        }
        SecondStage {
            rows,
            usable,
            unit_cost,
            penalty,
        }
    }
}

/// For every route, the largest penalty of a demand node it leads to (directly or through sites):
/// the bound on the dual of any capacity row over it (see the module notes: the path argument
/// only ever adds shortfall at demand downstream of the row).
fn downstream_penalty(net: &Network, usable: &[bool], penalty: &[f64]) -> Vec<f64> {
    let n_routes = net.route_key.len();
    let mut out = vec![0.0f64; n_routes];
    for (e, slot) in out.iter_mut().enumerate() {
        let mut seen = vec![false; n_routes];
        let mut stack = vec![e];
        while let Some(r) = stack.pop() {
            if seen[r] || !usable[r] {
                continue;
            }
            seen[r] = true;
            match net.route_to[r] {
                NodeRef::Demand(d) => *slot = slot.max(penalty[d]),
                to => stack.extend(net.routes_out(to).iter().copied()),
            }
        }
    }
    out
}

/// The k-interdiction MIP of a fixed plan: the dual of its second-stage LP with loss binaries.
/// It minimises the negated worst cost, as every [`SparseMip`] minimises.
#[derive(Debug, Clone)]
pub struct InterdictionProblem {
    /// The MIP as it will be handed to HiGHS.
    pub mip: SparseMip,
    /// Loss binary of each candidate element.
    lose: Vec<(Element, Col)>,
    /// Largest bound on a capacity dual (currency per t): the largest shortfall penalty.
    pub dual_bound: f64,
    /// Share of the year a lost element is out (its capacity keeps 1 - duration).
    duration: f64,
}

impl InterdictionProblem {
    /// Builds the MIP: at most `k` of `candidates` can be lost. The plan must have been checked
    /// against the model (see [`worst_case`]).
    pub fn build(
        net: &Network,
        plan: &Plan,
        k: u32,
        duration: f64,
        candidates: &[Element],
    ) -> Self {
        let stage = SecondStage::new(net, plan, candidates, duration);
        let dual_bound = stage.penalty.iter().fold(0.0f64, |a, b| a.max(*b));
        let mut p = InterdictionProblem {
            mip: SparseMip::new(),
            lose: Vec::new(),
            dual_bound,
            duration,
        };
        let lambda = p.add_demand_duals(net, &stage);
        let beta = p.add_balance_duals(net);
        let (pi, psi) = p.add_capacity_duals(&stage);
        p.add_loss_choice(candidates, k);
        p.add_flow_dual_rows(net, &stage, &lambda, &beta, &pi);
        p.add_linearisation(&stage, &pi, &psi);
        p
    }

    /// lambda_d <= P_d, objective -D_d lambda_d (the MIP minimises the negated dual).
    fn add_demand_duals(&mut self, net: &Network, stage: &SecondStage) -> Vec<Col> {
        net.model
            .demand
            .iter()
            .zip(&stage.penalty)
            .map(|(d, pen)| self.mip.add_col(-d.demand, f64::NEG_INFINITY, *pen, false))
            .collect()
    }

    /// beta_s, free, for every site with an input (its yield balance row).
    fn add_balance_duals(&mut self, net: &Network) -> Vec<Option<Col>> {
        net.model
            .sites
            .iter()
            .map(|s| {
                s.input.is_some().then(|| {
                    self.mip
                        .add_col(0.0, f64::NEG_INFINITY, f64::INFINITY, false)
                })
            })
            .collect()
    }

    /// pi_r in [0, PI_r] with cost C_r; psi_r in [0, PI_r] with cost -duration C_r for rows a
    /// loss can cut (a loss for part of the year leaves C_r (1 - duration)).
    fn add_capacity_duals(&mut self, stage: &SecondStage) -> (Vec<Col>, Vec<Option<Col>>) {
        let mut pi = Vec::with_capacity(stage.rows.len());
        let mut psi = Vec::with_capacity(stage.rows.len());
        for row in &stage.rows {
            let bound = row.dual_bound;
            pi.push(self.mip.add_col(row.capacity, 0.0, bound, false));
            psi.push(row.element.map(|_| {
                self.mip
                    .add_col(-self.duration * row.capacity, 0.0, bound, false)
            }));
        }
        (pi, psi)
    }

    /// A loss binary per candidate, at most `k` of them.
    fn add_loss_choice(&mut self, candidates: &[Element], k: u32) {
        let fam = self.mip.family("loss_count");
        for e in candidates {
            let z = self.mip.add_binary(0.0);
            self.lose.push((*e, z));
        }
        let terms: Vec<(Col, f64)> = self.lose.iter().map(|(_, z)| (*z, 1.0)).collect();
        self.mip
            .add_row(fam, f64::NEG_INFINITY, f64::from(k), terms);
    }

    /// The dual constraint of every flow column.
    fn add_flow_dual_rows(
        &mut self,
        net: &Network,
        stage: &SecondStage,
        lambda: &[Col],
        beta: &[Option<Col>],
        pi: &[Col],
    ) {
        let fam = self.mip.family("flow_dual");
        let mut rows_of_route: Vec<Vec<usize>> = vec![Vec::new(); net.route_key.len()];
        for (r, row) in stage.rows.iter().enumerate() {
            for e in &row.routes {
                rows_of_route[*e].push(r);
            }
        }
        let sites = &net.model.sites;
        for (e, rows) in rows_of_route.iter().enumerate() {
            if !stage.usable[e] {
                continue;
            }
            let mut terms: Vec<(Col, f64)> = Vec::new();
            match net.route_to[e] {
                NodeRef::Demand(d) => terms.push((lambda[d], 1.0)),
                NodeRef::Site(s) => {
                    if let Some(b) = beta[s] {
                        terms.push((b, sites[s].yield_));
                    }
                }
                _ => {}
            }
            if let NodeRef::Site(s) = net.route_from[e] {
                if let Some(b) = beta[s] {
                    terms.push((b, -1.0));
                }
            }
            terms.extend(rows.iter().map(|r| (pi[*r], -1.0)));
            self.mip
                .add_row(fam, f64::NEG_INFINITY, stage.unit_cost[e], terms);
        }
    }

    /// psi_r <= pi_r and psi_r <= PI z_r.
    fn add_linearisation(&mut self, stage: &SecondStage, pi: &[Col], psi: &[Option<Col>]) {
        let fam = self.mip.family("loss_linearisation");
        for (r, row) in stage.rows.iter().enumerate() {
            let (Some(element), Some(psi)) = (row.element, psi[r]) else {
                continue;
            };
            let Some(z) = self.lose.iter().find(|(e, _)| *e == element).map(|x| x.1) else {
                continue;
            };
            self.mip
                .add_row(fam, f64::NEG_INFINITY, 0.0, [(psi, 1.0), (pi[r], -1.0)]);
            self.mip.add_row(
                fam,
                f64::NEG_INFINITY,
                0.0,
                [(psi, 1.0), (z, -row.dual_bound)],
            );
        }
    }

    /// The elements lost in a solution vector.
    pub fn lost(&self, x: &[f64]) -> Vec<Element> {
        self.lose
            .iter()
            .filter(|(_, z)| x[z.0] > 0.5)
            .map(|(e, _)| *e)
            .collect()
    }
}

/// What the interdiction MIP found.
#[derive(Debug, Clone, PartialEq)]
pub struct Interdiction {
    /// How the MIP ended.
    pub status: Status,
    /// The worst loss set found (empty without an incumbent).
    pub lost: Vec<Element>,
    /// Its second-stage cost as the MIP values it, currency/yr.
    pub value: Option<f64>,
    /// Proven upper bound on the worst second-stage cost, currency/yr.
    pub bound: Option<f64>,
    /// Relative gap between the two.
    pub gap: Option<f64>,
    /// Seconds in HiGHS.
    pub runtime_s: f64,
    /// Size of the MIP.
    pub size: ModelSize,
    /// Rows per constraint family.
    pub rows_by_family: BTreeMap<String, usize>,
}

/// Solves the k-interdiction MIP of a plan already checked against the model: at most `k` of
/// `candidates` lost for `duration` of the year.
pub fn interdict(
    net: &Network,
    plan: &Plan,
    k: u32,
    duration: f64,
    candidates: &[Element],
    settings: &Settings,
    control: &SolveControl,
) -> Result<Interdiction, StockadeError> {
    let problem = InterdictionProblem::build(net, plan, k, duration, candidates);
    // A binary at HiGHS's default integrality tolerance (1e-6) times a dual bound of 1e7 (hard
    // demand in a model without penalties) would let the MIP claim capacity it did not cut.
    let settings = Settings {
        mip_feasibility_tolerance: Some(settings.mip_feasibility_tolerance.unwrap_or(1e-9)),
        ..settings.clone()
    };
    let run = solve_mip(&problem.mip, &settings, control)?;
    let lost = if run.has_solution {
        problem.lost(&run.values)
    } else {
        Vec::new()
    };
    Ok(Interdiction {
        status: run.status,
        lost,
        value: run.objective.filter(|_| run.has_solution).map(|v| -v),
        bound: run.proven_bound().map(|b| -b),
        gap: run.mip_gap,
        runtime_s: run.runtime_s,
        size: run.size,
        rows_by_family: problem.mip.rows_by_family(),
    })
}

/// Unmet demand of one node in a loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemandShortfall {
    /// Demand node id.
    pub demand: String,
    /// Its priority.
    pub priority: u32,
    /// Unmet, t/yr.
    pub shortfall_t: f64,
    /// Hard demand (no penalty in the model): priced at the evaluation's hard penalty.
    pub hard: bool,
}

/// One element lost alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SinglePointOfFailure {
    /// Rank, 1 = the most costly loss.
    pub rank: usize,
    /// The element.
    pub element: ElementRef,
    /// Second-stage cost with it lost, currency/yr.
    pub cost: f64,
    /// Cost above the intact second stage, currency/yr.
    pub increase: f64,
    /// Unmet demand, t/yr.
    pub shortfall_t: f64,
    /// Unmet priority-1 demand, t/yr.
    pub priority1_shortfall_t: f64,
}

/// The worst case of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorstCase {
    /// Most elements lost at once.
    pub k: u32,
    /// Element kinds that could be lost.
    pub targets: Vec<String>,
    /// Share of the year a lost element is out.
    pub duration: f64,
    /// Elements that could be lost (protected ones excluded).
    pub candidates: usize,
    /// Currency of every money figure.
    pub currency: String,
    /// How the interdiction MIP ended (`optimal`, or `time_limit` with the best set found).
    pub status: Status,
    /// The worst loss set found.
    pub lost: Vec<ElementRef>,
    /// Its second-stage cost (operating plus shortfall penalty), from the plan's LP with those
    /// elements lost, currency/yr.
    pub cost: f64,
    /// The second-stage cost with nothing lost, currency/yr.
    pub base_cost: f64,
    /// The plan's first-stage cost (investment and holding), currency/yr.
    pub first_stage_cost: f64,
    /// Unmet demand in the worst loss, t/yr.
    pub shortfall_t: f64,
    /// Unmet demand by node in the worst loss.
    pub shortfall: Vec<DemandShortfall>,
    /// Proven upper bound on the worst cost (equal to `cost` when optimal), currency/yr.
    pub bound: Option<f64>,
    /// Relative gap between `cost` and `bound`.
    pub gap: Option<f64>,
    /// The MIP's own value of the worst set (the dual objective), for the record.
    pub mip_value: Option<f64>,
    /// Every candidate lost alone, most costly first (empty when not asked for).
    pub single_points_of_failure: Vec<SinglePointOfFailure>,
    /// Things a reader must know (hard demand left unmet, a disagreement between the MIP and
    /// the LP).
    pub notes: Vec<String>,
    /// Size of the interdiction MIP.
    pub model_size: ModelSize,
    /// Rows of the MIP per constraint family.
    pub rows_by_family: BTreeMap<String, usize>,
    /// Seconds in HiGHS on the interdiction MIP.
    pub mip_runtime_s: f64,
    /// Wall-clock seconds, all solves included (the single points of failure too).
    pub runtime_s: f64,
}

/// What to analyse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct WorstCaseOptions {
    /// Most elements lost at once.
    pub k: u32,
    /// Element kinds that can be lost: `sites`, `suppliers`, `depots`, `routes`.
    pub targets: Vec<String>,
    /// Share of the year a lost element is out, (0, 1]: its capacity (stock, for a depot) keeps
    /// `1 - duration`. An uncapacitated route is only closed by a whole-year loss, as in the
    /// scenarios.
    pub duration: f64,
    /// Also rank every candidate lost alone (one LP each).
    pub single_points_of_failure: bool,
}

impl Default for WorstCaseOptions {
    fn default() -> Self {
        WorstCaseOptions {
            k: 1,
            targets: TARGET_KINDS.iter().map(|s| s.to_string()).collect(),
            duration: 1.0,
            single_points_of_failure: true,
        }
    }
}

impl WorstCaseOptions {
    /// The elements that can be lost, or an input error naming the option at fault.
    pub fn candidates(&self, net: &Network) -> Result<Vec<Element>, InputError> {
        if !(self.duration.is_finite() && self.duration > 0.0 && self.duration <= 1.0) {
            return Err(InputError::single(
                "--duration",
                format!(
                    "must be a share of the year in (0, 1], got {}",
                    self.duration
                ),
            ));
        }
        candidate_elements(net, &self.targets)
    }
}

/// The scenario in which `lost` are out for `duration` of the year (availability 1 - duration).
pub fn attack_case(net: &Network, lost: &[Element], duration: f64) -> ScenarioCase {
    if lost.is_empty() {
        return intact(net, "base", 1.0);
    }
    let mut case = loss_case(net, lost);
    let left = 1.0 - duration;
    for e in lost {
        match e {
            Element::Supplier(i) => case.supplier[*i] = left,
            Element::Site(i) => case.site[*i] = left,
            Element::Depot(i) => case.depot[*i] = left,
            Element::Route(i) => case.route[*i] = left,
        }
    }
    case
}

/// Checks `plan` against the model and returns its first-stage cost.
pub fn checked_first_stage_cost(net: &Network, plan: &Plan) -> Result<f64, StockadeError> {
    with_fixed_plan(net, plan, &intact(net, "base", 1.0), |p| {
        Ok(p.first_stage_cost())
    })
}

/// Cost and unmet demand of one loss set under the plan, from its evaluation LP.
pub fn loss_outcome(
    net: &Network,
    plan: &Plan,
    lost: &[Element],
    duration: f64,
) -> Result<(f64, Vec<f64>), StockadeError> {
    let case = attack_case(net, lost, duration);
    let (eval, ok) = solve_cold(net, plan, &case)?;
    if !ok {
        return Err(StockadeError::Solver(format!(
            "the second-stage LP of `{}` did not solve to optimality",
            case.id
        )));
    }
    Ok((eval.cost, eval.shortfall_by_demand))
}

/// Unmet demand by node, for the report.
fn shortfall_list(net: &Network, by_demand: &[f64]) -> Vec<DemandShortfall> {
    net.model
        .demand
        .iter()
        .zip(by_demand)
        .enumerate()
        .filter(|(_, (_, t))| **t > 1e-6)
        .map(|(d, (dn, t))| DemandShortfall {
            demand: dn.id.clone(),
            priority: dn.priority,
            shortfall_t: *t,
            hard: net.demand_penalty[d].is_none(),
        })
        .collect()
}

/// Every candidate lost alone, ranked by cost, then shortfall (warm-started evaluation LPs).
pub fn single_points_of_failure(
    net: &Network,
    plan: &Plan,
    candidates: &[Element],
    duration: f64,
) -> Result<Vec<SinglePointOfFailure>, StockadeError> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let (base, _) = loss_outcome(net, plan, &[], duration)?;
    let p = 1.0 / candidates.len() as f64;
    let set = ScenarioSet {
        cases: candidates
            .iter()
            .map(|e| {
                let mut case = attack_case(net, &[*e], duration);
                case.probability = p;
                case
            })
            .collect(),
    };
    let evaluation = evaluate(net, plan, &set, &EvaluationSettings::default(), &|_, _| {})?;
    if let Some(id) = evaluation.failed.first() {
        return Err(StockadeError::Solver(format!(
            "the second-stage LP of `{id}` did not solve to optimality"
        )));
    }
    let m = &net.model;
    let mut out: Vec<SinglePointOfFailure> = candidates
        .iter()
        .zip(&evaluation.outcomes)
        .map(|(e, o)| SinglePointOfFailure {
            rank: 0,
            element: ElementRef::of(net, *e),
            cost: o.cost,
            increase: (o.cost - base).max(0.0),
            shortfall_t: o.shortfall_t,
            priority1_shortfall_t: o
                .shortfall_by_demand
                .iter()
                .zip(&m.demand)
                .filter(|(_, d)| d.priority <= 1)
                .fold(0.0, |a, (t, _)| a + t),
        })
        .collect();
    out.sort_by(|a, b| {
        b.cost
            .total_cmp(&a.cost)
            .then(b.shortfall_t.total_cmp(&a.shortfall_t))
            .then(a.element.cmp(&b.element))
    });
    for (i, s) in out.iter_mut().enumerate() {
        s.rank = i + 1;
    }
    Ok(out)
}

/// The worst loss of up to `k` elements for a fixed plan, and (when asked) the ranked single
/// points of failure. `protected` elements cannot be lost.
pub fn worst_case(
    net: &Network,
    plan: &Plan,
    options: &WorstCaseOptions,
    protected: &[Element],
    settings: &Settings,
    control: &SolveControl,
) -> Result<WorstCase, StockadeError> {
    let started = Instant::now();
    let first_stage_cost = checked_first_stage_cost(net, plan)?;
    let duration = options.duration;
    let candidates: Vec<Element> = options
        .candidates(net)?
        .into_iter()
        .filter(|e| !protected.contains(e))
        .collect();
    let found = interdict(
        net,
        plan,
        options.k,
        duration,
        &candidates,
        settings,
        control,
    )?;
    let (base_cost, _) = loss_outcome(net, plan, &[], duration)?;
    let (cost, by_demand) = loss_outcome(net, plan, &found.lost, duration)?;
    let mut notes = Vec::new();
    if let Some(v) = found.value {
        if (v - cost).abs() > 1e-6 * cost.abs().max(1.0) {
            notes.push(format!(
                "the interdiction MIP values the worst set at {v:.6e} and its LP at {cost:.6e}: numerical trouble, trust the LP"
            ));
        }
    }
    let shortfall = shortfall_list(net, &by_demand);
    let hard = evaluation_hard_penalty(net);
    for s in shortfall.iter().filter(|s| s.hard) {
        notes.push(format!(
            "hard demand {} cannot be met: {:.3} t/yr short, priced at the evaluation's hard penalty of {hard} {}/t",
            s.demand, s.shortfall_t, net.model.currency
        ));
    }
    let single_points_of_failure = if options.single_points_of_failure {
        single_points_of_failure(net, plan, &candidates, duration)?
    } else {
        Vec::new()
    };
    // The LP's value is the truth; the bound can only be trusted as far as the MIP's.
    let bound = found.bound.map(|b| b.max(cost));
    let gap = bound.map(|b| (b - cost).max(0.0) / b.abs().max(1e-9));
    Ok(WorstCase {
        k: options.k,
        targets: options.targets.clone(),
        duration,
        candidates: candidates.len(),
        currency: net.model.currency.clone(),
        status: found.status,
        lost: found.lost.iter().map(|e| ElementRef::of(net, *e)).collect(),
        cost,
        base_cost,
        first_stage_cost,
        shortfall_t: by_demand.iter().fold(0.0, |a, b| a + b),
        shortfall,
        bound,
        gap,
        mip_value: found.value,
        single_points_of_failure,
        notes,
        model_size: found.size,
        rows_by_family: found.rows_by_family,
        mip_runtime_s: found.runtime_s,
        runtime_s: started.elapsed().as_secs_f64(),
    })
}
