//! Policies in the file format: dispersion limits, budget, risk measure, N-k survivability.

use super::*;

/// Risk measure of the objective (Rockafellar-Uryasev CVaR).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    /// `expectation`, `cvar` (expectation + weight x CVaR_beta) or `worst_case` (beta = 1).
    pub measure: RiskMeasure,
    /// What the risk is measured on: scenario `cost` (currency/yr) or `shortfall` (t/yr).
    #[serde(default)]
    pub on: RiskOn,
    /// CVaR level, 0..1 (0.95: the mean of the worst 5 % of outcomes). Ignored by worst_case.
    #[serde(default = "default_beta")]
    pub beta: f64,
    /// Weight of the risk term in the objective (currency per currency, or per t of shortfall).
    #[serde(default)]
    pub weight: f64,
    /// Upper limit on the risk term, as a hard constraint (currency/yr or t/yr).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<f64>,
}

pub(super) fn default_beta() -> f64 {
    0.95
}

/// The risk measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskMeasure {
    /// Expected value only.
    Expectation,
    /// Conditional value at risk at level beta.
    Cvar,
    /// The worst scenario.
    WorstCase,
}

/// The quantity risk is measured on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskOn {
    /// Scenario cost: operating cost plus shortfall penalty.
    #[default]
    Cost,
    /// Scenario shortfall in tonnes.
    Shortfall,
}

/// N-k survivability: in every loss of up to `k` elements of the chosen kinds, demand of
/// priority <= `priority` is met at least to `fraction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Survivability {
    /// Largest number of simultaneous losses, 1..3.
    pub k: u32,
    /// Element kinds that can be lost: `sites`, `suppliers`, `depots`, `routes`.
    #[serde(default = "default_targets")]
    pub targets: Vec<String>,
    /// Share of protected demand that must still be met, 0..1.
    #[serde(default = "one")]
    pub fraction: f64,
    /// Demand of this priority or more urgent (lower number) is protected.
    #[serde(default = "default_priority")]
    pub priority: u32,
    /// How to enforce it: every contingency in the MIP (`enumerate`), constraint generation
    /// (`generate`), or by the size of the contingency set (`auto`).
    #[serde(default)]
    pub method: SurvivabilityMethod,
}

/// How N-k survivability is enforced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurvivabilityMethod {
    /// Enumeration up to 40 contingencies, generation beyond.
    #[default]
    Auto,
    /// Every contingency in the MIP.
    Enumerate,
    /// Solve, check every contingency with an LP, add the violated ones, re-solve.
    Generate,
}

pub(super) fn default_targets() -> Vec<String> {
    vec!["sites".to_string()]
}

/// Policy constraints (DESIGN §4.1). Each is optional; absent means not imposed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policies {
    /// Capacity of any one site at most this share (0..1) of the total capacity for its output
    /// material.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_share: Option<f64>,
    /// Capacity in any one country at most a share of the total for each material.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_share: Option<CountryShare>,
    /// Capacity in trusted countries at least this share (0..1) of the demand for each material
    /// that sites produce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_share: Option<f64>,
    /// Number of open sites (over all sites), between `min` and `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_sites: Option<OpenSites>,
    /// Open sites in at least this many distinct countries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_countries: Option<u32>,
    /// No two open sites closer than this, km.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_separation_km: Option<f64>,
    /// Investment (site opening, new modules, depot opening) at most this, currency/yr.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
    /// Output materials the share, trusted-share and country-count policies apply to; every
    /// material that sites produce when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<String>,
    /// N-k survivability as a hard constraint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survivability: Option<Survivability>,
}

/// Country-share cap.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CountryShare {
    /// Cap (0..1) on any one country's share of each material's processing capacity.
    pub cap: f64,
    /// Caps for particular countries, overriding `cap`, by country code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_country: BTreeMap<String, f64>,
}

/// Bounds on the number of open sites.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenSites {
    /// At least this many open sites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    /// At most this many open sites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
}
