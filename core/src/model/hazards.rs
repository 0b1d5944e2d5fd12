//! Hazards in the file format: kinds, scopes and rates from which scenarios are sampled.

use super::*;

/// Kind of threat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HazardKind {
    /// Earthquake, flood, cyclone, fire.
    Natural,
    /// Cyber intrusion.
    Cyber,
    /// Export controls, sanctions, unrest.
    Political,
    /// Shipping lane or port closure.
    Transport,
    /// Sabotage, accident, labour action or anything else.
    Other,
}

/// What a hazard hits: every node or route in its scope at once (correlated losses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum HazardScope {
    /// One supplier, site, depot or route, by id.
    Node {
        /// Node or route id.
        id: String,
    },
    /// Every supplier, site and depot whose `region` matches (within `country` when given).
    Region {
        /// Region name, as in the nodes' `region`.
        region: String,
        /// Country code, to tell same-named regions apart.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        country: Option<String>,
    },
    /// Every supplier, site and depot in a country.
    Country {
        /// Country code.
        country: String,
    },
    /// Every route through a chokepoint.
    Chokepoint {
        /// Chokepoint name, as in the routes' `chokepoints`.
        name: String,
    },
    /// Every route from the country to another country (an export embargo).
    Embargo {
        /// Country code of the exporter.
        country: String,
    },
}

/// A threat (DESIGN §2, §3). While it lasts, everything in its scope keeps `availability` of its
/// capacity; over a year that is `1 - duration * (1 - availability)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hazard {
    /// Unique id, named by hardening options and scenarios.
    pub id: String,
    /// Kind of threat.
    pub kind: HazardKind,
    /// What it hits.
    pub scope: HazardScope,
    /// Probability that it happens in a year, 0..1.
    pub probability: f64,
    /// Share of capacity left while it lasts, 0..1.
    pub availability: f64,
    /// How long it lasts, as a fraction of the year, 0..1.
    pub duration: f64,
    /// Free-text description and source.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl Hazard {
    /// Annual availability left in its scope when it happens: `1 - duration * (1 - availability)`.
    pub fn annual_availability(&self) -> f64 {
        1.0 - self.duration * (1.0 - self.availability)
    }
}
