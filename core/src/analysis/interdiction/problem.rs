//! The interdiction MIP: the attacker's choice of k elements against a fixed plan's second stage,
//! as a bilevel program made single-level through the second stage's LP dual.

use super::*;

/// One capacity row of the inner LP.
#[derive(Debug, Clone)]
pub(super) struct CapacityRow {
    /// Element whose loss zeroes the row, when it is a candidate.
    pub(super) element: Option<Element>,
    /// Capacity left when nothing is lost, t/yr (or t of stock).
    pub(super) capacity: f64,
    /// Routes whose flow the row bounds.
    pub(super) routes: Vec<usize>,
    /// Bound on the row's dual: the largest penalty of any demand its routes lead to.
    pub(super) dual_bound: f64,
}

/// The fixed plan's second stage as the interdiction sees it.
#[derive(Debug, Clone)]
pub(super) struct SecondStage {
    pub(super) rows: Vec<CapacityRow>,
    /// Routes that can carry flow (single-source assignments shut the others).
    pub(super) usable: Vec<bool>,
    /// Cost of one tonne on each route: the route's own plus what its start node charges.
    pub(super) unit_cost: Vec<f64>,
    /// Shortfall penalty of each demand node (hard demand at the evaluation's hard penalty).
    pub(super) penalty: Vec<f64>,
}

impl SecondStage {
    pub(super) fn new(
        net: &Network,
        plan: &Plan,
        candidates: &[Element],
        duration: f64,
    ) -> SecondStage {
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
pub(super) fn downstream_penalty(net: &Network, usable: &[bool], penalty: &[f64]) -> Vec<f64> {
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
    pub(super) lose: Vec<(Element, Col)>,
    /// Largest bound on a capacity dual (currency per t): the largest shortfall penalty.
    pub dual_bound: f64,
    /// Share of the year a lost element is out (its capacity keeps 1 - duration).
    pub(super) duration: f64,
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
    pub(super) fn add_demand_duals(&mut self, net: &Network, stage: &SecondStage) -> Vec<Col> {
        net.model
            .demand
            .iter()
            .zip(&stage.penalty)
            .map(|(d, pen)| self.mip.add_col(-d.demand, f64::NEG_INFINITY, *pen, false))
            .collect()
    }

    /// beta_s, free, for every site with an input (its yield balance row).
    pub(super) fn add_balance_duals(&mut self, net: &Network) -> Vec<Option<Col>> {
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
    pub(super) fn add_capacity_duals(
        &mut self,
        stage: &SecondStage,
    ) -> (Vec<Col>, Vec<Option<Col>>) {
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
    pub(super) fn add_loss_choice(&mut self, candidates: &[Element], k: u32) {
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
    pub(super) fn add_flow_dual_rows(
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
    pub(super) fn add_linearisation(
        &mut self,
        stage: &SecondStage,
        pi: &[Col],
        psi: &[Option<Col>],
    ) {
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
