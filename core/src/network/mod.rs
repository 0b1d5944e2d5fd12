//! Validation: a [`Model`] becomes a [`Network`] (indexed, every reference resolved) or an
//! [`InputError`] listing every problem at once, each with its JSON path and entity id.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::error::{InputError, Problem};
use crate::model::{haversine_km, Model, Node};

/// A node of the network, by kind and index into the model's list of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeRef {
    /// `model.suppliers[i]`
    Supplier(usize),
    /// `model.sites[i]`
    Site(usize),
    /// `model.depots[i]`
    Depot(usize),
    /// `model.demand[i]`
    Demand(usize),
}

/// A validated model with every reference resolved to an index.
#[derive(Debug, Clone)]
pub struct Network {
    /// The model as given (never modified).
    pub model: Model,
    node_by_id: HashMap<String, NodeRef>,
    material_by_id: HashMap<String, usize>,
    /// Route `e` carries material `route_material[e]` (index into `model.materials`).
    pub route_material: Vec<usize>,
    /// Start node of each route.
    pub route_from: Vec<NodeRef>,
    /// End node of each route.
    pub route_to: Vec<NodeRef>,
    /// Route ids (`id` or `FROM->TO`).
    pub route_key: Vec<String>,
    /// Index of each validated route in `model.routes`.
    pub route_index: Vec<usize>,
    route_by_key: HashMap<String, usize>,
    routes_out: HashMap<NodeRef, Vec<usize>>,
    routes_in: HashMap<NodeRef, Vec<usize>>,
    /// Shortfall penalty of each demand node, currency/t; `None` means the demand is hard.
    pub demand_penalty: Vec<Option<f64>>,
    /// Materials each depot can hold (indices into `model.materials`), sorted.
    pub depot_materials: Vec<Vec<usize>>,
    /// Party (index into `model.parties`) owning each depot; all `None` without parties.
    pub depot_party: Vec<Option<usize>>,
    /// Party (index into `model.parties`) of each demand node; all `None` without parties.
    pub demand_party: Vec<Option<usize>>,
}

impl Network {
    /// Validates `model`, reporting every problem at once.
    pub fn new(model: Model) -> Result<Network, InputError> {
        Network::validate(model, false)
    }

    /// [`Network::new`] for a model that may leave demand without any route to it: the model a
    /// coalition plans with alone, when its demand was served only through other parties'
    /// depots. Such demand falls short in full (or makes the model infeasible when it is hard).
    pub fn new_allowing_unreached_demand(model: Model) -> Result<Network, InputError> {
        Network::validate(model, true)
    }

    fn validate(model: Model, allow_unreached: bool) -> Result<Network, InputError> {
        let mut v = Validator {
            allow_unreached,
            ..Validator::default()
        };
        let net = v.check(&model);
        if v.problems.is_empty() {
            if let Some(mut net) = net {
                net.model = model;
                return Ok(net);
            }
        }
        if v.problems.is_empty() {
            v.push("$", None, "the model could not be indexed".to_string());
        }
        Err(InputError {
            problems: v.problems,
        })
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<NodeRef> {
        self.node_by_id.get(id).copied()
    }

    /// Index of the material with this id.
    pub fn material(&self, id: &str) -> Option<usize> {
        self.material_by_id.get(id).copied()
    }

    /// Routes leaving node `n`.
    pub fn routes_out(&self, n: NodeRef) -> &[usize] {
        self.routes_out.get(&n).map_or(&[], Vec::as_slice)
    }

    /// Routes reaching node `n`.
    pub fn routes_in(&self, n: NodeRef) -> &[usize] {
        self.routes_in.get(&n).map_or(&[], Vec::as_slice)
    }

    /// Index of the route with this id.
    pub fn route(&self, key: &str) -> Option<usize> {
        self.route_by_key.get(key).copied()
    }

    /// The model's route behind validated route `e`.
    pub fn route_def(&self, e: usize) -> &crate::model::Route {
        &self.model.routes[self.route_index[e]]
    }

    /// Id of a node.
    pub fn node_id(&self, n: NodeRef) -> &str {
        match n {
            NodeRef::Supplier(i) => &self.model.suppliers[i].id,
            NodeRef::Site(i) => &self.model.sites[i].id,
            NodeRef::Depot(i) => &self.model.depots[i].id,
            NodeRef::Demand(i) => &self.model.demand[i].id,
        }
    }

    /// Country code of a node.
    pub fn node_country(&self, n: NodeRef) -> &str {
        match n {
            NodeRef::Supplier(i) => &self.model.suppliers[i].country,
            NodeRef::Site(i) => &self.model.sites[i].country,
            NodeRef::Depot(i) => &self.model.depots[i].country,
            NodeRef::Demand(i) => &self.model.demand[i].country,
        }
    }

    /// Whether the country with this code is trusted.
    pub fn is_trusted(&self, code: &str) -> bool {
        self.model
            .countries
            .iter()
            .any(|c| c.code == code && c.trusted)
    }

    /// Great-circle distance between two sites, km (validated to have coordinates when a
    /// separation policy is set; `None` otherwise).
    pub fn site_distance_km(&self, a: usize, b: usize) -> Option<f64> {
        let (p, q) = (
            self.model.sites[a].coordinates()?,
            self.model.sites[b].coordinates()?,
        );
        Some(haversine_km(p.0, p.1, q.0, q.1))
    }

    /// The allowances of the agreement that cover route `e` when it releases from one party's
    /// depot to another party's demand (indices into `agreement.allowances`).
    pub fn allowances_over(&self, e: usize) -> Vec<usize> {
        let (Some(owner), Some(drawer)) = self.release_parties(e) else {
            return Vec::new();
        };
        let m = &self.model;
        let material = &m.materials[self.route_material[e]].id;
        m.agreement.as_ref().map_or(Vec::new(), |a| {
            a.allowances
                .iter()
                .enumerate()
                .filter(|(_, al)| {
                    al.from == m.parties[owner].id
                        && al.to == m.parties[drawer].id
                        && al.material.as_ref().is_none_or(|x| x == material)
                })
                .map(|(k, _)| k)
                .collect()
        })
    }

    /// (depot owner, demand party) of route `e` when it releases from a depot to a demand node.
    pub fn release_parties(&self, e: usize) -> (Option<usize>, Option<usize>) {
        match (self.route_from[e], self.route_to[e]) {
            (NodeRef::Depot(l), NodeRef::Demand(d)) => (self.depot_party[l], self.demand_party[d]),
            _ => (None, None),
        }
    }

    /// Whether the sharing agreement lets route `e` carry anything: always, except a release
    /// from one party's depot to another party's demand under a `national` agreement without an
    /// allowance for the pair.
    pub fn release_allowed(&self, e: usize) -> bool {
        let national = self
            .model
            .agreement
            .as_ref()
            .is_some_and(|a| a.sharing == crate::model::Sharing::National);
        match self.release_parties(e) {
            (Some(owner), Some(drawer)) if owner != drawer && national => {
                !self.allowances_over(e).is_empty()
            }
            _ => true,
        }
    }

    /// Total demand of a material, t/yr.
    pub fn material_demand(&self, m: usize) -> f64 {
        let id = &self.model.materials[m].id;
        self.model
            .demand
            .iter()
            .filter(|d| &d.material == id)
            .map(|d| d.demand)
            .sum()
    }
}

#[derive(Default)]
struct Validator {
    problems: Vec<Problem>,
    /// Demand that no route reaches is not a problem (coalition models).
    allow_unreached: bool,
}

/// Largest magnitude any quantity or amount of money may have: beyond it HiGHS treats a number as
/// infinite, and no real plan comes near it.
const MAX_MAGNITUDE: f64 = 1e15;

/// Most parties a model may list: the cost-sharing analysis solves 2^n - 1 coalition models
/// (exact Shapley up to 12 parties, sampling beyond).
pub const MAX_PARTIES: usize = 24;

/// A number as a person would write it: `-5`, `1.3`, `1e300`, `NaN`.
fn num(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x != 0.0 && (x.abs() >= 1e15 || x.abs() < 1e-6) {
        format!("{x:e}")
    } else {
        let fixed = format!("{x:.9}");
        fixed
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

impl Validator {
    fn push(&mut self, path: impl Into<String>, entity: Option<&str>, message: String) {
        self.problems.push(Problem {
            path: path.into(),
            entity: entity.filter(|e| !e.is_empty()).map(str::to_string),
            message,
        });
    }

    /// A finite number >= 0.
    fn nonneg(&mut self, path: String, id: &str, x: f64) {
        if !x.is_finite() {
            self.push(
                path,
                Some(id),
                format!("must be a finite number, got {}", num(x)),
            );
        } else if x < 0.0 {
            self.push(path, Some(id), format!("must be >= 0, got {}", num(x)));
        } else if x > MAX_MAGNITUDE {
            self.push(
                path,
                Some(id),
                format!("must be at most 1e15, got {}", num(x)),
            );
        }
    }

    /// A finite number > 0.
    fn positive(&mut self, path: String, id: &str, x: f64) {
        if !x.is_finite() {
            self.push(
                path,
                Some(id),
                format!("must be a finite number, got {}", num(x)),
            );
        } else if x <= 0.0 {
            self.push(path, Some(id), format!("must be > 0, got {}", num(x)));
        } else if x > MAX_MAGNITUDE {
            self.push(
                path,
                Some(id),
                format!("must be at most 1e15, got {}", num(x)),
            );
        }
    }

    /// A share in [0, 1].
    fn share(&mut self, path: String, id: Option<&str>, x: f64) {
        if !(0.0..=1.0).contains(&x) {
            self.push(path, id, format!("must be within [0, 1], got {}", num(x)));
        }
    }

    fn id(&mut self, path: String, id: &str, seen: &mut HashSet<String>, what: &str) {
        if id.trim().is_empty() {
            self.push(path, None, format!("{what} id must not be empty"));
        } else if !seen.insert(id.to_string()) {
            self.push(path, Some(id), format!("duplicate {what} id `{id}`"));
        }
    }

    fn location(&mut self, path: &str, node: &dyn Node, countries: &HashSet<&str>) {
        let id = node.id();
        if !countries.contains(node.country()) {
            self.push(
                format!("{path}.country"),
                Some(id),
                format!("unknown country `{}` (not in `countries`)", node.country()),
            );
        }
        // Coordinates are read through the trait to keep one check for every node kind.
        if let Some((lat, lon)) = node.coordinates() {
            if !(-90.0..=90.0).contains(&lat) {
                self.push(
                    format!("{path}.lat"),
                    Some(id),
                    format!("must be within [-90, 90], got {}", num(lat)),
                );
            }
            if !(-180.0..=180.0).contains(&lon) {
                self.push(
                    format!("{path}.lon"),
                    Some(id),
                    format!("must be within [-180, 180], got {}", num(lon)),
                );
            }
        }
    }

    fn check(&mut self, m: &Model) -> Option<Network> {
        // Materials and countries.
        let mut material_by_id = HashMap::new();
        let mut seen = HashSet::new();
        for (i, mat) in m.materials.iter().enumerate() {
            self.id(format!("materials[{i}].id"), &mat.id, &mut seen, "material");
            self.nonneg(
                format!("materials[{i}].unit_price"),
                &mat.id,
                mat.unit_price,
            );
            material_by_id.entry(mat.id.clone()).or_insert(i);
        }
        let mut seen = HashSet::new();
        for (i, c) in m.countries.iter().enumerate() {
            self.id(
                format!("countries[{i}].code"),
                &c.code,
                &mut seen,
                "country",
            );
        }
        let countries: HashSet<&str> = m.countries.iter().map(|c| c.code.as_str()).collect();
        let material_ok = |id: &str| material_by_id.contains_key(id);

        // Nodes: ids unique across every kind, since routes and scenarios name them.
        let mut node_by_id: HashMap<String, NodeRef> = HashMap::new();
        let mut seen = HashSet::new();
        for (i, s) in m.suppliers.iter().enumerate() {
            let p = format!("suppliers[{i}]");
            self.id(format!("{p}.id"), &s.id, &mut seen, "node");
            node_by_id
                .entry(s.id.clone())
                .or_insert(NodeRef::Supplier(i));
            self.location(&p, s, &countries);
            if !material_ok(&s.material) {
                self.push(
                    format!("{p}.material"),
                    Some(&s.id),
                    format!("unknown material `{}`", s.material),
                );
            }
            self.nonneg(format!("{p}.capacity"), &s.id, s.capacity);
            self.nonneg(format!("{p}.unit_cost"), &s.id, s.unit_cost);
            if let Some(c) = s.protection_cost {
                self.nonneg(format!("{p}.protection_cost"), &s.id, c);
            }
        }
        for (i, s) in m.sites.iter().enumerate() {
            let p = format!("sites[{i}]");
            self.id(format!("{p}.id"), &s.id, &mut seen, "node");
            node_by_id.entry(s.id.clone()).or_insert(NodeRef::Site(i));
            self.location(&p, s, &countries);
            if let Some(input) = &s.input {
                if !material_ok(input) {
                    self.push(
                        format!("{p}.input"),
                        Some(&s.id),
                        format!("unknown material `{input}`"),
                    );
                }
                if input == &s.output {
                    self.push(
                        format!("{p}.input"),
                        Some(&s.id),
                        "input and output must differ".to_string(),
                    );
                }
            }
            if !material_ok(&s.output) {
                self.push(
                    format!("{p}.output"),
                    Some(&s.id),
                    format!("unknown material `{}`", s.output),
                );
            }
            if !(s.yield_ > 0.0 && s.yield_ <= 1.0) {
                self.push(
                    format!("{p}.yield"),
                    Some(&s.id),
                    format!("must be within (0, 1], got {}", num(s.yield_)),
                );
            }
            self.positive(format!("{p}.module_capacity"), &s.id, s.module_capacity);
            if s.max_modules == 0 {
                self.push(
                    format!("{p}.max_modules"),
                    Some(&s.id),
                    "must be >= 1, got 0".to_string(),
                );
            }
            if s.existing_modules > s.max_modules {
                self.push(
                    format!("{p}.existing_modules"),
                    Some(&s.id),
                    format!(
                        "must be <= max_modules ({}), got {}",
                        s.max_modules, s.existing_modules
                    ),
                );
            }
            self.nonneg(format!("{p}.open_cost"), &s.id, s.open_cost);
            self.nonneg(format!("{p}.module_cost"), &s.id, s.module_cost);
            self.nonneg(format!("{p}.unit_cost"), &s.id, s.unit_cost);
            if let Some(c) = s.protection_cost {
                self.nonneg(format!("{p}.protection_cost"), &s.id, c);
            }
            let mut hseen = HashSet::new();
            for (k, h) in s.hardening.iter().enumerate() {
                let hp = format!("{p}.hardening[{k}]");
                self.id(format!("{hp}.id"), &h.id, &mut hseen, "hardening option");
                self.nonneg(format!("{hp}.cost"), &s.id, h.cost);
                self.share(format!("{hp}.restored"), Some(&s.id), h.restored);
            }
        }
        for (i, d) in m.depots.iter().enumerate() {
            let p = format!("depots[{i}]");
            self.id(format!("{p}.id"), &d.id, &mut seen, "node");
            node_by_id.entry(d.id.clone()).or_insert(NodeRef::Depot(i));
            self.location(&p, d, &countries);
            self.nonneg(format!("{p}.capacity"), &d.id, d.capacity);
            self.nonneg(format!("{p}.open_cost"), &d.id, d.open_cost);
            self.nonneg(format!("{p}.holding_cost"), &d.id, d.holding_cost);
            if let Some(c) = d.protection_cost {
                self.nonneg(format!("{p}.protection_cost"), &d.id, c);
            }
            let mut held = 0.0;
            for (mat, t) in &d.existing_stock {
                if !material_ok(mat) {
                    self.push(
                        format!("{p}.existing_stock.{mat}"),
                        Some(&d.id),
                        format!("unknown material `{mat}`"),
                    );
                }
                self.nonneg(format!("{p}.existing_stock.{mat}"), &d.id, *t);
                held += t;
            }
            if held > d.capacity {
                self.push(
                    format!("{p}.existing_stock"),
                    Some(&d.id),
                    format!(
                        "existing stock {} t exceeds the capacity {} t",
                        num(held),
                        num(d.capacity)
                    ),
                );
            }
        }
        let mut demand_penalty = Vec::with_capacity(m.demand.len());
        let mut priority_penalty = HashMap::new();
        for (key, pen) in &m.shortfall_penalty_by_priority {
            let path = format!("shortfall_penalty_by_priority.{key}");
            match key.parse::<u32>() {
                Ok(p) => {
                    priority_penalty.insert(p, *pen);
                }
                Err(_) => self.push(
                    path.clone(),
                    None,
                    format!("key must be a priority (a whole number), got `{key}`"),
                ),
            }
            if !(pen.is_finite() && *pen >= 0.0) {
                self.push(
                    path,
                    None,
                    format!("must be a finite number >= 0, got {}", num(*pen)),
                );
            }
        }
        for (i, d) in m.demand.iter().enumerate() {
            let p = format!("demand[{i}]");
            self.id(format!("{p}.id"), &d.id, &mut seen, "node");
            node_by_id.entry(d.id.clone()).or_insert(NodeRef::Demand(i));
            self.location(&p, d, &countries);
            if !material_ok(&d.material) {
                self.push(
                    format!("{p}.material"),
                    Some(&d.id),
                    format!("unknown material `{}`", d.material),
                );
            }
            self.nonneg(format!("{p}.demand"), &d.id, d.demand);
            if let Some(pen) = d.shortfall_penalty {
                self.nonneg(format!("{p}.shortfall_penalty"), &d.id, pen);
            }
            demand_penalty.push(
                d.shortfall_penalty
                    .or_else(|| priority_penalty.get(&d.priority).copied()),
            );
        }

        // Routes: resolved ends, a carried material that both ends agree on.
        let n_routes = m.routes.len();
        let mut route_material = Vec::with_capacity(n_routes);
        let mut route_from = Vec::with_capacity(n_routes);
        let mut route_to = Vec::with_capacity(n_routes);
        let mut route_key = Vec::with_capacity(n_routes);
        let mut route_index = Vec::with_capacity(n_routes);
        let mut depot_materials: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); m.depots.len()];
        let mut seen_routes = HashSet::new();
        let mut chokepoints = HashSet::new();
        for (i, r) in m.routes.iter().enumerate() {
            let p = format!("routes[{i}]");
            let key = r.key();
            self.id(format!("{p}.id"), &key, &mut seen_routes, "route");
            if node_by_id.contains_key(&key) {
                self.push(
                    format!("{p}.id"),
                    Some(&key),
                    format!("route id `{key}` is also a node id"),
                );
            }
            self.nonneg(format!("{p}.unit_cost"), &key, r.unit_cost);
            if let Some(c) = r.protection_cost {
                self.nonneg(format!("{p}.protection_cost"), &key, c);
            }
            if let Some(c) = r.capacity {
                self.nonneg(format!("{p}.capacity"), &key, c);
            }
            if let Some(dk) = r.distance_km {
                self.nonneg(format!("{p}.distance_km"), &key, dk);
            }
            chokepoints.extend(r.chokepoints.iter().cloned());
            let from = node_by_id.get(&r.from).copied();
            let to = node_by_id.get(&r.to).copied();
            if from.is_none() {
                self.push(
                    format!("{p}.from"),
                    Some(&key),
                    format!("unknown node `{}`", r.from),
                );
            }
            if to.is_none() {
                self.push(
                    format!("{p}.to"),
                    Some(&key),
                    format!("unknown node `{}`", r.to),
                );
            }
            let (Some(from), Some(to)) = (from, to) else {
                continue;
            };
            if r.from == r.to {
                self.push(
                    format!("{p}.to"),
                    Some(&key),
                    "a route must join two different nodes".to_string(),
                );
            }
            // What the end node takes in.
            let wants = match to {
                NodeRef::Site(s) => match &m.sites[s].input {
                    Some(inp) => Some(inp.as_str()),
                    None => {
                        self.push(
                            format!("{p}.to"),
                            Some(&key),
                            format!(
                                "site `{}` has no input material, so no route can lead to it",
                                r.to
                            ),
                        );
                        continue;
                    }
                },
                NodeRef::Demand(d) => Some(m.demand[d].material.as_str()),
                NodeRef::Supplier(_) | NodeRef::Depot(_) => {
                    self.push(
                        format!("{p}.to"),
                        Some(&key),
                        format!(
                            "`{}` is a supplier or depot; routes lead to sites and demand nodes",
                            r.to
                        ),
                    );
                    continue;
                }
            };
            // What the start node puts out.
            let gives = match from {
                NodeRef::Supplier(s) => Some(m.suppliers[s].material.as_str()),
                NodeRef::Site(s) => Some(m.sites[s].output.as_str()),
                NodeRef::Depot(_) => wants,
                NodeRef::Demand(_) => {
                    self.push(
                        format!("{p}.from"),
                        Some(&key),
                        format!(
                            "`{}` is a demand node; routes leave suppliers, sites and depots",
                            r.from
                        ),
                    );
                    continue;
                }
            };
            if gives != wants {
                self.push(
                    format!("{p}.to"),
                    Some(&key),
                    format!(
                        "`{}` puts out `{}` but `{}` takes `{}`",
                        r.from,
                        gives.unwrap_or("?"),
                        r.to,
                        wants.unwrap_or("?")
                    ),
                );
                continue;
            }
            let Some(mat) = gives.and_then(|g| material_by_id.get(g).copied()) else {
                continue; // unknown material, already reported on the node
            };
            if let NodeRef::Depot(l) = from {
                depot_materials[l].insert(mat);
            }
            route_material.push(mat);
            route_from.push(from);
            route_to.push(to);
            route_key.push(key);
            route_index.push(i);
        }
        for (l, d) in m.depots.iter().enumerate() {
            for mat in d.existing_stock.keys() {
                if let Some(k) = material_by_id.get(mat) {
                    depot_materials[l].insert(*k);
                }
            }
        }

        // Scenarios.
        let route_keys: HashSet<&str> = route_key.iter().map(String::as_str).collect();
        let mut seen = HashSet::new();
        let mut total_probability = 0.0;
        for (i, s) in m.scenarios.iter().enumerate() {
            let p = format!("scenarios[{i}]");
            self.id(format!("{p}.id"), &s.id, &mut seen, "scenario");
            if s.id == "base" {
                self.push(
                    format!("{p}.id"),
                    Some(&s.id),
                    "`base` is reserved for the no-disruption scenario".to_string(),
                );
            }
            self.share(format!("{p}.probability"), Some(&s.id), s.probability);
            if s.probability.is_finite() {
                total_probability += s.probability;
            }
            for (target, a) in &s.availability {
                let ap = format!("{p}.availability.{target}");
                self.share(ap.clone(), Some(&s.id), *a);
                match node_by_id.get(target) {
                    Some(NodeRef::Demand(_)) => self.push(
                        ap,
                        Some(&s.id),
                        format!("`{target}` is a demand node; only suppliers, sites, depots and routes can be disrupted"),
                    ),
                    Some(_) => {}
                    None if route_keys.contains(target.as_str()) => {}
                    None => self.push(ap, Some(&s.id), format!("unknown node or route `{target}`")),
                }
            }
            for (k, c) in s.closed_chokepoints.iter().enumerate() {
                if !chokepoints.contains(c) {
                    self.push(
                        format!("{p}.closed_chokepoints[{k}]"),
                        Some(&s.id),
                        format!("no route passes the chokepoint `{c}`"),
                    );
                }
            }
            for (k, c) in s.embargoes.iter().enumerate() {
                if !countries.contains(c.as_str()) {
                    self.push(
                        format!("{p}.embargoes[{k}]"),
                        Some(&s.id),
                        format!("unknown country `{c}`"),
                    );
                }
            }
        }
        if total_probability > 1.0 + 1e-9 {
            self.push(
                "scenarios",
                None,
                format!(
                    "probabilities sum to {}, more than 1",
                    num(total_probability)
                ),
            );
        }

        // Partial availability on a route without capacity would change nothing (unlimited
        // times 0.6 is unlimited): say so rather than ignore it.
        for (i, s) in m.scenarios.iter().enumerate() {
            for (target, a) in &s.availability {
                if *a > 0.0 && *a < 1.0 {
                    if let Some(r) = route_keys
                        .contains(target.as_str())
                        .then(|| m.routes.iter().find(|r| &r.key() == target))
                        .flatten()
                    {
                        if r.capacity.is_none() {
                            self.push(
                                format!("scenarios[{i}].availability.{target}"),
                                Some(&s.id),
                                format!("route `{target}` has no capacity, so availability {} would change nothing; give the route a capacity or use 0", num(*a)),
                            );
                        }
                    }
                }
            }
            for (k, h) in s.hazards.iter().enumerate() {
                if !m.hazards.iter().any(|x| &x.id == h) {
                    self.push(
                        format!("scenarios[{i}].hazards[{k}]"),
                        Some(&s.id),
                        format!("unknown hazard `{h}`"),
                    );
                }
            }
        }
        self.hazards(m, &node_by_id, &route_keys, &countries, &chokepoints);
        for (i, s) in m.sites.iter().enumerate() {
            for (k, h) in s.hardening.iter().enumerate() {
                for (j, hz) in h.hazards.iter().enumerate() {
                    if !m.hazards.iter().any(|x| &x.id == hz) {
                        self.push(
                            format!("sites[{i}].hardening[{k}].hazards[{j}]"),
                            Some(&s.id),
                            format!("unknown hazard `{hz}`"),
                        );
                    }
                }
            }
        }
        self.policies(m, &countries);
        let (depot_party, demand_party) = self.parties(m, &countries, &material_by_id);
        self.reachability(m, &route_from, &route_to, &route_material, &material_by_id);

        for (i, d) in m.demand.iter().enumerate() {
            if d.single_source
                && !route_from.iter().zip(&route_to).any(
                    |(f, t)| matches!((f, t), (NodeRef::Site(_), NodeRef::Demand(k)) if *k == i),
                )
            {
                self.push(
                    format!("demand[{i}].single_source"),
                    Some(&d.id),
                    "single-source demand needs at least one route from a site".to_string(),
                );
            }
        }

        if !self.problems.is_empty() {
            return None;
        }
        let mut routes_out: HashMap<NodeRef, Vec<usize>> = HashMap::new();
        let mut routes_in: HashMap<NodeRef, Vec<usize>> = HashMap::new();
        for (e, (f, t)) in route_from.iter().zip(&route_to).enumerate() {
            routes_out.entry(*f).or_default().push(e);
            routes_in.entry(*t).or_default().push(e);
        }
        Some(Network {
            model: Model::default(),
            routes_out,
            routes_in,
            node_by_id,
            material_by_id,
            route_material,
            route_from,
            route_to,
            route_by_key: route_key
                .iter()
                .enumerate()
                .map(|(e, k)| (k.clone(), e))
                .collect(),
            route_key,
            route_index,
            demand_penalty,
            depot_materials: depot_materials
                .into_iter()
                .map(|s| s.into_iter().collect())
                .collect(),
            depot_party,
            demand_party,
        })
    }

    /// Parties, the agreement, and the party of every depot and demand node.
    fn parties(
        &mut self,
        m: &Model,
        countries: &HashSet<&str>,
        material_by_id: &HashMap<String, usize>,
    ) -> (Vec<Option<usize>>, Vec<Option<usize>>) {
        let mut party_by_id: HashMap<&str, usize> = HashMap::new();
        let mut seen = HashSet::new();
        // Country code -> (party index, where it was claimed).
        let mut country_party: HashMap<&str, (usize, String)> = HashMap::new();
        for (i, p) in m.parties.iter().enumerate() {
            self.id(format!("parties[{i}].id"), &p.id, &mut seen, "party");
            party_by_id.entry(p.id.as_str()).or_insert(i);
            for (k, c) in p.countries.iter().enumerate() {
                let path = format!("parties[{i}].countries[{k}]");
                if !countries.contains(c.as_str()) {
                    self.push(
                        path,
                        Some(&p.id),
                        format!("unknown country `{c}` (not in `countries`)"),
                    );
                    continue;
                }
                match country_party.get(c.as_str()) {
                    Some((j, at)) if *j != i => {
                        let other = &m.parties[*j].id;
                        self.push(
                            path,
                            Some(&p.id),
                            format!("country `{c}` is already claimed by party `{other}` ({at})"),
                        );
                    }
                    Some(_) => {}
                    None => {
                        country_party.insert(c.as_str(), (i, path));
                    }
                }
            }
        }
        if m.parties.len() > MAX_PARTIES {
            self.push(
                "parties",
                None,
                format!(
                    "at most {MAX_PARTIES} parties (2^n - 1 coalitions are solved), got {}",
                    m.parties.len()
                ),
            );
        }
        for (i, c) in m.countries.iter().enumerate() {
            let Some(pid) = &c.party else { continue };
            let path = format!("countries[{i}].party");
            match party_by_id.get(pid.as_str()) {
                None => self.push(
                    path,
                    Some(&c.code),
                    format!("unknown party `{pid}` (not in `parties`)"),
                ),
                Some(j) => match country_party.get(c.code.as_str()) {
                    Some((k, at)) if k != j => {
                        let other = &m.parties[*k].id;
                        self.push(
                            path,
                            Some(&c.code),
                            format!("country `{}` names party `{pid}` but party `{other}` claims it ({at})", c.code),
                        );
                    }
                    Some(_) => {}
                    None => {
                        country_party.insert(c.code.as_str(), (*j, path));
                    }
                },
            }
        }
        let resolve = |this: &mut Self,
                       path: String,
                       id: &str,
                       own: &Option<String>,
                       country: &str|
         -> Option<usize> {
            if let Some(pid) = own {
                let found = party_by_id.get(pid.as_str()).copied();
                if found.is_none() {
                    this.push(
                        format!("{path}.party"),
                        Some(id),
                        format!("unknown party `{pid}` (not in `parties`)"),
                    );
                }
                return found;
            }
            let found = country_party.get(country).map(|(j, _)| *j);
            if found.is_none() && !m.parties.is_empty() {
                this.push(
                    format!("{path}.party"),
                    Some(id),
                    format!("belongs to no party: with `parties` listed every depot and demand node needs one (set `party`, or list its country `{country}` under a party)"),
                );
            }
            found
        };
        let depot_party: Vec<Option<usize>> = m
            .depots
            .iter()
            .enumerate()
            .map(|(i, d)| resolve(self, format!("depots[{i}]"), &d.id, &d.party, &d.country))
            .collect();
        let demand_party: Vec<Option<usize>> = m
            .demand
            .iter()
            .enumerate()
            .map(|(i, d)| resolve(self, format!("demand[{i}]"), &d.id, &d.party, &d.country))
            .collect();
        let Some(a) = &m.agreement else {
            return (depot_party, demand_party);
        };
        if m.parties.is_empty() {
            self.push(
                "agreement",
                None,
                "an agreement needs `parties` to bind".to_string(),
            );
        }
        let mut pairs = HashSet::new();
        for (i, al) in a.allowances.iter().enumerate() {
            let p = format!("agreement.allowances[{i}]");
            let entity = format!("{}->{}", al.from, al.to);
            for (field, pid) in [("from", &al.from), ("to", &al.to)] {
                if !party_by_id.contains_key(pid.as_str()) {
                    self.push(
                        format!("{p}.{field}"),
                        Some(&entity),
                        format!("unknown party `{pid}` (not in `parties`)"),
                    );
                }
            }
            if al.from == al.to {
                self.push(
                    format!("{p}.to"),
                    Some(&entity),
                    "a party always draws on its own depots; an allowance joins two different parties".to_string(),
                );
            }
            if let Some(mat) = &al.material {
                if !material_by_id.contains_key(mat) {
                    self.push(
                        format!("{p}.material"),
                        Some(&entity),
                        format!("unknown material `{mat}`"),
                    );
                }
            }
            if !pairs.insert((&al.from, &al.to, &al.material)) {
                self.push(
                    p.clone(),
                    Some(&entity),
                    "duplicate allowance for this pair and material".to_string(),
                );
            }
            match (al.max_tonnes, al.max_fraction) {
                (None, None) => self.push(
                    p.clone(),
                    Some(&entity),
                    "give max_tonnes, max_fraction or both".to_string(),
                ),
                (t, f) => {
                    if let Some(t) = t {
                        self.nonneg(format!("{p}.max_tonnes"), &entity, t);
                    }
                    if let Some(f) = f {
                        self.share(format!("{p}.max_fraction"), Some(&entity), f);
                    }
                }
            }
        }
        if let Some(f) = &a.fairness {
            if let Some(x) = f.max_shortfall_fraction {
                self.share("agreement.fairness.max_shortfall_fraction".into(), None, x);
            }
        }
        (depot_party, demand_party)
    }

    fn hazards(
        &mut self,
        m: &Model,
        nodes: &HashMap<String, NodeRef>,
        routes: &HashSet<&str>,
        countries: &HashSet<&str>,
        chokepoints: &HashSet<String>,
    ) {
        use crate::model::HazardScope;
        let mut seen = HashSet::new();
        for (i, h) in m.hazards.iter().enumerate() {
            let p = format!("hazards[{i}]");
            self.id(format!("{p}.id"), &h.id, &mut seen, "hazard");
            self.share(format!("{p}.probability"), Some(&h.id), h.probability);
            self.share(format!("{p}.availability"), Some(&h.id), h.availability);
            self.share(format!("{p}.duration"), Some(&h.id), h.duration);
            match &h.scope {
                HazardScope::Node { id } => match nodes.get(id) {
                    Some(NodeRef::Demand(_)) => self.push(
                        format!("{p}.scope.id"),
                        Some(&h.id),
                        format!("`{id}` is a demand node; hazards hit suppliers, sites, depots and routes"),
                    ),
                    Some(_) => {}
                    None if routes.contains(id.as_str()) => {}
                    None => self.push(format!("{p}.scope.id"), Some(&h.id), format!("unknown node or route `{id}`")),
                },
                HazardScope::Region { region, country } => {
                    if let Some(c) = country {
                        if !countries.contains(c.as_str()) {
                            self.push(format!("{p}.scope.country"), Some(&h.id), format!("unknown country `{c}`"));
                        }
                    }
                    let any = m.suppliers.iter().map(|n| &n.region)
                        .chain(m.sites.iter().map(|n| &n.region))
                        .chain(m.depots.iter().map(|n| &n.region))
                        .any(|r| r == region);
                    if !any {
                        self.push(format!("{p}.scope.region"), Some(&h.id), format!("no supplier, site or depot is in region `{region}`"));
                    }
                }
                HazardScope::Country { country } | HazardScope::Embargo { country } => {
                    if !countries.contains(country.as_str()) {
                        self.push(format!("{p}.scope.country"), Some(&h.id), format!("unknown country `{country}`"));
                    }
                }
                HazardScope::Chokepoint { name } => {
                    if !chokepoints.contains(name) {
                        self.push(format!("{p}.scope.name"), Some(&h.id), format!("no route passes the chokepoint `{name}`"));
                    }
                }
            }
        }
    }

    fn policies(&mut self, m: &Model, countries: &HashSet<&str>) {
        let p = &m.policies;
        for (k, mat) in p.materials.iter().enumerate() {
            if !m.sites.iter().any(|s| &s.output == mat) {
                self.push(
                    format!("policies.materials[{k}]"),
                    None,
                    format!("no site produces `{mat}`"),
                );
            }
        }
        if let Some(sv) = &p.survivability {
            if !(1..=3).contains(&sv.k) {
                self.push(
                    "policies.survivability.k",
                    None,
                    format!("must be 1, 2 or 3, got {}", sv.k),
                );
            }
            self.share("policies.survivability.fraction".into(), None, sv.fraction);
            for (k, t) in sv.targets.iter().enumerate() {
                if !["sites", "suppliers", "depots", "routes"].contains(&t.as_str()) {
                    self.push(
                        format!("policies.survivability.targets[{k}]"),
                        None,
                        format!("must be one of sites, suppliers, depots, routes; got `{t}`"),
                    );
                }
            }
        }
        if let Some(r) = &m.risk {
            if !(r.beta >= 0.0 && r.beta < 1.0) {
                self.push(
                    "risk.beta",
                    None,
                    format!("must be within [0, 1), got {}", num(r.beta)),
                );
            }
            self.nonneg("risk.weight".into(), "", r.weight);
            if let Some(l) = r.limit {
                self.nonneg("risk.limit".into(), "", l);
            }
        }
        if let Some(x) = p.site_share {
            self.share("policies.site_share".into(), None, x);
        }
        if let Some(cs) = &p.country_share {
            self.share("policies.country_share.cap".into(), None, cs.cap);
            for (code, x) in &cs.by_country {
                let path = format!("policies.country_share.by_country.{code}");
                self.share(path.clone(), Some(code), *x);
                if !countries.contains(code.as_str()) {
                    self.push(path, Some(code), format!("unknown country `{code}`"));
                }
            }
        }
        if let Some(x) = p.trusted_share {
            self.share("policies.trusted_share".into(), None, x);
        }
        if let Some(os) = &p.open_sites {
            if let (Some(lo), Some(hi)) = (os.min, os.max) {
                if lo > hi {
                    self.push(
                        "policies.open_sites.min",
                        None,
                        format!("must be <= max ({hi}), got {lo}"),
                    );
                }
            }
        }
        if let Some(d) = p.min_separation_km {
            self.nonneg("policies.min_separation_km".into(), "", d);
            for (i, s) in m.sites.iter().enumerate() {
                if s.coordinates().is_none() {
                    self.push(
                        format!("sites[{i}].lat"),
                        Some(&s.id),
                        "lat and lon are needed by policies.min_separation_km".to_string(),
                    );
                }
            }
        }
        if let Some(b) = p.budget {
            self.nonneg("policies.budget".into(), "", b);
        }
    }

    /// Demand that no chain of routes from a source can reach, and materials nobody supplies.
    fn reachability(
        &mut self,
        m: &Model,
        from: &[NodeRef],
        to: &[NodeRef],
        material: &[usize],
        material_by_id: &HashMap<String, usize>,
    ) {
        // Which materials anybody puts into the network.
        let mut produced = vec![false; m.materials.len()];
        for s in &m.suppliers {
            if let Some(k) = material_by_id.get(&s.material) {
                produced[*k] = true;
            }
        }
        for s in &m.sites {
            if let Some(k) = material_by_id.get(&s.output) {
                produced[*k] = true;
            }
        }
        for (e, f) in from.iter().enumerate() {
            if matches!(f, NodeRef::Depot(_)) {
                produced[material[e]] = true;
            }
        }
        for (i, s) in m.sites.iter().enumerate() {
            if let Some(k) = s.input.as_ref().and_then(|x| material_by_id.get(x)) {
                if !produced[*k] {
                    self.push(
                        format!("sites[{i}].input"),
                        Some(&s.id),
                        format!(
                            "no supplier, site or depot provides `{}`",
                            m.materials[*k].id
                        ),
                    );
                }
            }
        }
        for (i, d) in m.demand.iter().enumerate() {
            if let Some(k) = material_by_id.get(&d.material) {
                if !produced[*k] {
                    self.push(
                        format!("demand[{i}].material"),
                        Some(&d.id),
                        format!("no supplier, site or depot provides `{}`", d.material),
                    );
                }
            }
        }
        // Forward reachability from the sources, to a fixed point.
        let mut site_live: Vec<bool> = m.sites.iter().map(|s| s.input.is_none()).collect();
        let mut demand_live = vec![false; m.demand.len()];
        loop {
            let mut changed = false;
            for (f, t) in from.iter().zip(to) {
                let live = match f {
                    NodeRef::Supplier(_) | NodeRef::Depot(_) => true,
                    NodeRef::Site(s) => site_live[*s],
                    NodeRef::Demand(_) => false,
                };
                if !live {
                    continue;
                }
                match t {
                    NodeRef::Site(s) if !site_live[*s] => {
                        site_live[*s] = true;
                        changed = true;
                    }
                    NodeRef::Demand(d) if !demand_live[*d] => {
                        demand_live[*d] = true;
                        changed = true;
                    }
                    _ => {}
                }
            }
            if !changed {
                break;
            }
        }
        for (i, d) in m.demand.iter().enumerate() {
            if !demand_live[i] && d.demand > 0.0 && !self.allow_unreached {
                self.push(
                    format!("demand[{i}]"),
                    Some(&d.id),
                    "no chain of routes from a supplier, site or depot reaches this demand"
                        .to_string(),
                );
            }
        }
    }
}

/// Parses and validates a model file in one step; syntax and type errors carry their JSON path.
pub fn parse_model(text: &str) -> Result<Model, InputError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, Model>(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = format!("{inner}");
        InputError::single(
            if path.is_empty() || path == "." {
                "$".to_string()
            } else {
                path
            },
            message,
        )
    })
}
