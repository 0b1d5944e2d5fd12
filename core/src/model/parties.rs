//! Parties of a joint stockpile in the file format: members, shares, agreements, release
//! allowances and fairness.

use super::*;

/// An allied party to a joint stockpile (a government, or a bloc such as the EU).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// Unique id, named by depots, demand nodes, countries and allowances.
    pub id: String,
    /// Human-readable name.
    #[serde(default)]
    pub name: String,
    /// Country codes the party speaks for: depots and demand nodes there belong to it unless
    /// they name a party themselves. A country belongs to at most one party.
    #[serde(default)]
    pub countries: Vec<String>,
}

/// Whose depots may release to whose demand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sharing {
    /// Any party's depot may serve any party's demand (allowances cap particular pairs).
    #[default]
    Pooled,
    /// Each party draws on its own depots only (allowances open particular pairs).
    National,
}

/// The sharing agreement among the parties.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    /// `pooled` or `national`.
    #[serde(default)]
    pub sharing: Sharing,
    /// Per-pair allowances: how much party `to` may draw from the depots of party `from` in a
    /// scenario. Under `pooled` they cap the listed pairs; under `national` they open them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowances: Vec<Allowance>,
    /// Fairness rules on the spread of shortfall across parties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fairness: Option<Fairness>,
}

/// Party `to` may draw from the depots of party `from` up to `max_tonnes` (t/yr, summed over
/// the materials it covers) and up to `max_fraction` of `from`'s stock of each material. At least
/// one limit must be given; both may be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Allowance {
    /// Party whose depots release.
    pub from: String,
    /// Party whose demand draws.
    pub to: String,
    /// Material the allowance covers; every material when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<String>,
    /// Most tonnes released from `from`'s depots to `to`'s demand in a scenario, t/yr.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tonnes: Option<f64>,
    /// Most share (0..1) of `from`'s stock of a material released to `to` in a scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fraction: Option<f64>,
}

/// Fairness across parties. A party's expected shortfall fraction is
/// `sum_w p_w sum_{d of the party} shortfall_{d,w} / sum_{d of the party} demand_d`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fairness {
    /// Upper bound (0..1) on every party's expected shortfall fraction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_shortfall_fraction: Option<f64>,
    /// Minimise the largest expected shortfall fraction across parties first, then the cost of
    /// the plans that achieve it (lexicographic: two solves).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub min_max: bool,
}
