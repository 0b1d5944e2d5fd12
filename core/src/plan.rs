//! A plan: the first-stage decisions (what is built, hardened and stocked), saved by
//! `solve --plan-out` and read back by `evaluate`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The first-stage decisions of a solve.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Every site, by id.
    pub sites: BTreeMap<String, SiteDecision>,
    /// Every depot, by id.
    #[serde(default)]
    pub depots: BTreeMap<String, DepotDecision>,
    /// Single-source assignments: demand id -> site id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub assignments: BTreeMap<String, String>,
}

/// What the plan does at one site.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteDecision {
    /// Open.
    pub open: bool,
    /// Modules (existing included).
    pub modules: u32,
    /// Hardening option id, if one is chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardening: Option<String>,
}

/// What the plan does at one depot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DepotDecision {
    /// Open.
    pub open: bool,
    /// Stock by material id, t.
    #[serde(default)]
    pub stock: BTreeMap<String, f64>,
}
