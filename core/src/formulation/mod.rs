//! The capacity-dispersion MIP (DESIGN §4.1): a two-stage stochastic program whose first stage
//! opens sites, sizes them in modules, opens depots and stocks them; whose second stage moves
//! material in every scenario, meeting demand or paying for the shortfall.
//!
//! [`SitingProblem`] owns its variables, indexed by the network's own indices, with one `add_*`
//! function per constraint family. Results are read back through those handles.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::error::{InputError, Problem};
use crate::model::{Risk, RiskMeasure, RiskOn};
use crate::network::{Network, NodeRef};
use crate::plan::{DepotDecision, Plan, SiteDecision};
use crate::result::{
    CostBreakdown, DepotPlan, Diagnosis, FlowResult, PolicyResult, RiskReport, ScenarioOutcome,
    ShortfallResult, SitePlan, SolveResult, Violation,
};
use crate::scenario::{ScenarioCase, ScenarioSet};
use crate::solver::mip::{Col, Row, SparseMip};
use crate::solver::{solve_mip, Method, Settings, SolveControl, SolverRun};
use crate::StockadeError;

/// Sense of a policy constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sense {
    AtMost,
    AtLeast,
}

/// A policy constraint row and what it means in the domain.
#[derive(Debug, Clone)]
struct PolicyRow {
    family: &'static str,
    subject: String,
    material: Option<usize>,
    sense: Sense,
    limit: f64,
    /// Elastic violation column (elastic mode only).
    violation: Option<Col>,
    /// Second site of a separation pair.
    pair: Option<(usize, usize)>,
}

/// A hard demand row that may be relaxed in elastic mode.
#[derive(Debug, Clone)]
struct HardDemand {
    demand: usize,
    scenario: usize,
    violation: Col,
}

/// The siting problem over a scenario set, ready to solve.
#[derive(Debug)]
pub struct SitingProblem<'a> {
    net: &'a Network,
    scenarios: &'a ScenarioSet,
    /// The MIP as it will be handed to HiGHS.
    pub mip: SparseMip,
    /// In elastic mode every policy row (and hard demand) gets a violation column and the
    /// objective is the total normalised violation.
    elastic: bool,
    elastic_cost: Vec<(Col, f64)>,
    open: Vec<Col>,
    modules: Vec<Col>,
    depot_open: Vec<Col>,
    /// Stock columns of each depot, by material index.
    stock: Vec<Vec<(usize, Col)>>,
    /// Single-source assignment (site, demand) -> column.
    assign: BTreeMap<(usize, usize), Col>,
    /// Flow of route e in scenario w: `flow[w * routes + e]`.
    flow: Vec<Col>,
    /// Shortfall of demand d in scenario w: `shortfall[w * demands + d]`.
    shortfall: Vec<Option<Col>>,
    policy_rows: Vec<PolicyRow>,
    hard_demand: Vec<HardDemand>,
    /// Hardening of each site: (option index, chosen column, modules x chosen column).
    harden: Vec<Vec<(usize, Col, Col)>>,
    /// Scenario-dependent rows and bounds of each outcome scenario (for re-use in evaluation).
    handles: Vec<ScenarioHandles>,
    /// Per-scenario loss terms (cost or shortfall) for the risk rows.
    loss: Vec<Vec<(Col, f64)>>,
    /// The risk variables: (eta or z, xi columns).
    risk_cols: Option<(Col, Vec<Col>)>,
    evaluation: bool,
    /// Every demand node has a shortfall column, a hard one fixed at 0 (see [`BuildOptions`]).
    recourse_columns: bool,
    /// Columns of the first stage: every column before the first scenario's.
    first_stage_cols: usize,
    /// Columns of one scenario's second stage (every scenario has the same).
    second_stage_cols: usize,
    /// The largest expected shortfall fraction across parties (min-max fairness).
    max_party_shortfall: Option<Col>,
}

/// How to build the problem.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildOptions<'c> {
    /// Every policy row and hard demand gets a penalised violation column; the objective is the
    /// total normalised violation (the infeasibility diagnosis).
    pub elastic: bool,
    /// Zero-probability contingencies in which protected demand must be met (N-k survivability).
    pub contingencies: &'c [ScenarioCase],
    /// Evaluation of a fixed plan: hard demand may fall short at [`EVALUATION_HARD_PENALTY`]
    /// times the largest penalty, so that every scenario has an answer.
    pub evaluation: bool,
    /// Every demand node gets a shortfall column in every scenario; hard demand's is fixed at 0.
    /// Benders relaxes those bounds to measure how far a first stage is from feasible.
    pub recourse_columns: bool,
    /// First phase of min-max fairness: the objective is the largest expected shortfall
    /// fraction across parties alone (every cost set to zero).
    pub min_max_phase_one: bool,
}

/// Rows and columns of one scenario whose coefficients or bounds depend on availability.
#[derive(Debug, Clone, Default)]
pub struct ScenarioHandles {
    /// (supplier, its capacity row).
    pub supplier_rows: Vec<(usize, Row)>,
    /// (site, its capacity row).
    pub site_rows: Vec<(usize, Row)>,
    /// (depot, stock column, its release row).
    pub depot_rows: Vec<(usize, Col, Row)>,
    /// First flow column: route e is `first_flow + e`.
    pub first_flow: usize,
    /// Shortfall column of each demand node.
    pub shortfall: Vec<Option<Col>>,
}

/// Hard demand falls short in an evaluation at this multiple of the model's largest penalty
/// (or of 1e6 when there is none): dearer than any penalised shortfall, so it comes last.
pub const EVALUATION_HARD_PENALTY: f64 = 10.0;

/// Penalty per t of hard demand unmet when a fixed plan is evaluated (and in the worst-case
/// analyses): [`EVALUATION_HARD_PENALTY`] times the model's largest penalty, or times 1e6 when
/// the model has none.
pub fn evaluation_hard_penalty(net: &Network) -> f64 {
    let largest = net
        .demand_penalty
        .iter()
        .flatten()
        .fold(0.0f64, |a, b| a.max(*b));
    EVALUATION_HARD_PENALTY * if largest > 0.0 { largest } else { 1e6 }
}

impl<'a> SitingProblem<'a> {
    /// Builds the whole formulation: first stage, every scenario, every policy in the model.
    pub fn build(net: &'a Network, scenarios: &'a ScenarioSet, options: &BuildOptions<'_>) -> Self {
        let elastic = options.elastic;
        let mut p = SitingProblem {
            net,
            scenarios,
            mip: SparseMip::new(),
            elastic,
            harden: Vec::new(),
            handles: Vec::new(),
            loss: Vec::new(),
            risk_cols: None,
            evaluation: options.evaluation,
            recourse_columns: options.recourse_columns,
            first_stage_cols: 0,
            second_stage_cols: 0,
            max_party_shortfall: None,
            elastic_cost: Vec::new(),
            open: Vec::new(),
            modules: Vec::new(),
            depot_open: Vec::new(),
            stock: Vec::new(),
            assign: BTreeMap::new(),
            flow: Vec::new(),
            shortfall: Vec::new(),
            policy_rows: Vec::new(),
            hard_demand: Vec::new(),
        };
        p.add_sites();
        p.add_depots();
        p.add_single_source();
        p.first_stage_cols = p.mip.num_cols();
        for case in &scenarios.cases {
            let handles = p.add_scenario(case, false);
            p.handles.push(handles);
        }
        if let Some(h) = p.handles.first() {
            p.second_stage_cols =
                p.handles.get(1).map_or(p.mip.num_cols(), |n| n.first_flow) - h.first_flow;
        }
        if let Some(risk) = net.model.risk.as_ref().filter(|_| !options.evaluation) {
            p.add_risk(risk);
        }
        let pol = &net.model.policies;
        if let Some(sv) = &pol.survivability {
            p.add_survivability(options.contingencies, sv.fraction, sv.priority);
        }
        if let Some(sigma) = pol.site_share {
            p.add_site_share(sigma);
        }
        if let Some(cs) = &pol.country_share {
            p.add_country_share(cs.cap, &cs.by_country);
        }
        if let Some(tau) = pol.trusted_share {
            p.add_trusted_share(tau);
        }
        if let Some(os) = &pol.open_sites {
            p.add_open_sites(os.min, os.max);
        }
        if let Some(c) = pol.min_countries {
            p.add_min_countries(c);
        }
        if let Some(d) = pol.min_separation_km {
            p.add_separation(d);
        }
        if let Some(b) = pol.budget {
            p.add_budget(b);
        }
        if let Some(f) = net
            .model
            .agreement
            .as_ref()
            .and_then(|a| a.fairness.as_ref())
        {
            if !options.evaluation {
                p.add_fairness(f.max_shortfall_fraction, f.min_max);
            }
        }
        if options.min_max_phase_one {
            if let Some(z) = p.max_party_shortfall {
                p.mip.col_cost.iter_mut().for_each(|c| *c = 0.0);
                p.mip.offset = 0.0;
                p.mip.col_cost[z.0] = 1.0;
            }
        }
        if elastic {
            p.mip.col_cost.iter_mut().for_each(|c| *c = 0.0);
            p.mip.offset = 0.0;
            for (col, cost) in &p.elastic_cost {
                p.mip.col_cost[col.0] = *cost;
            }
        }
        p
    }

    fn routes(&self) -> usize {
        self.net.route_key.len()
    }

    /// Output capacity terms of site `s`: module_capacity * modules.
    fn capacity_term(&self, s: usize) -> (Col, f64) {
        (self.modules[s], self.net.model.sites[s].module_capacity)
    }

    /// Open/modules for every site: `existing <= modules <= max * open`.
    fn add_sites(&mut self) {
        let fam = self.mip.family("site_modules");
        for s in &self.net.model.sites {
            let existing = f64::from(s.existing_modules);
            let open_lb = if s.existing_modules > 0 { 1.0 } else { 0.0 };
            let open = self.mip.add_col(s.open_cost, open_lb, 1.0, true);
            let modules = self
                .mip
                .add_col(s.module_cost, existing, f64::from(s.max_modules), true);
            // Existing modules are sunk: only new ones cost.
            self.mip.offset -= s.module_cost * existing;
            self.mip.add_row(
                fam,
                f64::NEG_INFINITY,
                0.0,
                [(modules, 1.0), (open, -f64::from(s.max_modules))],
            );
            self.open.push(open);
            self.modules.push(modules);
        }
        // Hardening: at most one option per site; y = modules x chosen, linearised exactly
        // (modules integer, chosen binary): y <= max chosen, y <= modules,
        // y >= modules - max (1 - chosen).
        let fam_h = self.mip.family("hardening");
        for (i, s) in self.net.model.sites.iter().enumerate() {
            let max = f64::from(s.max_modules);
            let mut options = Vec::new();
            for (k, h) in s.hardening.iter().enumerate() {
                let chosen = self.mip.add_binary(h.cost);
                let y = self.mip.add_col(0.0, 0.0, max, false);
                let modules = self.modules[i];
                self.mip
                    .add_row(fam_h, f64::NEG_INFINITY, 0.0, [(y, 1.0), (chosen, -max)]);
                self.mip
                    .add_row(fam_h, f64::NEG_INFINITY, 0.0, [(y, 1.0), (modules, -1.0)]);
                self.mip.add_row(
                    fam_h,
                    -max,
                    f64::INFINITY,
                    [(y, 1.0), (modules, -1.0), (chosen, -max)],
                );
                options.push((k, chosen, y));
            }
            if options.len() > 1 {
                let terms: Vec<_> = options.iter().map(|(_, c, _)| (*c, 1.0)).collect();
                self.mip.add_row(fam_h, f64::NEG_INFINITY, 1.0, terms);
            }
            self.harden.push(options);
        }
    }

    /// Depot opening and stock: `sum_m stock <= capacity * open`, `stock >= existing`.
    fn add_depots(&mut self) {
        let fam = self.mip.family("depot_capacity");
        for (l, d) in self.net.model.depots.iter().enumerate() {
            let held: f64 = d.existing_stock.values().sum();
            let open_lb = if held > 0.0 { 1.0 } else { 0.0 };
            let open = self.mip.add_col(d.open_cost, open_lb, 1.0, true);
            let mut cols = Vec::new();
            for &m in &self.net.depot_materials[l] {
                let existing = d
                    .existing_stock
                    .get(&self.net.model.materials[m].id)
                    .copied()
                    .unwrap_or(0.0);
                let col = self
                    .mip
                    .add_col(d.holding_cost, existing, d.capacity, false);
                cols.push((m, col));
            }
            let mut terms: Vec<(Col, f64)> = cols.iter().map(|(_, c)| (*c, 1.0)).collect();
            terms.push((open, -d.capacity));
            self.mip.add_row(fam, f64::NEG_INFINITY, 0.0, terms);
            self.depot_open.push(open);
            self.stock.push(cols);
        }
    }

    /// Single sourcing: each flagged demand node is assigned to exactly one open site.
    fn add_single_source(&mut self) {
        let fam_one = self.mip.family("single_source_assign");
        let fam_open = self.mip.family("single_source_open");
        for (d, dn) in self.net.model.demand.iter().enumerate() {
            if !dn.single_source {
                continue;
            }
            let mut sites = BTreeSet::new();
            for (f, t) in self.net.route_from.iter().zip(&self.net.route_to) {
                if let (NodeRef::Site(s), NodeRef::Demand(k)) = (f, t) {
                    if *k == d {
                        sites.insert(*s);
                    }
                }
            }
            let mut terms = Vec::new();
            for s in sites {
                let z = self.mip.add_binary(0.0);
                self.mip.add_row(
                    fam_open,
                    f64::NEG_INFINITY,
                    0.0,
                    [(z, 1.0), (self.open[s], -1.0)],
                );
                self.assign.insert((s, d), z);
                terms.push((z, 1.0));
            }
            self.mip.add_row(fam_one, 1.0, 1.0, terms);
        }
    }

    /// Second stage of scenario `w`: flows, shortfall, and the balance of every node.
    /// Second stage of one scenario. A contingency has no cost and gives every demand node a
    /// shortfall column (the survivability row bounds the protected part).
    fn add_scenario(&mut self, case: &ScenarioCase, contingency: bool) -> ScenarioHandles {
        let net = self.net;
        let m = &net.model;
        let p = case.probability;
        let n_routes = self.routes();
        let w = self.handles.len();
        let mut handles = ScenarioHandles {
            first_flow: self.mip.num_cols(),
            ..ScenarioHandles::default()
        };
        let mut loss: Vec<(Col, f64)> = Vec::new();
        let risk_on_cost = m.risk.as_ref().map(|r| r.on == RiskOn::Cost);

        // Flow columns, with the unit cost of the route and of what its start node does. They
        // are added contiguously, so route e of this scenario is column first_col + e.
        let first_col = self.mip.num_cols();
        for e in 0..n_routes {
            let r = net.route_def(e);
            let upper = r.capacity.map_or(f64::INFINITY, |c| c * case.route[e]);
            let upper = if case.route[e] <= 0.0 { 0.0 } else { upper };
            let unit = self.unit_cost(e);
            let col = self.mip.add_col(p * unit, 0.0, upper, false);
            if !contingency {
                self.flow.push(col);
                if risk_on_cost == Some(true) && unit != 0.0 {
                    loss.push((col, unit));
                }
            }
        }
        let flow_col = |e: usize| Col(first_col + e);

        let fam_sup = self.mip.family("supplier_capacity");
        for (i, s) in m.suppliers.iter().enumerate() {
            let routes = net.routes_out(NodeRef::Supplier(i));
            if !routes.is_empty() {
                let terms: Vec<_> = routes.iter().map(|e| (flow_col(*e), 1.0)).collect();
                let row = self.mip.add_row(
                    fam_sup,
                    f64::NEG_INFINITY,
                    s.capacity * case.supplier[i],
                    terms,
                );
                handles.supplier_rows.push((i, row));
            }
        }

        let fam_cap = self.mip.family("site_capacity");
        let fam_yield = self.mip.family("site_balance");
        for (i, s) in m.sites.iter().enumerate() {
            let outs = net.routes_out(NodeRef::Site(i));
            // Output <= module_capacity * modules * availability.
            let mut terms: Vec<_> = outs.iter().map(|e| (flow_col(*e), 1.0)).collect();
            terms.push((self.modules[i], -s.module_capacity * case.site[i]));
            // Hardening restores its share of the availability lost to the hazards it mitigates.
            for (k, _, y) in &self.harden[i] {
                let coef = self.hardening_coefficient(case, i, *k);
                terms.push((*y, -coef));
            }
            let row = self.mip.add_row(fam_cap, f64::NEG_INFINITY, 0.0, terms);
            handles.site_rows.push((i, row));
            if s.input.is_some() {
                // yield * input - output = 0
                let ins = net.routes_in(NodeRef::Site(i));
                let mut terms: Vec<_> = ins.iter().map(|e| (flow_col(*e), s.yield_)).collect();
                terms.extend(outs.iter().map(|e| (flow_col(*e), -1.0)));
                self.mip.add_row(fam_yield, 0.0, 0.0, terms);
            }
        }

        let fam_rel = self.mip.family("depot_release");
        for l in 0..m.depots.len() {
            let outs = net.routes_out(NodeRef::Depot(l));
            for &(mat, stock) in &self.stock[l] {
                let mut terms: Vec<_> = outs
                    .iter()
                    .filter(|e| net.route_material[**e] == mat)
                    .map(|e| (flow_col(*e), 1.0))
                    .collect();
                if terms.is_empty() {
                    continue;
                }
                terms.push((stock, -case.depot[l]));
                let row = self.mip.add_row(fam_rel, f64::NEG_INFINITY, 0.0, terms);
                handles.depot_rows.push((l, stock, row));
            }
        }

        let fam_dem = self.mip.family("demand_balance");
        let fam_link = self.mip.family("site_demand_link");
        for (d, dn) in m.demand.iter().enumerate() {
            let ins = net.routes_in(NodeRef::Demand(d));
            let mut terms: Vec<_> = ins.iter().map(|e| (flow_col(*e), 1.0)).collect();
            let u = match net.demand_penalty[d] {
                _ if contingency => Some(self.mip.add_col(0.0, 0.0, dn.demand, false)),
                Some(pen) => Some(self.mip.add_col(p * pen, 0.0, dn.demand, false)),
                None if self.evaluation => {
                    let pen = self.hard_penalty();
                    Some(self.mip.add_col(p * pen, 0.0, dn.demand, false))
                }
                None if self.elastic => {
                    let col = self.mip.add_col(0.0, 0.0, dn.demand, false);
                    self.elastic_cost.push((col, 1.0 / dn.demand.max(1e-9)));
                    self.hard_demand.push(HardDemand {
                        demand: d,
                        scenario: w,
                        violation: col,
                    });
                    Some(col)
                }
                None if self.recourse_columns => Some(self.mip.add_col(0.0, 0.0, 0.0, false)),
                None => None,
            };
            if let Some(u) = u {
                terms.push((u, 1.0));
                if !contingency {
                    match risk_on_cost {
                        Some(true) => {
                            let pen = net.demand_penalty[d].unwrap_or(0.0);
                            if pen != 0.0 {
                                loss.push((u, pen));
                            }
                        }
                        Some(false) => loss.push((u, 1.0)),
                        None => {}
                    }
                }
            }
            handles.shortfall.push(u);
            if !contingency {
                self.shortfall.push(u);
            }
            self.mip.add_row(fam_dem, dn.demand, dn.demand, terms);
            // A site delivers nothing unless it is open (or assigned): the strong linking
            // inequality that makes facility-location relaxations tight.
            for &e in ins {
                if let NodeRef::Site(s) = net.route_from[e] {
                    // With the plan fixed (evaluation) a closed site has no capacity, so the
                    // open gate is redundant; dropping it keeps the scenario LP small, which is
                    // what makes warm-started re-solves cheap. Assignment gates stay.
                    if self.evaluation && !self.assign.contains_key(&(s, d)) {
                        continue;
                    }
                    let gate = self.assign.get(&(s, d)).copied().unwrap_or(self.open[s]);
                    self.mip.add_row(
                        fam_link,
                        f64::NEG_INFINITY,
                        0.0,
                        [(flow_col(e), 1.0), (gate, -dn.demand)],
                    );
                }
            }
        }
        self.add_sharing(case, first_col);
        if !contingency {
            self.loss.push(loss);
        }
        handles
    }

    /// The sharing agreement in one scenario whose route `e` is column `first_flow + e`:
    /// releases the agreement forbids are fixed at zero; each allowance caps the releases of its
    /// pair in tonnes (`max_tonnes`) and as a share of the releasing party's stock of each
    /// material (`max_fraction`).
    fn add_sharing(&mut self, case: &ScenarioCase, first_flow: usize) {
        let net = self.net;
        let m = &net.model;
        let Some(agreement) = m.agreement.as_ref().filter(|_| !m.parties.is_empty()) else {
            return;
        };
        let n_routes = self.routes();
        let mut covered: Vec<Vec<usize>> = vec![Vec::new(); agreement.allowances.len()];
        for e in 0..n_routes {
            if !net.release_allowed(e) {
                self.mip.col_upper[first_flow + e] = 0.0;
                continue;
            }
            for k in net.allowances_over(e) {
                covered[k].push(e);
            }
        }
        let fam_t = self.mip.family("sharing_tonnes");
        let fam_f = self.mip.family("sharing_fraction");
        for (k, al) in agreement.allowances.iter().enumerate() {
            let routes = &covered[k];
            if routes.is_empty() {
                continue;
            }
            if let Some(t) = al.max_tonnes {
                let terms: Vec<(Col, f64)> =
                    routes.iter().map(|e| (Col(first_flow + e), 1.0)).collect();
                self.mip.add_row(fam_t, f64::NEG_INFINITY, t, terms);
            }
            let Some(f) = al.max_fraction else { continue };
            let materials: BTreeSet<usize> =
                routes.iter().map(|e| net.route_material[*e]).collect();
            for mat in materials {
                let mut terms: Vec<(Col, f64)> = routes
                    .iter()
                    .filter(|e| net.route_material[**e] == mat)
                    .map(|e| (Col(first_flow + e), 1.0))
                    .collect();
                for (l, cols) in self.stock.iter().enumerate() {
                    let owner = net.depot_party[l].map(|i| m.parties[i].id.as_str());
                    if owner != Some(al.from.as_str()) {
                        continue;
                    }
                    // What the depot can give in this scenario bounds the allowance too.
                    for (mm, col) in cols {
                        if *mm == mat {
                            terms.push((*col, -f * case.depot[l]));
                        }
                    }
                }
                self.mip.add_row(fam_f, f64::NEG_INFINITY, 0.0, terms);
            }
        }
    }

    /// Fairness across parties: each party's expected shortfall fraction at most `bound`, and
    /// with `min_max` a column `z` above every party's fraction (the largest one).
    fn add_fairness(&mut self, bound: Option<f64>, min_max: bool) {
        let net = self.net;
        let m = &net.model;
        if m.parties.is_empty() || (bound.is_none() && !min_max) {
            return;
        }
        let n_demand = m.demand.len();
        let z = min_max.then(|| self.mip.add_col(0.0, 0.0, 1.0, false));
        let fam_b = self.mip.family("fairness_bound");
        let fam_z = self.mip.family("fairness_min_max");
        for party in 0..m.parties.len() {
            let members: Vec<usize> = (0..n_demand)
                .filter(|d| net.demand_party[*d] == Some(party))
                .collect();
            let total: f64 = members.iter().map(|d| m.demand[*d].demand).sum();
            if total <= 0.0 {
                continue;
            }
            let mut terms: Vec<(Col, f64)> = Vec::new();
            for (w, case) in self.scenarios.cases.iter().enumerate() {
                for d in &members {
                    if let Some(u) = self.shortfall[w * n_demand + d] {
                        terms.push((u, case.probability));
                    }
                }
            }
            if let Some(b) = bound {
                self.mip
                    .add_row(fam_b, f64::NEG_INFINITY, b * total, terms.clone());
            }
            if let Some(z) = z {
                terms.push((z, -total));
                self.mip.add_row(fam_z, f64::NEG_INFINITY, 0.0, terms);
            }
        }
        self.max_party_shortfall = z;
    }

    /// The largest expected shortfall fraction across parties (min-max fairness only).
    pub fn max_party_shortfall_col(&self) -> Option<Col> {
        self.max_party_shortfall
    }

    /// Coefficient of `modules x chosen` of site `s`'s hardening option `k` in the capacity row:
    /// module_capacity x restored x (1 - availability), when one of the option's hazards hit the
    /// site in this scenario.
    pub fn hardening_coefficient(&self, case: &ScenarioCase, s: usize, k: usize) -> f64 {
        let m = &self.net.model;
        let site = &m.sites[s];
        let option = &site.hardening[k];
        let mitigated = option.hazards.iter().any(|hz| {
            m.hazards
                .iter()
                .position(|x| &x.id == hz)
                .is_some_and(|h| case.site_hit_by(s, h))
        });
        if mitigated {
            site.module_capacity * option.restored * (1.0 - case.site[s])
        } else {
            0.0
        }
    }

    /// Penalty per t of hard demand unmet in an evaluation.
    fn hard_penalty(&self) -> f64 {
        evaluation_hard_penalty(self.net)
    }

    /// Risk term (Rockafellar-Uryasev): CVaR_beta = eta + 1/(1-beta) sum_w p_w xi_w with
    /// xi_w >= L_w - eta, xi_w >= 0; worst case: z >= L_w. Added to the objective with its
    /// weight, and bounded by its limit when one is given.
    fn add_risk(&mut self, risk: &Risk) {
        if risk.measure == RiskMeasure::Expectation {
            // The expectation of the cost is the objective already; a limit on the expectation
            // (of shortfall, say) is one row: sum_w p_w L_w <= limit.
            if let Some(limit) = risk.limit {
                let fam = self.mip.family("risk");
                let mut terms: BTreeMap<usize, f64> = BTreeMap::new();
                for (w, case) in self.scenarios.cases.iter().enumerate() {
                    for (c, v) in &self.loss[w] {
                        *terms.entry(c.0).or_default() += case.probability * v;
                    }
                }
                let terms: Vec<(Col, f64)> = terms
                    .into_iter()
                    .filter(|(_, v)| *v != 0.0)
                    .map(|(c, v)| (Col(c), v))
                    .collect();
                self.mip.add_row(fam, f64::NEG_INFINITY, limit, terms);
            }
            return;
        }
        let fam = self.mip.family("risk");
        let cases = &self.scenarios.cases;
        let worst = risk.measure == RiskMeasure::WorstCase;
        let eta = self.mip.add_col(
            risk.weight,
            if worst { 0.0 } else { f64::NEG_INFINITY },
            f64::INFINITY,
            false,
        );
        let mut xis = Vec::new();
        let mut cvar_terms = vec![(eta, 1.0)];
        for (w, case) in cases.iter().enumerate() {
            let loss = self.loss[w].clone();
            if worst {
                // z - L_w >= 0
                let mut terms = vec![(eta, 1.0)];
                terms.extend(loss.iter().map(|(c, v)| (*c, -v)));
                self.mip.add_row(fam, 0.0, f64::INFINITY, terms);
            } else {
                let tail = case.probability / (1.0 - risk.beta);
                let xi = self
                    .mip
                    .add_col(risk.weight * tail, 0.0, f64::INFINITY, false);
                // xi + eta - L_w >= 0
                let mut terms = vec![(xi, 1.0), (eta, 1.0)];
                terms.extend(loss.iter().map(|(c, v)| (*c, -v)));
                self.mip.add_row(fam, 0.0, f64::INFINITY, terms);
                cvar_terms.push((xi, tail));
                xis.push(xi);
            }
        }
        if let Some(limit) = risk.limit {
            self.mip.add_row(fam, f64::NEG_INFINITY, limit, cvar_terms);
        }
        self.risk_cols = Some((eta, xis));
    }

    /// N-k survivability: in every contingency, protected demand (priority <= `priority`) falls
    /// short by at most (1 - fraction) of its total.
    fn add_survivability(&mut self, contingencies: &[ScenarioCase], fraction: f64, priority: u32) {
        let m = &self.net.model;
        let protected: Vec<usize> = (0..m.demand.len())
            .filter(|d| m.demand[*d].priority <= priority)
            .collect();
        let total: f64 = protected.iter().map(|d| m.demand[*d].demand).sum();
        if protected.is_empty() {
            return;
        }
        let fam = self.mip.family("survivability");
        for case in contingencies {
            let handles = self.add_scenario(case, true);
            let terms: Vec<(Col, f64)> = protected
                .iter()
                .filter_map(|d| handles.shortfall[*d].map(|u| (u, 1.0)))
                .collect();
            self.mip
                .add_row(fam, f64::NEG_INFINITY, (1.0 - fraction) * total, terms);
        }
    }

    /// Adds a policy row; in elastic mode it gets a violation column weighted by `1/scale`.
    #[allow(clippy::too_many_arguments)]
    fn policy_row(
        &mut self,
        family: &'static str,
        subject: String,
        material: Option<usize>,
        sense: Sense,
        limit: f64,
        rhs: f64,
        mut terms: Vec<(Col, f64)>,
        scale: f64,
    ) -> Row {
        let fam = self.mip.family(family);
        let violation = self.elastic.then(|| {
            let col = self.mip.add_col(0.0, 0.0, f64::INFINITY, false);
            self.elastic_cost.push((col, 1.0 / scale.max(1e-9)));
            col
        });
        let (lo, hi, sign) = match sense {
            Sense::AtMost => (f64::NEG_INFINITY, rhs, -1.0),
            Sense::AtLeast => (rhs, f64::INFINITY, 1.0),
        };
        if let Some(v) = violation {
            terms.push((v, sign));
        }
        self.policy_rows.push(PolicyRow {
            family,
            subject,
            material,
            sense,
            limit,
            violation,
            pair: None,
        });
        self.mip.add_row(fam, lo, hi, terms)
    }

    /// Sites grouped by output material.
    fn sites_by_material(&self) -> BTreeMap<usize, Vec<usize>> {
        let mut by: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let only = &self.net.model.policies.materials;
        for (i, s) in self.net.model.sites.iter().enumerate() {
            if !only.is_empty() && !only.contains(&s.output) {
                continue;
            }
            if let Some(m) = self.net.material(&s.output) {
                by.entry(m).or_default().push(i);
            }
        }
        by
    }

    /// Scale for share rows of material m: its demand, else its largest possible capacity.
    fn capacity_scale(&self, sites: &[usize], m: usize) -> f64 {
        let d = self.net.material_demand(m);
        if d > 0.0 {
            return d;
        }
        sites
            .iter()
            .map(|s| {
                let site = &self.net.model.sites[*s];
                site.module_capacity * f64::from(site.max_modules)
            })
            .sum::<f64>()
            .max(1.0)
    }

    /// capacity_s <= sigma * total capacity of the material, for every site.
    pub fn add_site_share(&mut self, sigma: f64) {
        for (m, sites) in self.sites_by_material() {
            let scale = self.capacity_scale(&sites, m);
            for &s in &sites {
                let mut terms: Vec<(Col, f64)> = sites
                    .iter()
                    .map(|t| {
                        let (col, mc) = self.capacity_term(*t);
                        (col, -sigma * mc)
                    })
                    .collect();
                terms.iter_mut().for_each(|(c, v)| {
                    if *c == self.modules[s] {
                        *v += self.net.model.sites[s].module_capacity;
                    }
                });
                let id = self.net.model.sites[s].id.clone();
                self.policy_row(
                    "site_share",
                    id,
                    Some(m),
                    Sense::AtMost,
                    sigma,
                    0.0,
                    terms,
                    scale,
                );
            }
        }
    }

    /// capacity in a country <= cap * total capacity of the material, for every country.
    pub fn add_country_share(&mut self, cap: f64, by_country: &BTreeMap<String, f64>) {
        for (m, sites) in self.sites_by_material() {
            let scale = self.capacity_scale(&sites, m);
            let countries: BTreeSet<String> = sites
                .iter()
                .map(|s| self.net.model.sites[*s].country.clone())
                .collect();
            for c in countries {
                let sigma = by_country.get(&c).copied().unwrap_or(cap);
                let terms: Vec<(Col, f64)> = sites
                    .iter()
                    .map(|t| {
                        let (col, mc) = self.capacity_term(*t);
                        let inside = self.net.model.sites[*t].country == c;
                        (
                            col,
                            if inside {
                                (1.0 - sigma) * mc
                            } else {
                                -sigma * mc
                            },
                        )
                    })
                    .collect();
                self.policy_row(
                    "country_share",
                    c,
                    Some(m),
                    Sense::AtMost,
                    sigma,
                    0.0,
                    terms,
                    scale,
                );
            }
        }
    }

    /// capacity in trusted countries >= tau * demand, for every material with demand.
    pub fn add_trusted_share(&mut self, tau: f64) {
        for (m, sites) in self.sites_by_material() {
            let demand = self.net.material_demand(m);
            if demand <= 0.0 {
                continue;
            }
            let terms: Vec<(Col, f64)> = sites
                .iter()
                .filter(|s| self.net.is_trusted(&self.net.model.sites[**s].country))
                .map(|s| self.capacity_term(*s))
                .collect();
            self.policy_row(
                "trusted_share",
                "trusted".into(),
                Some(m),
                Sense::AtLeast,
                tau,
                tau * demand,
                terms,
                demand,
            );
        }
    }

    /// min <= number of open sites <= max.
    pub fn add_open_sites(&mut self, min: Option<u32>, max: Option<u32>) {
        let terms: Vec<(Col, f64)> = self.open.iter().map(|c| (*c, 1.0)).collect();
        if let Some(lo) = min {
            let lo = f64::from(lo);
            self.policy_row(
                "open_sites_min",
                "all".into(),
                None,
                Sense::AtLeast,
                lo,
                lo,
                terms.clone(),
                1.0,
            );
        }
        if let Some(hi) = max {
            let hi = f64::from(hi);
            self.policy_row(
                "open_sites_max",
                "all".into(),
                None,
                Sense::AtMost,
                hi,
                hi,
                terms,
                1.0,
            );
        }
    }

    /// Open sites of each material in at least `count` countries. A country counts through a
    /// continuous cover variable `z_c <= min(1, open sites in c)`, exact because the open
    /// variables are integer.
    pub fn add_min_countries(&mut self, count: u32) {
        let fam = self.mip.family("country_cover");
        for (m, sites) in self.sites_by_material() {
            let mut by_country: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for s in sites {
                by_country
                    .entry(self.net.model.sites[s].country.clone())
                    .or_default()
                    .push(s);
            }
            let mut cover_terms = Vec::new();
            for members in by_country.values() {
                let z = self.mip.add_col(0.0, 0.0, 1.0, false);
                let mut terms: Vec<(Col, f64)> =
                    members.iter().map(|s| (self.open[*s], -1.0)).collect();
                terms.push((z, 1.0));
                self.mip.add_row(fam, f64::NEG_INFINITY, 0.0, terms);
                cover_terms.push((z, 1.0));
            }
            let c = f64::from(count);
            self.policy_row(
                "min_countries",
                "countries".into(),
                Some(m),
                Sense::AtLeast,
                c,
                c,
                cover_terms,
                1.0,
            );
        }
    }

    /// No two open sites closer than `km`: `open_a + open_b <= 1` for every such pair.
    pub fn add_separation(&mut self, km: f64) {
        let n = self.net.model.sites.len();
        for a in 0..n {
            for b in (a + 1)..n {
                let Some(dist) = self.net.site_distance_km(a, b) else {
                    continue;
                };
                if dist < km {
                    let subject = format!(
                        "{}+{}",
                        self.net.model.sites[a].id, self.net.model.sites[b].id
                    );
                    let terms = vec![(self.open[a], 1.0), (self.open[b], 1.0)];
                    self.policy_row(
                        "min_separation_km",
                        subject,
                        None,
                        Sense::AtMost,
                        km,
                        1.0,
                        terms,
                        1.0,
                    );
                    if let Some(last) = self.policy_rows.last_mut() {
                        last.pair = Some((a, b));
                    }
                }
            }
        }
    }

    /// Investment (site opening, new modules, depot opening) <= budget.
    pub fn add_budget(&mut self, budget: f64) {
        let m = &self.net.model;
        let mut terms = Vec::new();
        let mut sunk = 0.0;
        for (i, s) in m.sites.iter().enumerate() {
            terms.push((self.open[i], s.open_cost));
            terms.push((self.modules[i], s.module_cost));
            sunk += s.module_cost * f64::from(s.existing_modules);
        }
        for (l, d) in m.depots.iter().enumerate() {
            terms.push((self.depot_open[l], d.open_cost));
        }
        for (i, s) in m.sites.iter().enumerate() {
            for (k, chosen, _) in &self.harden[i] {
                terms.push((*chosen, s.hardening[*k].cost));
            }
        }
        self.policy_row(
            "budget",
            "investment".into(),
            None,
            Sense::AtMost,
            budget,
            budget + sunk,
            terms,
            budget.max(1.0),
        );
    }

    /// Fixes the first stage to `plan` (bounds lb = ub), for evaluation. Every site and depot of
    /// the model must be named; unknown ids and impossible values are input errors.
    pub fn fix_plan(&mut self, plan: &Plan) -> Result<(), InputError> {
        let m = &self.net.model;
        let mut problems = Vec::new();
        let mut bad = |path: String, message: String| {
            problems.push(Problem {
                path,
                entity: None,
                message,
            })
        };
        for id in plan.sites.keys() {
            if !m.sites.iter().any(|s| &s.id == id) {
                bad(format!("plan.sites.{id}"), format!("unknown site `{id}`"));
            }
        }
        for id in plan.depots.keys() {
            if !m.depots.iter().any(|s| &s.id == id) {
                bad(format!("plan.depots.{id}"), format!("unknown depot `{id}`"));
            }
        }
        // A fixed column is a constant: it need not stay integer, so the problem becomes an LP.
        let fix = |mip: &mut SparseMip, c: Col, v: f64| {
            mip.col_lower[c.0] = v;
            mip.col_upper[c.0] = v;
            mip.col_integer[c.0] = false;
        };
        for (i, site) in m.sites.iter().enumerate() {
            let Some(d) = plan.sites.get(&site.id) else {
                bad(
                    format!("plan.sites.{}", site.id),
                    "missing: the plan must say whether every site is open".into(),
                );
                continue;
            };
            if d.modules < site.existing_modules
                || d.modules > site.max_modules
                || (!d.open && d.modules > 0)
            {
                bad(
                    format!("plan.sites.{}.modules", site.id),
                    format!(
                        "must be within [{}, {}] (0 when closed), got {}",
                        site.existing_modules, site.max_modules, d.modules
                    ),
                );
                continue;
            }
            fix(&mut self.mip, self.open[i], if d.open { 1.0 } else { 0.0 });
            fix(&mut self.mip, self.modules[i], f64::from(d.modules));
            if let Some(h) = &d.hardening {
                if !site.hardening.iter().any(|o| &o.id == h) {
                    bad(
                        format!("plan.sites.{}.hardening", site.id),
                        format!("unknown hardening option `{h}`"),
                    );
                }
            }
            for (k, chosen, y) in &self.harden[i] {
                let on = d.hardening.as_deref() == Some(site.hardening[*k].id.as_str());
                fix(&mut self.mip, *chosen, if on { 1.0 } else { 0.0 });
                fix(
                    &mut self.mip,
                    *y,
                    if on { f64::from(d.modules) } else { 0.0 },
                );
            }
        }
        for (l, depot) in m.depots.iter().enumerate() {
            let decision = plan.depots.get(&depot.id).cloned().unwrap_or_default();
            fix(
                &mut self.mip,
                self.depot_open[l],
                if decision.open { 1.0 } else { 0.0 },
            );
            for (mat, col) in &self.stock[l] {
                let id = &m.materials[*mat].id;
                let t = decision.stock.get(id).copied().unwrap_or(0.0);
                let lower = self.mip.col_lower[col.0];
                if !(t.is_finite() && t >= lower - 1e-9) {
                    bad(
                        format!("plan.depots.{}.stock.{id}", depot.id),
                        format!("must be at least the existing {lower} t, got {t}"),
                    );
                    continue;
                }
                fix(&mut self.mip, *col, t.max(lower));
            }
        }
        for ((s, d), z) in &self.assign {
            let on = plan.assignments.get(&m.demand[*d].id) == Some(&m.sites[*s].id);
            fix(&mut self.mip, *z, if on { 1.0 } else { 0.0 });
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(InputError { problems })
        }
    }

    /// The plan (first-stage decisions) in a solution vector.
    pub fn plan(&self, x: &[f64]) -> Plan {
        let m = &self.net.model;
        let first = self.first_stage(x);
        let mut plan = Plan::default();
        for (i, site) in m.sites.iter().enumerate() {
            let hardening = self.harden[i]
                .iter()
                .find(|(_, chosen, _)| x[chosen.0] > 0.5)
                .map(|(k, _, _)| site.hardening[*k].id.clone());
            plan.sites.insert(
                site.id.clone(),
                SiteDecision {
                    open: first.open[i],
                    modules: first.modules[i],
                    hardening,
                },
            );
        }
        for (l, depot) in m.depots.iter().enumerate() {
            let stock = self.stock[l]
                .iter()
                .map(|(mat, col)| (m.materials[*mat].id.clone(), clean(x[col.0])))
                .collect();
            plan.depots.insert(
                depot.id.clone(),
                DepotDecision {
                    open: first.depot_open[l],
                    stock,
                },
            );
        }
        for ((s, d), z) in &self.assign {
            if x[z.0] > 0.5 {
                plan.assignments
                    .insert(m.demand[*d].id.clone(), m.sites[*s].id.clone());
            }
        }
        plan
    }

    /// The first stage of `plan` as column values, for a MIP start: open, modules and hardening
    /// of every site, depots and their stock, single-source assignments. Sites and depots the plan
    /// does not name are left out (HiGHS completes them).
    pub fn start_values(&self, plan: &Plan) -> Vec<(usize, f64)> {
        let m = &self.net.model;
        let mut start = Vec::new();
        let on = |b: bool| if b { 1.0 } else { 0.0 };
        for (i, site) in m.sites.iter().enumerate() {
            let Some(d) = plan.sites.get(&site.id) else {
                continue;
            };
            start.push((self.open[i].0, on(d.open)));
            start.push((self.modules[i].0, f64::from(d.modules)));
            for (k, chosen, y) in &self.harden[i] {
                let picked = d.hardening.as_deref() == Some(site.hardening[*k].id.as_str());
                start.push((chosen.0, on(picked)));
                start.push((y.0, if picked { f64::from(d.modules) } else { 0.0 }));
            }
        }
        for (l, depot) in m.depots.iter().enumerate() {
            let Some(d) = plan.depots.get(&depot.id) else {
                continue;
            };
            start.push((self.depot_open[l].0, on(d.open)));
            for (mat, col) in &self.stock[l] {
                let t = d.stock.get(&m.materials[*mat].id).copied().unwrap_or(0.0);
                start.push((col.0, t));
            }
        }
        for ((s, d), z) in &self.assign {
            let picked = plan.assignments.get(&m.demand[*d].id) == Some(&m.sites[*s].id);
            start.push((z.0, on(picked)));
        }
        start
    }

    /// The risk columns, when the model sets a CVaR or worst-case measure: (eta or z, the tail
    /// excess column of each outcome scenario; empty for worst case).
    pub fn risk_cols(&self) -> Option<(Col, &[Col])> {
        self.risk_cols.as_ref().map(|(c, xs)| (*c, xs.as_slice()))
    }

    /// Columns of the first stage: every column before the first scenario's, in the same order in
    /// every build of the same network.
    pub fn first_stage_cols(&self) -> usize {
        self.first_stage_cols
    }

    /// Columns of one scenario's second stage (0 without scenarios); scenario `w`'s are
    /// `first_stage_cols() + w * second_stage_cols()` on.
    pub fn second_stage_cols(&self) -> usize {
        self.second_stage_cols
    }

    /// The network this problem was built from.
    pub fn network(&self) -> &'a Network {
        self.net
    }

    /// The modules column of site `s`.
    pub fn modules_col(&self, s: usize) -> Col {
        self.modules[s]
    }

    /// Hardening options of site `s`: (option index, chosen column, modules x chosen column).
    pub fn hardening_cols(&self, s: usize) -> &[(usize, Col, Col)] {
        &self.harden[s]
    }

    /// Cost of the fixed first stage: everything before the first scenario's columns.
    pub fn first_stage_cost(&self) -> f64 {
        let first = self
            .handles
            .first()
            .map_or(self.mip.num_cols(), |h| h.first_flow);
        self.mip.offset
            + (0..first)
                .map(|c| self.mip.col_cost[c] * self.mip.col_lower[c])
                .sum::<f64>()
    }

    /// Scenario-dependent handles of outcome scenario `w`.
    pub fn handles(&self, w: usize) -> &ScenarioHandles {
        &self.handles[w]
    }

    /// Second-stage cost of outcome scenario `w` in solution `x` (its operating cost plus
    /// penalties, not weighted by probability), and its shortfall by demand node.
    pub fn scenario_outcome(&self, w: usize, x: &[f64]) -> (f64, Vec<f64>) {
        let h = &self.handles[w];
        let mut cost = self.operating_cost(w, x);
        let mut short = Vec::with_capacity(h.shortfall.len());
        for (d, u) in h.shortfall.iter().enumerate() {
            let t = u.map_or(0.0, |c| clean(x[c.0]));
            let pen = self.net.demand_penalty[d].unwrap_or_else(|| self.hard_penalty());
            cost += pen * t;
            short.push(t);
        }
        (cost, short)
    }

    /// Reads the plan, its costs and the policy values back from a solver run.
    pub fn read(&self, run: &SolverRun, build_s: f64, settings: &Settings) -> SolveResult {
        let net = self.net;
        let m = &net.model;
        let mut result = SolveResult {
            status: run.status,
            has_solution: run.has_solution,
            objective: run.objective,
            best_bound: run.best_bound,
            mip_gap: run.mip_gap,
            runtime_s: run.runtime_s,
            build_s,
            model_size: run.size,
            rows_by_family: self.mip.rows_by_family(),
            solver_detail: run.detail.clone(),
            currency: m.currency.clone(),
            costs: None,
            sites: Vec::new(),
            depots: Vec::new(),
            assignments: BTreeMap::new(),
            scenarios: Vec::new(),
            flows: Vec::new(),
            shortfall: Vec::new(),
            policies: Vec::new(),
            diagnosis: None,
            plan: None,
            risk: None,
            survivability: None,
            settings: settings.clone(),
            method: Method::Extensive,
            decomposition: None,
        };
        if !run.has_solution {
            return result;
        }
        let x = &run.values;
        let val = |c: Col| x[c.0];
        let n_routes = self.routes();
        let n_demand = m.demand.len();
        let cases = &self.scenarios.cases;
        let shown = 0; // base first when present, else the first scenario

        let plan = self.first_stage(x);
        for (i, s) in m.sites.iter().enumerate() {
            let base_output = if cases.is_empty() {
                0.0
            } else {
                (0..n_routes)
                    .filter(|e| net.route_from[*e] == NodeRef::Site(i))
                    .map(|e| val(self.flow[shown * n_routes + e]))
                    .sum()
            };
            result.sites.push(SitePlan {
                id: s.id.clone(),
                name: s.name.clone(),
                country: s.country.clone(),
                output: s.output.clone(),
                open: plan.open[i],
                modules: plan.modules[i],
                new_modules: plan.modules[i].saturating_sub(s.existing_modules),
                capacity: plan.capacity[i],
                base_output: clean(base_output),
            });
        }
        let mut stockpile = 0.0;
        for (l, d) in m.depots.iter().enumerate() {
            let open = plan.depot_open[l];
            if open {
                stockpile += d.open_cost;
            }
            let mut stock = BTreeMap::new();
            for (mat, col) in &self.stock[l] {
                let t = clean(val(*col));
                stockpile += d.holding_cost * t;
                stock.insert(m.materials[*mat].id.clone(), t);
            }
            result.depots.push(DepotPlan {
                id: d.id.clone(),
                country: d.country.clone(),
                open,
                stock,
            });
        }
        for ((s, d), z) in &self.assign {
            if val(*z) > 0.5 {
                result
                    .assignments
                    .insert(m.demand[*d].id.clone(), m.sites[*s].id.clone());
            }
        }

        let total_demand: f64 = m.demand.iter().map(|d| d.demand).sum();
        let mut exp_operating = 0.0;
        let mut exp_penalty = 0.0;
        let mut expected_flow = vec![0.0; n_routes];
        for (w, case) in cases.iter().enumerate() {
            let operating = self.operating_cost(w, x);
            for (e, expected) in expected_flow.iter_mut().enumerate() {
                *expected += case.probability * val(self.flow[w * n_routes + e]);
            }
            let mut short = 0.0;
            let mut penalty = 0.0;
            for d in 0..n_demand {
                if let Some(u) = self.shortfall[w * n_demand + d] {
                    let t = clean(val(u));
                    if t > 0.0 {
                        short += t;
                        penalty += net.demand_penalty[d].unwrap_or(0.0) * t;
                        result.shortfall.push(ShortfallResult {
                            demand: m.demand[d].id.clone(),
                            priority: m.demand[d].priority,
                            scenario: case.id.clone(),
                            shortfall_t: t,
                        });
                    }
                }
            }
            exp_operating += case.probability * operating;
            exp_penalty += case.probability * penalty;
            result.scenarios.push(ScenarioOutcome {
                id: case.id.clone(),
                probability: case.probability,
                operating_cost: operating,
                shortfall_t: short,
                shortfall_share: if total_demand > 0.0 {
                    short / total_demand
                } else {
                    0.0
                },
                shortfall_penalty: penalty,
                disrupted: case.disrupted(net),
            });
        }
        if !cases.is_empty() {
            for (e, expected) in expected_flow.iter().enumerate() {
                let base = clean(val(self.flow[shown * n_routes + e]));
                let expected = clean(*expected);
                if base > 0.0 || expected > 0.0 {
                    result.flows.push(FlowResult {
                        route: net.route_key[e].clone(),
                        from: net.node_id(net.route_from[e]).to_string(),
                        to: net.node_id(net.route_to[e]).to_string(),
                        material: m.materials[net.route_material[e]].id.clone(),
                        base,
                        expected,
                    });
                }
            }
        }
        result.costs = Some(CostBreakdown {
            investment: plan.investment - self.depot_open_cost(&plan),
            stockpile,
            expected_operating: exp_operating,
            expected_shortfall_penalty: exp_penalty,
        });
        result.policies = self.policy_values(&plan.capacity, &plan.open, plan.investment);
        result.plan = Some(self.plan(x));
        if let Some(risk) = &m.risk {
            result.risk = Some(risk_report(risk, &result.scenarios));
        }
        result
    }

    fn depot_open_cost(&self, plan: &FirstStage) -> f64 {
        self.net
            .model
            .depots
            .iter()
            .zip(&plan.depot_open)
            .map(|(d, o)| if *o { d.open_cost } else { 0.0 })
            .sum()
    }

    /// Supply, processing, transport and release cost of outcome scenario `w` in solution `x`
    /// (not weighted by its probability).
    fn operating_cost(&self, w: usize, x: &[f64]) -> f64 {
        let first = self.handles[w].first_flow;
        (0..self.routes())
            .map(|e| self.unit_cost(e) * x[first + e])
            .sum()
    }

    /// Unit cost of one tonne on route e (route plus what its start node charges).
    fn unit_cost(&self, e: usize) -> f64 {
        let m = &self.net.model;
        let node = match self.net.route_from[e] {
            NodeRef::Supplier(s) => m.suppliers[s].unit_cost,
            NodeRef::Site(s) => m.sites[s].unit_cost,
            NodeRef::Depot(_) => m.materials[self.net.route_material[e]].unit_price,
            NodeRef::Demand(_) => 0.0,
        };
        self.net.route_def(e).unit_cost + node
    }

    /// The plan's value of one policy row in the domain's own unit (share, count, km, money).
    fn row_value(&self, row: &PolicyRow, capacity: &[f64], open: &[bool], investment: f64) -> f64 {
        let net = self.net;
        let m = &net.model;
        let capacity_where = |keep: &dyn Fn(&crate::model::Site) -> bool| -> f64 {
            m.sites
                .iter()
                .zip(capacity)
                .filter(|(s, _)| net.material(&s.output) == row.material && keep(s))
                .map(|(_, c)| *c)
                .sum()
        };
        let total = || capacity_where(&|_| true);
        match row.family {
            "site_share" => share(capacity_where(&|s| s.id == row.subject), total()),
            "country_share" => share(capacity_where(&|s| s.country == row.subject), total()),
            "trusted_share" => share(
                capacity_where(&|s| net.is_trusted(&s.country)),
                row.material.map_or(0.0, |k| net.material_demand(k)),
            ),
            "open_sites_min" | "open_sites_max" => open.iter().filter(|o| **o).count() as f64,
            "min_countries" => m
                .sites
                .iter()
                .zip(open)
                .filter(|(s, o)| **o && net.material(&s.output) == row.material)
                .map(|(s, _)| s.country.as_str())
                .collect::<BTreeSet<&str>>()
                .len() as f64,
            "min_separation_km" => row
                .pair
                .and_then(|(a, b)| net.site_distance_km(a, b))
                .unwrap_or(f64::NAN),
            "budget" => investment,
            _ => f64::NAN,
        }
    }

    /// Each policy constraint with its value and slack. Separation is summarised in one entry:
    /// the closest pair of open sites against the minimum distance.
    fn policy_values(&self, capacity: &[f64], open: &[bool], investment: f64) -> Vec<PolicyResult> {
        let net = self.net;
        let m = &net.model;
        let mut out = Vec::new();
        for row in &self.policy_rows {
            if row.family == "min_separation_km" {
                continue;
            }
            let value = self.row_value(row, capacity, open, investment);
            let slack = match row.sense {
                Sense::AtMost => row.limit - value,
                Sense::AtLeast => value - row.limit,
            };
            let binding = slack.abs() < 1e-6 * row.limit.abs().max(1.0);
            out.push(PolicyResult {
                family: row.family.to_string(),
                subject: row.subject.clone(),
                material: row.material.map(|k| m.materials[k].id.clone()),
                sense: sense_str(row.sense).into(),
                limit: row.limit,
                value,
                slack: if binding { 0.0 } else { slack },
                binding,
            });
        }
        if let Some(km) = m.policies.min_separation_km {
            let mut closest = f64::INFINITY;
            for a in 0..m.sites.len() {
                for b in (a + 1)..m.sites.len() {
                    if open[a] && open[b] {
                        if let Some(d) = net.site_distance_km(a, b) {
                            closest = closest.min(d);
                        }
                    }
                }
            }
            if closest.is_finite() {
                out.push(PolicyResult {
                    family: "min_separation_km".into(),
                    subject: "closest open pair".into(),
                    material: None,
                    sense: ">=".into(),
                    limit: km,
                    value: closest,
                    slack: closest - km,
                    binding: false,
                });
            }
        }
        out
    }

    /// After an elastic solve: the constraints whose violation column is positive.
    fn violations(&self, run: &SolverRun) -> Vec<Violation> {
        let m = &self.net.model;
        if !run.has_solution {
            return Vec::new();
        }
        let x = &run.values;
        let plan = self.first_stage(x);
        let mut out = Vec::new();
        for row in &self.policy_rows {
            let Some(v) = row.violation else { continue };
            if x[v.0] <= 1e-6 {
                continue;
            }
            let material = row.material.map(|k| m.materials[k].id.clone());
            let achieved = self.row_value(row, &plan.capacity, &plan.open, plan.investment);
            let on_material = material
                .as_deref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default();
            let (label, limit_txt, achieved_txt) = match row.family {
                "site_share" | "country_share" | "trusted_share" => (
                    format!(
                        "{} {}{on_material}",
                        row.family.replace('_', " "),
                        row.subject
                    ),
                    format!("{:.1}%", 100.0 * row.limit),
                    format!("{:.1}%", 100.0 * achieved),
                ),
                "min_separation_km" => (
                    format!("separation of {}", row.subject.replace('+', " and ")),
                    format!("{:.0} km", row.limit),
                    format!("{achieved:.0} km"),
                ),
                _ => (
                    format!(
                        "{} {}{on_material}",
                        row.family.replace('_', " "),
                        row.subject
                    ),
                    format!("{}", row.limit),
                    format!("{achieved}"),
                ),
            };
            out.push(Violation {
                family: row.family.to_string(),
                subject: row.subject.clone(),
                material,
                limit: row.limit,
                least_achievable: achieved,
                message: format!(
                    "{label} {} {limit_txt} cannot hold; {achieved_txt} is the least achievable",
                    sense_str(row.sense)
                ),
            });
        }
        for h in &self.hard_demand {
            let short = x[h.violation.0];
            if short > 1e-6 {
                let d = &m.demand[h.demand];
                let scen = &self.scenarios.cases[h.scenario].id;
                out.push(Violation {
                    family: "demand".into(),
                    subject: d.id.clone(),
                    material: Some(d.material.clone()),
                    limit: d.demand,
                    least_achievable: d.demand - short,
                    message: format!(
                        "demand {} of {} t/yr (no shortfall allowed) cannot be met in scenario {scen}; at most {} t/yr can be delivered",
                        d.id,
                        d.demand,
                        d.demand - short
                    ),
                });
            }
        }
        out
    }

    /// First-stage decisions read from a solution vector.
    fn first_stage(&self, x: &[f64]) -> FirstStage {
        let m = &self.net.model;
        let modules: Vec<u32> = self
            .modules
            .iter()
            .map(|c| x[c.0].round().max(0.0) as u32)
            .collect();
        let open: Vec<bool> = self.open.iter().map(|c| x[c.0] > 0.5).collect();
        let capacity = m
            .sites
            .iter()
            .zip(&modules)
            .map(|(s, k)| s.module_capacity * f64::from(*k))
            .collect();
        let depot_open: Vec<bool> = self.depot_open.iter().map(|c| x[c.0] > 0.5).collect();
        let hardening: f64 = m
            .sites
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                self.harden[i]
                    .iter()
                    .filter(|(_, chosen, _)| x[chosen.0] > 0.5)
                    .map(move |(k, _, _)| s.hardening[*k].cost)
            })
            .sum();
        let investment = m
            .sites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (if open[i] { s.open_cost } else { 0.0 })
                    + s.module_cost * f64::from(modules[i].saturating_sub(s.existing_modules))
            })
            .sum::<f64>()
            + hardening
            + m.depots
                .iter()
                .zip(&depot_open)
                .map(|(d, o)| if *o { d.open_cost } else { 0.0 })
                .sum::<f64>();
        FirstStage {
            modules,
            open,
            capacity,
            depot_open,
            investment,
        }
    }
}

/// First-stage decisions of a solution.
#[derive(Debug, Clone)]
struct FirstStage {
    modules: Vec<u32>,
    open: Vec<bool>,
    capacity: Vec<f64>,
    depot_open: Vec<bool>,
    /// Site opening, new modules and depot opening, currency/yr.
    investment: f64,
}

fn sense_str(s: Sense) -> &'static str {
    match s {
        Sense::AtMost => "<=",
        Sense::AtLeast => ">=",
    }
}

/// The risk measure of the plan, computed from the scenario outcomes (not read from the MIP's
/// auxiliary variables).
fn risk_report(risk: &Risk, scenarios: &[ScenarioOutcome]) -> RiskReport {
    let outcomes: Vec<(f64, f64)> = scenarios
        .iter()
        .map(|s| {
            let loss = match risk.on {
                RiskOn::Cost => s.operating_cost + s.shortfall_penalty,
                RiskOn::Shortfall => s.shortfall_t,
            };
            (s.probability, loss)
        })
        .collect();
    let value = match risk.measure {
        RiskMeasure::Expectation => outcomes.iter().map(|(p, l)| p * l).sum(),
        RiskMeasure::Cvar => cvar(&outcomes, risk.beta),
        RiskMeasure::WorstCase => outcomes
            .iter()
            .map(|(_, l)| *l)
            .fold(f64::NEG_INFINITY, f64::max),
    };
    RiskReport {
        measure: risk.measure,
        on: risk.on,
        beta: risk.beta,
        value,
    }
}

/// CVaR_beta of a discrete distribution `(probability, loss)`: the probability-weighted mean of
/// the worst (1 - beta) tail, splitting the scenario at the quantile.
pub fn cvar(outcomes: &[(f64, f64)], beta: f64) -> f64 {
    let mut sorted: Vec<(f64, f64)> = outcomes.to_vec();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
    let tail = 1.0 - beta;
    if tail <= 0.0 {
        return sorted.first().map_or(0.0, |x| x.1);
    }
    let mut left = tail;
    let mut acc = 0.0;
    for (p, loss) in sorted {
        let take = p.min(left);
        acc += take * loss;
        left -= take;
        if left <= 1e-15 {
            break;
        }
    }
    acc / tail
}

fn share(part: f64, total: f64) -> f64 {
    if total > 0.0 {
        part / total
    } else {
        0.0
    }
}

/// Rounds solver noise to zero.
fn clean(x: f64) -> f64 {
    if x.abs() < 1e-9 {
        0.0
    } else {
        x
    }
}

/// How far protected demand falls short in contingency `case` under a fixed plan, beyond what
/// survivability allows (t/yr; <= 0 when the contingency is survived). An LP whose only cost is
/// the protected shortfall.
pub fn protected_shortfall_excess(
    net: &Network,
    plan: &Plan,
    case: &ScenarioCase,
    fraction: f64,
    priority: u32,
) -> Result<f64, StockadeError> {
    with_fixed_plan(net, plan, case, |problem| {
        protected_excess(net, problem, fraction, priority)
    })
}

/// Builds `case` alone (probability 1) as an LP with the first stage fixed to `plan`, and hands
/// it to `f`: the one way every fixed-plan check and cold evaluation is set up.
pub fn with_fixed_plan<R>(
    net: &Network,
    plan: &Plan,
    case: &ScenarioCase,
    f: impl FnOnce(&mut SitingProblem<'_>) -> Result<R, StockadeError>,
) -> Result<R, StockadeError> {
    let set = ScenarioSet::alone(case);
    let options = BuildOptions {
        evaluation: true,
        ..BuildOptions::default()
    };
    let mut problem = SitingProblem::build(net, &set, &options);
    problem.fix_plan(plan)?;
    f(&mut problem)
}

/// Protected shortfall beyond the allowance, in a fixed-plan problem: the only cost is the
/// protected shortfall.
fn protected_excess(
    net: &Network,
    problem: &mut SitingProblem<'_>,
    fraction: f64,
    priority: u32,
) -> Result<f64, StockadeError> {
    let m = &net.model;
    problem.mip.col_cost.iter_mut().for_each(|c| *c = 0.0);
    problem.mip.offset = 0.0;
    let mut total = 0.0;
    for (d, u) in problem.handles(0).shortfall.clone().iter().enumerate() {
        if m.demand[d].priority <= priority {
            total += m.demand[d].demand;
            if let Some(u) = u {
                problem.mip.col_cost[u.0] = 1.0;
            }
        }
    }
    let run = solve_mip(&problem.mip, &Settings::default(), &SolveControl::default())?;
    let short = run.objective.unwrap_or(f64::INFINITY);
    let allowed = (1.0 - fraction) * total;
    let excess = short - allowed;
    Ok(if excess > 1e-6 * total.max(1.0) {
        excess
    } else {
        0.0
    })
}

/// The elastic re-solve: every policy constraint and hard demand gets a penalised violation; the
/// positive violations at the optimum are the constraints that cannot all hold.
pub fn diagnose(
    net: &Network,
    scenarios: &ScenarioSet,
    contingencies: &[ScenarioCase],
    settings: &Settings,
    control: &SolveControl,
) -> Result<Diagnosis, StockadeError> {
    let options = BuildOptions {
        elastic: true,
        contingencies,
        ..BuildOptions::default()
    };
    let problem = SitingProblem::build(net, scenarios, &options);
    let run = solve_mip(&problem.mip, settings, control)?;
    Ok(Diagnosis {
        violations: problem.violations(&run),
    })
}

/// Size and build time of the siting MIP, without solving it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildReport {
    /// Seconds to build the scenario set and the MIP.
    pub build_s: f64,
    /// Model size as HiGHS would see it.
    pub model_size: crate::solver::mip::ModelSize,
    /// Rows per constraint family.
    pub rows_by_family: BTreeMap<String, usize>,
    /// Scenarios in the formulation.
    pub scenarios: usize,
}

/// Builds the siting MIP of `net`, hands it to HiGHS (without solving) and reports its size and
/// the time to that point.
pub fn build_report(net: &Network) -> Result<BuildReport, StockadeError> {
    let started = Instant::now();
    let scenarios = ScenarioSet::explicit(net);
    let problem = SitingProblem::build(net, &scenarios, &BuildOptions::default());
    crate::solver::highs::load_only(&problem.mip)?;
    let build_s = started.elapsed().as_secs_f64();
    Ok(BuildReport {
        build_s,
        model_size: problem.mip.size(),
        rows_by_family: problem.mip.rows_by_family(),
        scenarios: scenarios.cases.len(),
    })
}
