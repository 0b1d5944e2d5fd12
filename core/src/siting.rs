//! The capacity-dispersion MIP (DESIGN §4.1): a two-stage stochastic program whose first stage
//! opens sites, sizes them in modules, opens depots and stocks them; whose second stage moves
//! material in every scenario, meeting demand or paying for the shortfall.
//!
//! [`SitingProblem`] owns its variables, indexed by the network's own indices, with one `add_*`
//! function per constraint family. Results are read back through those handles.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::mip::{Col, Row, SparseMip};
use crate::network::{Network, NodeRef};
use crate::result::{
    CostBreakdown, DepotPlan, Diagnosis, FlowResult, PolicyResult, ScenarioOutcome,
    ShortfallResult, SitePlan, SolveResult, Violation,
};
use crate::scenario::ScenarioSet;
use crate::solver::{solve_mip, Settings, SolveControl, SolverRun, Status};
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
}

impl<'a> SitingProblem<'a> {
    /// Builds the whole formulation: first stage, every scenario, every policy in the model.
    pub fn build(net: &'a Network, scenarios: &'a ScenarioSet, elastic: bool) -> Self {
        let mut p = SitingProblem {
            net,
            scenarios,
            mip: SparseMip::new(),
            elastic,
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
        for w in 0..scenarios.cases.len() {
            p.add_scenario(w);
        }
        let pol = &net.model.policies;
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
    fn add_scenario(&mut self, w: usize) {
        let net = self.net;
        let m = &net.model;
        let case = &self.scenarios.cases[w];
        let p = case.probability;
        let n_routes = self.routes();

        // Flow columns, with the unit cost of the route and of what its start node does. They
        // are added contiguously, so route e of this scenario is column first_col + e.
        let first_col = self.mip.num_cols();
        for e in 0..n_routes {
            let r = net.route_def(e);
            let upper = r.capacity.map_or(f64::INFINITY, |c| c * case.route[e]);
            let upper = if case.route[e] <= 0.0 { 0.0 } else { upper };
            let col = self.mip.add_col(p * self.unit_cost(e), 0.0, upper, false);
            self.flow.push(col);
        }
        let flow_col = |e: usize| Col(first_col + e);

        let fam_sup = self.mip.family("supplier_capacity");
        for (i, s) in m.suppliers.iter().enumerate() {
            let routes = net.routes_out(NodeRef::Supplier(i));
            if !routes.is_empty() {
                let terms: Vec<_> = routes.iter().map(|e| (flow_col(*e), 1.0)).collect();
                self.mip.add_row(
                    fam_sup,
                    f64::NEG_INFINITY,
                    s.capacity * case.supplier[i],
                    terms,
                );
            }
        }

        let fam_cap = self.mip.family("site_capacity");
        let fam_yield = self.mip.family("site_balance");
        for (i, s) in m.sites.iter().enumerate() {
            let outs = net.routes_out(NodeRef::Site(i));
            // Output <= module_capacity * modules * availability.
            let mut terms: Vec<_> = outs.iter().map(|e| (flow_col(*e), 1.0)).collect();
            terms.push((self.modules[i], -s.module_capacity * case.site[i]));
            self.mip.add_row(fam_cap, f64::NEG_INFINITY, 0.0, terms);
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
                self.mip.add_row(fam_rel, f64::NEG_INFINITY, 0.0, terms);
            }
        }

        let fam_dem = self.mip.family("demand_balance");
        let fam_link = self.mip.family("site_demand_link");
        for (d, dn) in m.demand.iter().enumerate() {
            let ins = net.routes_in(NodeRef::Demand(d));
            let mut terms: Vec<_> = ins.iter().map(|e| (flow_col(*e), 1.0)).collect();
            let u = match net.demand_penalty[d] {
                Some(pen) => Some(self.mip.add_col(p * pen, 0.0, dn.demand, false)),
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
                None => None,
            };
            if let Some(u) = u {
                terms.push((u, 1.0));
            }
            self.shortfall.push(u);
            self.mip.add_row(fam_dem, dn.demand, dn.demand, terms);
            // A site delivers nothing unless it is open (or assigned): the strong linking
            // inequality that makes facility-location relaxations tight.
            for &e in ins {
                if let NodeRef::Site(s) = net.route_from[e] {
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
        for (i, s) in self.net.model.sites.iter().enumerate() {
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
            rows_by_family: self
                .mip
                .rows_by_family()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
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
            settings: settings.clone(),
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
            let mut operating = 0.0;
            for (e, expected) in expected_flow.iter_mut().enumerate() {
                let col = self.flow[w * n_routes + e];
                let f = val(col);
                if case.probability > 0.0 {
                    operating += self.mip.col_cost[col.0] / case.probability * f;
                } else {
                    operating += self.unit_cost(e) * f;
                }
                *expected += case.probability * f;
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
            if self.elastic {
                operating = (0..n_routes)
                    .map(|e| self.unit_cost(e) * val(self.flow[w * n_routes + e]))
                    .sum();
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
        let investment = m
            .sites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (if open[i] { s.open_cost } else { 0.0 })
                    + s.module_cost * f64::from(modules[i].saturating_sub(s.existing_modules))
            })
            .sum::<f64>()
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

/// Solves the siting model of a validated network over its explicit scenarios. When the model is
/// infeasible, an elastic re-solve names the constraints that cannot all hold.
pub fn solve_siting(
    net: &Network,
    settings: &Settings,
    control: &SolveControl,
) -> Result<SolveResult, StockadeError> {
    let scenarios = ScenarioSet::explicit(net);
    let started = Instant::now();
    let problem = SitingProblem::build(net, &scenarios, false);
    let build_s = started.elapsed().as_secs_f64();
    let run = solve_mip(&problem.mip, settings, control)?;
    let mut result = problem.read(&run, build_s, settings);
    if run.status == Status::Infeasible {
        result.diagnosis = Some(diagnose(net, &scenarios, settings, control)?);
    }
    Ok(result)
}

/// The elastic re-solve: every policy constraint and hard demand gets a penalised violation; the
/// positive violations at the optimum are the constraints that cannot all hold.
pub fn diagnose(
    net: &Network,
    scenarios: &ScenarioSet,
    settings: &Settings,
    control: &SolveControl,
) -> Result<Diagnosis, StockadeError> {
    let problem = SitingProblem::build(net, scenarios, true);
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
    pub model_size: crate::mip::ModelSize,
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
    let problem = SitingProblem::build(net, &scenarios, false);
    crate::highs::load_only(&problem.mip)?;
    let build_s = started.elapsed().as_secs_f64();
    Ok(BuildReport {
        build_s,
        model_size: problem.mip.size(),
        rows_by_family: problem
            .mip
            .rows_by_family()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        scenarios: scenarios.cases.len(),
    })
}
