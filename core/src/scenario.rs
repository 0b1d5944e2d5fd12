//! Scenarios as the formulation sees them (DESIGN §3): a probability and the annual availability
//! of every supplier, site, depot and route.

use crate::network::{Network, NodeRef};

/// One scenario with every availability resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioCase {
    /// Scenario id (`base` for the no-disruption scenario).
    pub id: String,
    /// Probability.
    pub probability: f64,
    /// Availability of each supplier, 0..1.
    pub supplier: Vec<f64>,
    /// Availability of each site, 0..1.
    pub site: Vec<f64>,
    /// Availability of each depot, 0..1.
    pub depot: Vec<f64>,
    /// Availability of each route, 0..1.
    pub route: Vec<f64>,
}

impl ScenarioCase {
    /// Ids of everything this scenario disrupts, with the availability left.
    pub fn disrupted(&self, net: &Network) -> Vec<(String, f64)> {
        let m = &net.model;
        let below_one = |avail: &[f64]| -> Vec<usize> {
            (0..avail.len()).filter(|i| avail[*i] < 1.0).collect()
        };
        let mut out = Vec::new();
        for i in below_one(&self.supplier) {
            out.push((m.suppliers[i].id.clone(), self.supplier[i]));
        }
        for i in below_one(&self.site) {
            out.push((m.sites[i].id.clone(), self.site[i]));
        }
        for i in below_one(&self.depot) {
            out.push((m.depots[i].id.clone(), self.depot[i]));
        }
        for i in below_one(&self.route) {
            out.push((net.route_key[i].clone(), self.route[i]));
        }
        out
    }
}

/// The scenarios a formulation is built over; probabilities sum to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioSet {
    /// The scenarios, base first when it has positive probability.
    pub cases: Vec<ScenarioCase>,
}

impl ScenarioSet {
    /// The base scenario plus the model's explicit scenarios. The base takes the probability the
    /// listed scenarios leave; when that is 0 (they sum to 1) it is left out of the formulation,
    /// since it would carry no weight.
    pub fn explicit(net: &Network) -> ScenarioSet {
        let m = &net.model;
        let listed: f64 = m.scenarios.iter().map(|s| s.probability).sum();
        let mut cases = Vec::with_capacity(m.scenarios.len() + 1);
        let base_p = (1.0 - listed).max(0.0);
        if base_p > 1e-12 {
            cases.push(Self::intact(net, "base", base_p));
        }
        for s in &m.scenarios {
            let mut case = Self::intact(net, &s.id, s.probability);
            for (target, a) in &s.availability {
                match net.node(target) {
                    Some(NodeRef::Supplier(i)) => case.supplier[i] = case.supplier[i].min(*a),
                    Some(NodeRef::Site(i)) => case.site[i] = case.site[i].min(*a),
                    Some(NodeRef::Depot(i)) => case.depot[i] = case.depot[i].min(*a),
                    Some(NodeRef::Demand(_)) => {}
                    None => {
                        if let Some(e) = net.route(target) {
                            case.route[e] = case.route[e].min(*a);
                        }
                    }
                }
            }
            let cuts_routes = !s.closed_chokepoints.is_empty() || !s.embargoes.is_empty();
            for e in (0..net.route_key.len()).filter(|_| cuts_routes) {
                let closed = net
                    .route_def(e)
                    .chokepoints
                    .iter()
                    .any(|c| s.closed_chokepoints.contains(c));
                let from_country = net.node_country(net.route_from[e]);
                let to_country = net.node_country(net.route_to[e]);
                let embargoed =
                    from_country != to_country && s.embargoes.iter().any(|c| c == from_country);
                if closed || embargoed {
                    case.route[e] = 0.0;
                }
            }
            cases.push(case);
        }
        // Normalise away rounding so the probabilities sum to exactly 1.
        let total: f64 = cases.iter().map(|c| c.probability).sum();
        if total > 0.0 {
            for c in &mut cases {
                c.probability /= total;
            }
        }
        ScenarioSet { cases }
    }

    fn intact(net: &Network, id: &str, probability: f64) -> ScenarioCase {
        let m = &net.model;
        ScenarioCase {
            id: id.to_string(),
            probability,
            supplier: vec![1.0; m.suppliers.len()],
            site: vec![1.0; m.sites.len()],
            depot: vec![1.0; m.depots.len()],
            route: vec![1.0; net.route_key.len()],
        }
    }
}
