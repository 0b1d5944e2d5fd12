//! Joint stockpiles across allied parties and fair cost sharing (DESIGN §4.2).
//!
//! The joint plan is the siting model of the whole model (every party), with the sharing
//! agreement's rows and the fairness rules (see [`SitingProblem`](crate::SitingProblem)'s
//! `add_sharing` and `add_fairness`). Its cost is divided among the parties by the cooperative
//! game whose characteristic function is `v(S)`, the optimal cost of coalition `S` planning
//! alone ([`coalition_model`]).
//!
//! What a coalition owns (the choice this module makes, and why): parties own their **demand
//! nodes and depots** -- the stockpiles and the needs they are argued over. Suppliers, sites
//! and the routes between them are the **shared market and industrial base**: no party owns
//! them, and a coalition planning alone gets its share of them, in proportion to its demand
//! (`alpha_S = demand of S / all demand`, at least 1e-6): supplier capacity, site module
//! capacity, the capacity of routes between two shared nodes and the investment budget are
//! scaled by `alpha_S`. Giving every coalition the whole market instead would let each party
//! alone count on supply that the others also count on, so standing alone would look cheaper
//! than it is and the game would lose subadditivity exactly where supply is short, which is when
//! stockpiles matter. With the scaling, the union of two disjoint coalitions' plans is a plan for
//! their union (for expected-cost models without hardening, min-max fairness or N-k rules), so
//! `v` is subadditive and pooling never costs more than standing apart.

mod allocate;
mod joint;

pub use allocate::{coalitions_needed, joint_plan, share, share_from_values};
pub use joint::{coalition_model, coalition_value, solve_joint};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::analysis::game::{
    coalition_sum, prefixes, sample_orders, shapley_sampled, CoreCheck, Game, EXACT_SHAPLEY_UP_TO,
};
use crate::error::{InputError, Problem};
use crate::formulation::{BuildOptions, SitingProblem};
use crate::model::{Allowance, Fairness, HazardScope, Model, Sharing};
use crate::network::Network;
use crate::plan::Plan;
use crate::result::SolveResult;
use crate::scenario::ScenarioSet;
use crate::solve::solve_siting;
use crate::solver::{solve_mip, Settings, SolveControl, Status};
use crate::StockadeError;

/// How the joint cost is divided: the headline rule of the report (every rule is computed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// In proportion to each party's demand (t/yr).
    Proportional,
    /// In proportion to the expected shortfall (t/yr) the joint plan avoids for each party,
    /// against the same model with the existing stockpiles only and no fairness rules.
    Avoided,
    /// The Shapley value of the coalition game.
    #[default]
    Shapley,
    /// The nucleolus of the coalition game (lexicographically largest smallest surplus).
    Nucleolus,
}

impl Rule {
    /// The snake_case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Proportional => "proportional",
            Rule::Avoided => "avoided",
            Rule::Shapley => "shapley",
            Rule::Nucleolus => "nucleolus",
        }
    }
}

/// How to run the cost-sharing analysis. `Default` is the only source of defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ShareSettings {
    /// Solver settings of every coalition solve.
    pub solver: Settings,
    /// Headline rule of the report.
    pub rule: Rule,
    /// Coalition models solved at once (rayon workers); none for one per core.
    pub workers: Option<usize>,
    /// Random orders for the sampled Shapley value (more than 12 parties).
    pub shapley_orders: usize,
    /// Seed of the sampled orders.
    pub seed: u64,
}

impl Default for ShareSettings {
    fn default() -> Self {
        ShareSettings {
            solver: Settings::default(),
            rule: Rule::Shapley,
            workers: None,
            shapley_orders: 200,
            seed: 1,
        }
    }
}

/// The answer to `stockade share`: the joint plan, what each party would pay alone, how the
/// joint cost is divided under each rule, whether the division is stable, and the gain from
/// cooperating. Money in `currency` per year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShareReport {
    /// Name of the model.
    pub model: String,
    /// Currency of every money figure.
    pub currency: String,
    /// The agreement the joint plan obeys.
    pub sharing: Sharing,
    /// Per-pair allowances of the agreement.
    pub allowances: Vec<Allowance>,
    /// Fairness rules of the agreement, if any.
    pub fairness: Option<Fairness>,
    /// Headline rule.
    pub rule: Rule,
    /// The joint plan (grand coalition).
    pub joint: JointPlan,
    /// Each party: stand-alone cost, allocation under every rule, savings.
    pub parties: Vec<PartyShare>,
    /// Sum of stand-alone costs minus the joint cost (currency/yr); `None` when a value is
    /// missing.
    pub cooperation_gain: Option<f64>,
    /// Cooperation gain as a share of the stand-alone total.
    pub cooperation_gain_share: Option<f64>,
    /// Each rule's allocation and its stability.
    pub allocations: Vec<Allocation>,
    /// The core check (up to 12 parties, every coalition value known).
    pub core: Option<CoreReport>,
    /// Whether the nucleolus is the classical one (over imputations) or the prenucleolus.
    pub nucleolus_over_imputations: Option<bool>,
    /// Every coalition solved, in bitmask order.
    pub coalitions: Vec<CoalitionValue>,
    /// The joint cost under the other sharing mode (pooled vs national), for the value of the
    /// agreement itself.
    pub other_sharing: Option<OtherSharing>,
    /// What the reader must know: sampling errors, time limits, missing values.
    pub notes: Vec<String>,
    /// Wall-clock seconds of the whole analysis.
    pub runtime_s: f64,
}

/// The joint plan in brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JointPlan {
    /// How the grand-coalition solve ended.
    pub status: Status,
    /// Expected annual cost, currency/yr.
    pub cost: Option<f64>,
    /// Relative MIP gap.
    pub mip_gap: Option<f64>,
    /// Stock held at each depot that holds any.
    pub stock: Vec<HeldStock>,
    /// Expected releases between parties, t/yr: `from` party's depots to `to` party's demand.
    pub releases: Vec<Release>,
    /// The largest expected shortfall fraction across parties (min-max fairness only).
    pub max_shortfall_fraction: Option<f64>,
    /// The full result of the grand-coalition solve.
    pub result: SolveResult,
}

/// What one open depot of the joint plan holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HeldStock {
    /// Depot id.
    pub depot: String,
    /// Owning party id.
    pub party: String,
    /// Tonnes by material id.
    pub stock: BTreeMap<String, f64>,
}

/// Expected tonnes released from one party's depots to another party's demand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Release {
    /// Depot owner.
    pub from: String,
    /// Demand party.
    pub to: String,
    /// Material id.
    pub material: String,
    /// Probability-weighted tonnes per year.
    pub expected_t: f64,
}

/// One party's side of the deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PartyShare {
    /// Party id.
    pub id: String,
    /// Party name.
    pub name: String,
    /// Total demand of the party, t/yr.
    pub demand_t: f64,
    /// v({i}): what it pays planning alone, currency/yr.
    pub stand_alone: Option<f64>,
    /// Cost allocated by the headline rule.
    pub allocated: Option<f64>,
    /// Stand-alone minus allocated (what the agreement saves it), currency/yr.
    pub savings: Option<f64>,
    /// Savings as a share of the stand-alone cost.
    pub savings_share: Option<f64>,
    /// Expected shortfall fraction of its demand in the joint plan (none without a joint plan).
    pub shortfall_joint: Option<f64>,
    /// Expected shortfall fraction of its demand planning alone.
    pub shortfall_alone: Option<f64>,
}

/// One rule's division of the joint cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Allocation {
    /// The rule.
    pub rule: Rule,
    /// Cost by party, in party order.
    pub cost: Vec<f64>,
    /// Standard error by party (sampled Shapley only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std_error: Option<Vec<f64>>,
    /// In the core: no coalition pays more than alone (`None` when not every value is known).
    pub in_core: Option<bool>,
    /// The coalition charged most beyond its stand-alone cost, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objection: Option<CoalitionObjection>,
}

/// A coalition that would rather walk away.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CoalitionObjection {
    /// Party ids.
    pub coalition: Vec<String>,
    /// What the allocation charges it, currency/yr.
    pub charged: f64,
    /// What it pays alone, currency/yr.
    pub alone: f64,
}

/// The core check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CoreReport {
    /// Whether a stable allocation exists.
    pub nonempty: bool,
    /// The least-core surplus: the largest saving every proper coalition can be guaranteed
    /// at once (negative when the core is empty: then some coalition must pay more than alone).
    pub least_core_surplus: f64,
    /// An allocation achieving it, by party.
    pub allocation: Vec<f64>,
}

/// One coalition's stand-alone optimum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CoalitionValue {
    /// Party ids.
    pub coalition: Vec<String>,
    /// Bitmask (party i is bit i, in the order of `parties`).
    pub mask: u64,
    /// How the solve ended.
    pub status: Status,
    /// v(S), currency/yr: the optimum, or the incumbent at a time limit (an upper bound).
    pub cost: Option<f64>,
    /// Relative MIP gap of the value.
    pub mip_gap: Option<f64>,
}

/// The joint plan's cost under the other sharing mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OtherSharing {
    /// The other mode.
    pub sharing: Sharing,
    /// How that solve ended.
    pub status: Status,
    /// Its cost, currency/yr.
    pub cost: Option<f64>,
}

/// A joint solve: the result and, under min-max fairness, the largest party shortfall fraction.
pub type JointOutcome = (SolveResult, Option<f64>);

/// Progress of the coalition solves: (done, total).
pub type ShareProgress<'a> = &'a (dyn Fn(usize, usize) + Sync);
