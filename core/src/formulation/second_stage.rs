//! Second stage, one block per scenario: flows over the routes, shortfall, hardening against
//! the scenario's losses, cooperative sharing between parties and fairness between them.

use super::*;

impl<'a> SitingProblem<'a> {
    /// Second stage of scenario `w`: flows, shortfall, and the balance of every node.
    /// Second stage of one scenario. A contingency has no cost and gives every demand node a
    /// shortfall column (the survivability row bounds the protected part).
    pub(super) fn add_scenario(
        &mut self,
        case: &ScenarioCase,
        contingency: bool,
    ) -> ScenarioHandles {
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
    pub(super) fn add_sharing(&mut self, case: &ScenarioCase, first_flow: usize) {
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
    pub(super) fn add_fairness(&mut self, bound: Option<f64>, min_max: bool) {
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
    pub(super) fn hard_penalty(&self) -> f64 {
        evaluation_hard_penalty(self.net)
    }
}
