//! The model file: the domain types a planner writes (DESIGN §2).
//!
//! Quantities are tonnes per year (t/yr) of a named material, stock in tonnes (t), money in the
//! model's `currency` (annualised), distances in km (haversine on WGS84 lat/lon unless a route
//! gives its own). Every struct rejects unknown fields, so a misspelt key is an error, not a
//! silently ignored setting.

mod hazards;
pub mod import;
mod parties;
mod policies;

pub use hazards::{Hazard, HazardKind, HazardScope};
pub use parties::{Agreement, Allowance, Fairness, Party, Sharing};
pub use policies::{
    CountryShare, OpenSites, Policies, Risk, RiskMeasure, RiskOn, Survivability,
    SurvivabilityMethod,
};

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A complete planning model: the network, the scenarios it must survive and the policies it
/// must obey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Free-text name of the model.
    #[serde(default)]
    pub name: String,
    /// Free-text description: what the model is for, where its figures come from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Currency of every money figure in the model (annualised). Default `USD`.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Materials that flow through the network (ores, concentrates, oxides, metals).
    #[serde(default)]
    pub materials: Vec<Material>,
    /// Countries that nodes sit in, with their trusted (allied / friend-shored) flag.
    #[serde(default)]
    pub countries: Vec<Country>,
    /// Sources of a material (mines, concentrate sellers, recyclers) with fixed capacity.
    #[serde(default)]
    pub suppliers: Vec<Supplier>,
    /// Processing sites, existing and candidate, whose capacity the plan decides.
    #[serde(default)]
    pub sites: Vec<Site>,
    /// Stockpile depots.
    #[serde(default)]
    pub depots: Vec<Depot>,
    /// Demand nodes: who needs how much of which material, at what priority.
    #[serde(default)]
    pub demand: Vec<DemandNode>,
    /// Links that material can move along.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Disruption scenarios. The base (no-disruption) scenario is always present and takes the
    /// probability that the listed scenarios leave (1 - their sum).
    #[serde(default)]
    pub scenarios: Vec<Scenario>,
    /// Shortfall penalty (currency per t unmet) by demand priority, used where a demand node
    /// gives none. Keys are priorities as strings (`"1"`, `"2"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub shortfall_penalty_by_priority: BTreeMap<String, f64>,
    /// Policy constraints on the plan; each is optional.
    #[serde(default)]
    pub policies: Policies,
    /// Threats: what can go wrong, how often, how badly. Sampled into scenarios (Monte Carlo)
    /// and named by hardening options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hazards: Vec<Hazard>,
    /// Risk attitude of the objective; expectation when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<Risk>,
    /// Allied parties planning joint stockpiles (DESIGN §4.2). When listed, every depot and
    /// demand node belongs to exactly one party (its own `party`, or its country's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<Party>,
    /// The parties' sharing agreement: whose depots may serve whose demand, and how fairly
    /// shortfall is spread. Pooled without fairness rules when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Agreement>,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            name: String::new(),
            description: String::new(),
            currency: default_currency(),
            materials: Vec::new(),
            countries: Vec::new(),
            suppliers: Vec::new(),
            sites: Vec::new(),
            depots: Vec::new(),
            demand: Vec::new(),
            routes: Vec::new(),
            scenarios: Vec::new(),
            shortfall_penalty_by_priority: BTreeMap::new(),
            policies: Policies::default(),
            hazards: Vec::new(),
            risk: None,
            parties: Vec::new(),
            agreement: None,
        }
    }
}

fn default_currency() -> String {
    "USD".to_string()
}

/// A material (DESIGN §2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Material {
    /// Unique id, referenced by suppliers, sites, depots and demand.
    pub id: String,
    /// Human-readable name.
    #[serde(default)]
    pub name: String,
    /// Unit price (currency per t): values stock and is the replacement cost charged for every
    /// tonne released from a stockpile.
    #[serde(default)]
    pub unit_price: f64,
    /// Whether the material is on a critical-minerals list.
    #[serde(default)]
    pub critical: bool,
}

/// A country (DESIGN §2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Country {
    /// ISO 3166 alpha-2 code (or any unique code), referenced by nodes.
    pub code: String,
    /// Human-readable name.
    #[serde(default)]
    pub name: String,
    /// Allied or friend-shored: counts toward the trusted-share policy.
    #[serde(default)]
    pub trusted: bool,
    /// Party this country belongs to (joint stockpiles), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
}

/// A supplier: offers up to `capacity` t/yr of one material at `unit_cost`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Supplier {
    /// Unique node id.
    pub id: String,
    /// Human-readable name.
    #[serde(default)]
    pub name: String,
    /// Country code (must be listed in `countries`).
    pub country: String,
    /// Free-text region (e.g. a state or province), used by regional hazards.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// Latitude in degrees north (WGS84), -90..90.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude in degrees east (WGS84), -180..180.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Material it supplies.
    pub material: String,
    /// Capacity, t/yr.
    pub capacity: f64,
    /// Cost per t supplied (currency/t).
    #[serde(default)]
    pub unit_cost: f64,
    /// Annualised cost of protecting this supplier so that it cannot be lost (guards, redundancy,
    /// cyber hardening), currency/yr. Used by `stockade fortify --budget`; an element without
    /// it cannot be bought protection within a budget (it can still be chosen by `--protect`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_cost: Option<f64>,
}

/// A processing site: converts `input` into `output` with `yield`; capacity comes in modules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Unique node id.
    pub id: String,
    /// Human-readable name.
    #[serde(default)]
    pub name: String,
    /// Country code (must be listed in `countries`).
    pub country: String,
    /// Free-text region (e.g. a state or province), used by regional hazards.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// Latitude in degrees north (WGS84), -90..90.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude in degrees east (WGS84), -180..180.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Input material; none for a site that originates material (e.g. a mine whose capacity is
    /// a decision, or a facility in a classical facility-location benchmark).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Output material.
    pub output: String,
    /// t of output per t of input, in (0, 1]. Ignored when there is no input.
    #[serde(default = "one", rename = "yield")]
    pub yield_: f64,
    /// Output capacity of one module, t/yr.
    pub module_capacity: f64,
    /// Modules already built (sunk; an existing site stays open).
    #[serde(default)]
    pub existing_modules: u32,
    /// Most modules the site can hold.
    pub max_modules: u32,
    /// Annualised fixed cost of opening the site (0 for an existing site), currency/yr.
    #[serde(default)]
    pub open_cost: f64,
    /// Annualised cost of each new module, currency/yr.
    #[serde(default)]
    pub module_cost: f64,
    /// Processing cost per t of output, currency/t.
    #[serde(default)]
    pub unit_cost: f64,
    /// Hardening options (used by the disruption analyses).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hardening: Vec<HardeningOption>,
    /// Annualised cost of protecting this site so that it cannot be lost (guards, redundancy,
    /// cyber hardening), currency/yr. Used by `stockade fortify --budget`; an element without
    /// it cannot be bought protection within a budget (it can still be chosen by `--protect`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_cost: Option<f64>,
}

fn one() -> f64 {
    1.0
}

/// A way to harden a site against some hazards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HardeningOption {
    /// Id, unique within the site.
    pub id: String,
    /// Annualised cost, currency/yr.
    pub cost: f64,
    /// Hazard ids it mitigates.
    #[serde(default)]
    pub hazards: Vec<String>,
    /// Fraction of the lost availability it restores, 0..1.
    pub restored: f64,
}

/// A stockpile depot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Depot {
    /// Unique node id.
    pub id: String,
    /// Human-readable name.
    #[serde(default)]
    pub name: String,
    /// Country code (must be listed in `countries`).
    pub country: String,
    /// Free-text region (e.g. a state or province), used by regional hazards.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// Latitude in degrees north (WGS84), -90..90.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude in degrees east (WGS84), -180..180.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Storage capacity over all materials, t.
    pub capacity: f64,
    /// Annualised cost of opening (0 for an existing depot), currency/yr.
    #[serde(default)]
    pub open_cost: f64,
    /// Cost of holding one tonne for a year (storage plus capital), currency/t-yr.
    #[serde(default)]
    pub holding_cost: f64,
    /// Stock already held, t by material id (a lower bound on the planned stock).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub existing_stock: BTreeMap<String, f64>,
    /// Party that owns it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    /// Annualised cost of protecting this depot so that it cannot be lost (guards, redundancy,
    /// cyber hardening), currency/yr. Used by `stockade fortify --budget`; an element without
    /// it cannot be bought protection within a budget (it can still be chosen by `--protect`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_cost: Option<f64>,
}

/// A demand node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DemandNode {
    /// Unique node id.
    pub id: String,
    /// Human-readable name.
    #[serde(default)]
    pub name: String,
    /// Country code (must be listed in `countries`).
    pub country: String,
    /// Free-text region (e.g. a state or province), used by regional hazards.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// Latitude in degrees north (WGS84), -90..90.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude in degrees east (WGS84), -180..180.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Material needed.
    pub material: String,
    /// Demand, t/yr.
    pub demand: f64,
    /// Priority: 1 = defense, 2 = allied industry, 3 = commercial, ...
    #[serde(default = "default_priority")]
    pub priority: u32,
    /// Penalty per t unmet, currency/t. When absent the model's
    /// `shortfall_penalty_by_priority` applies; when that has no entry either, the demand is
    /// hard (must be met in every scenario).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shortfall_penalty: Option<f64>,
    /// Served by exactly one site (binary assignment), as when a manufacturer has qualified one
    /// processor.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub single_source: bool,
    /// Party this demand belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
}

fn default_priority() -> u32 {
    1
}

/// A route: material moves from one node to another. It carries the material its `from` node
/// puts out (a supplier's material, a site's output, a depot's release).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Id, unique among routes; defaults to `FROM->TO`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Node id the material leaves (supplier, site or depot).
    pub from: String,
    /// Node id the material reaches (site or demand node).
    pub to: String,
    /// Transport cost per t, currency/t.
    #[serde(default)]
    pub unit_cost: f64,
    /// Capacity, t/yr; unlimited when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<f64>,
    /// Length in km; the great-circle distance between the end nodes when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// Named chokepoints the route passes (e.g. `Malacca`), which scenarios can close.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chokepoints: Vec<String>,
    /// Annualised cost of protecting this route so that it cannot be lost (guards, redundancy,
    /// cyber hardening), currency/yr. Used by `stockade fortify --budget`; an element without
    /// it cannot be bought protection within a budget (it can still be chosen by `--protect`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection_cost: Option<f64>,
}

impl Route {
    /// The route's id: its own, or `FROM->TO`.
    pub fn key(&self) -> String {
        self.id
            .clone()
            .unwrap_or_else(|| format!("{}->{}", self.from, self.to))
    }
}

/// An explicit disruption scenario: what is lost, and how likely it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique id (`base` is reserved for the no-disruption scenario).
    pub id: String,
    /// Free-text description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Probability, 0..1. The listed scenarios' probabilities must sum to at most 1.
    pub probability: f64,
    /// Annual availability left (0..1) by node or route id; 0 = lost for the whole year.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub availability: BTreeMap<String, f64>,
    /// Chokepoints closed: every route through one of them is lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closed_chokepoints: Vec<String>,
    /// Countries that stop exporting: every route from a node in the country to a node in
    /// another country is lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embargoes: Vec<String>,
    /// Hazard ids this scenario stands for: hardening that mitigates one of them restores its
    /// share of the availability the scenario takes from a site.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hazards: Vec<String>,
}

impl Model {
    /// Reads a model from JSON text. Syntax and type errors carry their line and column.
    pub fn from_json_str(text: &str) -> Result<Model, crate::InputError> {
        serde_json::from_str(text).map_err(crate::InputError::from_serde)
    }

    /// The JSON Schema of the model file.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Model)).unwrap_or(serde_json::Value::Null)
    }
}

/// Great-circle distance in km between two WGS84 points (haversine, mean Earth radius 6371 km).
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().min(1.0).asin()
}

/// What every node kind has: an id, a country and perhaps coordinates.
pub trait Node {
    /// Node id.
    fn id(&self) -> &str;
    /// Country code.
    fn country(&self) -> &str;
    /// (lat, lon) in degrees when both are given.
    fn coordinates(&self) -> Option<(f64, f64)>;
}

macro_rules! impl_node {
    ($($t:ty),*) => {$(
        impl Node for $t {
            fn id(&self) -> &str {
                &self.id
            }
            fn country(&self) -> &str {
                &self.country
            }
            fn coordinates(&self) -> Option<(f64, f64)> {
                self.lat.zip(self.lon)
            }
        }
    )*};
}
impl_node!(Supplier, Site, Depot, DemandNode);
