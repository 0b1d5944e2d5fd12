//! Reading a solve back: plan, costs, flows, shortfalls, policy values and KPIs (a `SolveResult`).

use super::first_stage::FirstStage;
use super::risk::risk_report;
use super::*;

impl<'a> SitingProblem<'a> {
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

    pub(super) fn depot_open_cost(&self, plan: &FirstStage) -> f64 {
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
    pub(super) fn operating_cost(&self, w: usize, x: &[f64]) -> f64 {
        let first = self.handles[w].first_flow;
        (0..self.routes())
            .map(|e| self.unit_cost(e) * x[first + e])
            .sum()
    }

    /// Unit cost of one tonne on route e (route plus what its start node charges).
    pub(super) fn unit_cost(&self, e: usize) -> f64 {
        let m = &self.net.model;
        let node = match self.net.route_from[e] {
            NodeRef::Supplier(s) => m.suppliers[s].unit_cost,
            NodeRef::Site(s) => m.sites[s].unit_cost,
            NodeRef::Depot(_) => m.materials[self.net.route_material[e]].unit_price,
            NodeRef::Demand(_) => 0.0,
        };
        self.net.route_def(e).unit_cost + node
    }
}
