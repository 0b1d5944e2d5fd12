//! Validation: a [`Model`] becomes a [`Network`] (indexed, every reference resolved) or an
//! [`InputError`] listing every problem at once, each with its JSON path and entity id.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::error::{InputError, Problem};
use crate::model::{haversine_km, Model, Node};

mod validate;

pub use validate::MAX_PARTIES;

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
        validate::validate(model, false)
    }

    /// [`Network::new`] for a model that may leave demand without any route to it: the model a
    /// coalition plans with alone, when its demand was served only through other parties'
    /// depots. Such demand falls short in full (or makes the model infeasible when it is hard).
    pub fn new_allowing_unreached_demand(model: Model) -> Result<Network, InputError> {
        validate::validate(model, true)
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
