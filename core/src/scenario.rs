//! Scenarios as the formulation sees them (DESIGN §3): a probability and the annual availability
//! of every supplier, site, depot and route. Three sources: the model's explicit list (with the
//! base scenario), Monte Carlo sampling from the hazards (seeded ChaCha, so the same seed gives
//! the same scenarios on every platform), and N-k enumeration of contingencies.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::InputError;
use crate::model::{HazardScope, Model};
use crate::network::{Network, NodeRef};

/// One scenario with every availability resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioCase {
    /// Scenario id (`base` for the no-disruption scenario).
    pub id: String,
    /// Probability (0 for a contingency, which is a constraint rather than an outcome).
    pub probability: f64,
    /// Availability of each supplier, 0..1.
    pub supplier: Vec<f64>,
    /// Availability of each site, 0..1.
    pub site: Vec<f64>,
    /// Availability of each depot, 0..1.
    pub depot: Vec<f64>,
    /// Availability of each route, 0..1.
    pub route: Vec<f64>,
    /// (site, hazard index) pairs: which hazards took availability from which site, so that
    /// hardening against them can restore it.
    pub site_hits: Vec<(usize, usize)>,
    /// Hazard indices that happened in this scenario.
    pub hazards: Vec<usize>,
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

    /// Whether hazard `h` took availability from site `s` in this scenario.
    pub fn site_hit_by(&self, s: usize, h: usize) -> bool {
        self.site_hits.contains(&(s, h))
    }

    fn lower_node(&mut self, n: NodeRef, a: f64) {
        match n {
            NodeRef::Supplier(i) => self.supplier[i] = self.supplier[i].min(a),
            NodeRef::Site(i) => self.site[i] = self.site[i].min(a),
            NodeRef::Depot(i) => self.depot[i] = self.depot[i].min(a),
            NodeRef::Demand(_) => {}
        }
    }

    /// Every route through the chokepoint keeps at most availability `a`.
    fn cut_chokepoint(&mut self, net: &Network, name: &str, a: f64) {
        for e in 0..net.route_key.len() {
            if net.route_def(e).chokepoints.iter().any(|c| c == name) {
                self.route[e] = self.route[e].min(a);
            }
        }
    }

    /// Every route from `country` to another country keeps at most availability `a`.
    fn cut_exports(&mut self, net: &Network, country: &str, a: f64) {
        for e in 0..net.route_key.len() {
            let from = net.node_country(net.route_from[e]);
            if from == country && net.node_country(net.route_to[e]) != country {
                self.route[e] = self.route[e].min(a);
            }
        }
    }

    /// Applies hazard `h` (happening) to everything in its scope.
    fn apply_hazard(&mut self, net: &Network, h: usize) {
        let m = &net.model;
        let hz = &m.hazards[h];
        let a = hz.annual_availability();
        self.hazards.push(h);
        let mut hit_nodes: Vec<NodeRef> = Vec::new();
        match &hz.scope {
            HazardScope::Node { id } => match net.node(id) {
                Some(n) => hit_nodes.push(n),
                None => {
                    if let Some(e) = net.route(id) {
                        self.route[e] = self.route[e].min(a);
                    }
                }
            },
            HazardScope::Region { region, country } => hit_nodes
                .extend(nodes_where(net, |r, c| {
                    r == region && country.as_deref().is_none_or(|k| k == c)
                })),
            HazardScope::Country { country } => {
                hit_nodes.extend(nodes_where(net, |_, c| c == country))
            }
            HazardScope::Chokepoint { name } => self.cut_chokepoint(net, name, a),
            HazardScope::Embargo { country } => self.cut_exports(net, country, a),
        }
        for n in hit_nodes {
            self.lower_node(n, a);
            if let NodeRef::Site(s) = n {
                if a < 1.0 {
                    self.site_hits.push((s, h));
                }
            }
        }
    }
}

/// The scenarios a formulation is built over; probabilities sum to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioSet {
    /// The scenarios, base first when it has positive probability.
    pub cases: Vec<ScenarioCase>,
}

/// What can be lost in an N-k contingency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    /// A supplier.
    Supplier(usize),
    /// A site.
    Site(usize),
    /// A depot.
    Depot(usize),
    /// A route.
    Route(usize),
}

/// Which scenarios an analysis runs over: the model's explicit ones, or a sample from its hazards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ScenarioChoice {
    /// The base scenario and the model's explicit scenarios ([`ScenarioSet::explicit`]).
    #[default]
    Explicit,
    /// `count` scenarios sampled from the hazards with `seed` ([`ScenarioSet::sampled`]).
    Sampled {
        /// Scenarios to sample.
        count: usize,
        /// Seed of the sample.
        seed: u64,
    },
}

impl ScenarioChoice {
    /// A sample of `count` when given, the explicit scenarios otherwise.
    pub fn sampled_or_explicit(count: Option<usize>, seed: u64) -> ScenarioChoice {
        match count {
            Some(count) => ScenarioChoice::Sampled { count, seed },
            None => ScenarioChoice::Explicit,
        }
    }

    /// The one check of a sample against the model: sampling needs hazards. `path` names the
    /// field at fault the way the caller's interface does (`hazards` of the model, or a REST
    /// request's `scenarios`).
    pub fn check(self, model: &Model, path: &str) -> Result<(), InputError> {
        match self {
            ScenarioChoice::Sampled { count, .. } if model.hazards.is_empty() => {
                Err(InputError::single(
                    path,
                    format!(
                        "sampling {count} scenarios needs the model's hazards, and it has none"
                    ),
                ))
            }
            _ => Ok(()),
        }
    }
}

impl ScenarioSet {
    /// `case` alone, at probability 1: how one scenario's second stage is built by itself.
    pub fn alone(case: &ScenarioCase) -> ScenarioSet {
        let mut single = case.clone();
        single.probability = 1.0;
        ScenarioSet {
            cases: vec![single],
        }
    }

    /// The base scenario plus the model's explicit scenarios. The base takes the probability the
    /// listed scenarios leave; when that is 0 (they sum to 1) it is left out of the formulation,
    /// since it would carry no weight.
    pub fn explicit(net: &Network) -> ScenarioSet {
        let m = &net.model;
        let listed: f64 = m.scenarios.iter().map(|s| s.probability).sum();
        let mut cases = Vec::with_capacity(m.scenarios.len() + 1);
        let base_p = (1.0 - listed).max(0.0);
        if base_p > 1e-12 {
            cases.push(intact(net, "base", base_p));
        }
        for s in &m.scenarios {
            let mut case = intact(net, &s.id, s.probability);
            for (target, a) in &s.availability {
                match net.node(target) {
                    Some(n) => case.lower_node(n, *a),
                    None => {
                        if let Some(e) = net.route(target) {
                            case.route[e] = case.route[e].min(*a);
                        }
                    }
                }
            }
            for name in &s.closed_chokepoints {
                case.cut_chokepoint(net, name, 0.0);
            }
            for country in &s.embargoes {
                case.cut_exports(net, country, 0.0);
            }
            // The scenario stands for its named hazards: every site it weakens is theirs.
            let hazards: Vec<usize> = s
                .hazards
                .iter()
                .filter_map(|h| m.hazards.iter().position(|x| &x.id == h))
                .collect();
            for site in 0..m.sites.len() {
                if case.site[site] < 1.0 {
                    case.site_hits.extend(hazards.iter().map(|h| (site, *h)));
                }
            }
            case.hazards = hazards;
            cases.push(case);
        }
        normalise(&mut cases);
        ScenarioSet { cases }
    }

    /// The scenarios `choice` names, after [`ScenarioChoice::check`].
    pub fn chosen(net: &Network, choice: ScenarioChoice) -> ScenarioSet {
        match choice {
            ScenarioChoice::Explicit => ScenarioSet::explicit(net),
            ScenarioChoice::Sampled { count, seed } => ScenarioSet::sampled(net, count, seed),
        }
    }

    /// `count` equally likely scenarios sampled from the hazards: in each, every hazard happens
    /// independently with its annual probability and hits everything in its scope at once.
    /// The same seed gives the same scenarios on every platform (ChaCha8).
    pub fn sampled(net: &Network, count: usize, seed: u64) -> ScenarioSet {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let p = 1.0 / count.max(1) as f64;
        let cases = (0..count)
            .map(|w| {
                let mut case = intact(net, &format!("mc{}", w + 1), p);
                for h in 0..net.model.hazards.len() {
                    let draw: f64 = rng.gen();
                    if draw < net.model.hazards[h].probability {
                        case.apply_hazard(net, h);
                    }
                }
                case
            })
            .collect();
        ScenarioSet { cases }
    }

    /// Every loss of 1..=k elements of the given kinds, as zero-probability contingencies.
    pub fn contingencies(net: &Network, k: u32, targets: &[String]) -> Vec<ScenarioCase> {
        let m = &net.model;
        let mut elements = Vec::new();
        for t in targets {
            match t.as_str() {
                "sites" => elements.extend((0..m.sites.len()).map(Element::Site)),
                "suppliers" => elements.extend((0..m.suppliers.len()).map(Element::Supplier)),
                "depots" => elements.extend((0..m.depots.len()).map(Element::Depot)),
                "routes" => elements.extend((0..net.route_key.len()).map(Element::Route)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        let mut chosen = Vec::new();
        combinations(&elements, k as usize, 0, &mut chosen, &mut |set| {
            out.push(loss_case(net, set));
        });
        out
    }
}

/// Suppliers, sites and depots whose (region, country) satisfy `inside`.
fn nodes_where(net: &Network, inside: impl Fn(&str, &str) -> bool) -> Vec<NodeRef> {
    let m = &net.model;
    let suppliers = m.suppliers.iter().map(|n| (&n.region, &n.country));
    let sites = m.sites.iter().map(|n| (&n.region, &n.country));
    let depots = m.depots.iter().map(|n| (&n.region, &n.country));
    let pick = |(i, (r, c)): (usize, (&String, &String))| inside(r, c).then_some(i);
    let mut out: Vec<NodeRef> = suppliers
        .enumerate()
        .filter_map(pick)
        .map(NodeRef::Supplier)
        .collect();
    out.extend(sites.enumerate().filter_map(pick).map(NodeRef::Site));
    out.extend(depots.enumerate().filter_map(pick).map(NodeRef::Depot));
    out
}

/// The scenario in which exactly `lost` are down.
pub fn loss_case(net: &Network, lost: &[Element]) -> ScenarioCase {
    let names: Vec<String> = lost
        .iter()
        .map(|e| match e {
            Element::Supplier(i) => net.model.suppliers[*i].id.clone(),
            Element::Site(i) => net.model.sites[*i].id.clone(),
            Element::Depot(i) => net.model.depots[*i].id.clone(),
            Element::Route(i) => net.route_key[*i].clone(),
        })
        .collect();
    let mut case = intact(net, &format!("lose {}", names.join(" + ")), 0.0);
    for e in lost {
        match e {
            Element::Supplier(i) => case.supplier[*i] = 0.0,
            Element::Site(i) => case.site[*i] = 0.0,
            Element::Depot(i) => case.depot[*i] = 0.0,
            Element::Route(i) => case.route[*i] = 0.0,
        }
    }
    case
}

/// Calls `visit` with every subset of `items` of size 1..=k.
fn combinations(
    items: &[Element],
    k: usize,
    start: usize,
    chosen: &mut Vec<Element>,
    visit: &mut dyn FnMut(&[Element]),
) {
    if !chosen.is_empty() {
        visit(chosen);
    }
    if chosen.len() == k {
        return;
    }
    for i in start..items.len() {
        chosen.push(items[i]);
        combinations(items, k, i + 1, chosen, visit);
        chosen.pop();
    }
}

/// The scenario in which nothing is disrupted.
pub fn intact(net: &Network, id: &str, probability: f64) -> ScenarioCase {
    let m = &net.model;
    ScenarioCase {
        id: id.to_string(),
        probability,
        supplier: vec![1.0; m.suppliers.len()],
        site: vec![1.0; m.sites.len()],
        depot: vec![1.0; m.depots.len()],
        route: vec![1.0; net.route_key.len()],
        site_hits: Vec::new(),
        hazards: Vec::new(),
    }
}

/// Rescales probabilities to sum to exactly 1 (removing rounding).
fn normalise(cases: &mut [ScenarioCase]) {
    let total: f64 = cases.iter().map(|c| c.probability).sum();
    if total > 0.0 {
        for c in cases {
            c.probability /= total;
        }
    }
}
