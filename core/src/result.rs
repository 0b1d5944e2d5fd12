//! What a solve returns: the plan, what it costs, how it fares in each scenario and how close
//! it sits to each policy limit. Plain data, serialised as the CLI's `--json` output.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{RiskMeasure, RiskOn};
use crate::plan::Plan;
use crate::solver::mip::ModelSize;
use crate::solver::{Method, Settings, Status};

/// The answer to a siting solve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SolveResult {
    /// How the solve ended.
    pub status: Status,
    /// Whether a plan is available (an optimal or incumbent solution).
    pub has_solution: bool,
    /// Objective of the plan (expected annual cost), currency/yr.
    pub objective: Option<f64>,
    /// Best proven lower bound on the objective.
    pub best_bound: Option<f64>,
    /// Relative gap between objective and bound.
    pub mip_gap: Option<f64>,
    /// Seconds in HiGHS.
    pub runtime_s: f64,
    /// Seconds spent building the MIP.
    pub build_s: f64,
    /// Model size as HiGHS saw it.
    pub model_size: ModelSize,
    /// Rows per constraint family.
    pub rows_by_family: BTreeMap<String, usize>,
    /// HiGHS's own status name.
    pub solver_detail: String,
    /// Currency of every money figure.
    pub currency: String,
    /// Cost breakdown of the plan.
    pub costs: Option<CostBreakdown>,
    /// Every site, open or not.
    pub sites: Vec<SitePlan>,
    /// Every depot.
    pub depots: Vec<DepotPlan>,
    /// Single-source assignments (demand id -> site id).
    pub assignments: BTreeMap<String, String>,
    /// Outcome in each scenario.
    pub scenarios: Vec<ScenarioOutcome>,
    /// Route flows: base scenario and probability-weighted expectation (non-zero only).
    pub flows: Vec<FlowResult>,
    /// Unmet demand by demand node and scenario (non-zero only).
    pub shortfall: Vec<ShortfallResult>,
    /// Each policy constraint with its value and slack.
    pub policies: Vec<PolicyResult>,
    /// Why the model is infeasible, when it is and the policies are to blame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
    /// The first-stage decisions, as `--plan-out` saves them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// The risk measure of the plan, when the model sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskReport>,
    /// How N-k survivability was enforced, when the model asks for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survivability: Option<SurvivabilityReport>,
    /// The settings the solve ran with.
    pub settings: Settings,
    /// The method that ran: `extensive` (one MIP) or `benders` (decomposition).
    #[serde(default = "extensive")]
    pub method: Method,
    /// What the decomposition did, when Benders ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decomposition: Option<DecompositionReport>,
}

fn extensive() -> Method {
    Method::Extensive
}

/// What a Benders decomposition did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DecompositionReport {
    /// Scenarios.
    pub scenarios: usize,
    /// Distinct second-stage LPs among them (scenarios in which the same things fail share one).
    pub distinct_scenarios: usize,
    /// Cut groups: one epigraph variable per group (multi-cut when it equals `scenarios`).
    pub cut_groups: usize,
    /// Master iterations on the LP relaxation (the first phase).
    pub lp_iterations: u64,
    /// Master iterations with integer first stage.
    pub integer_iterations: u64,
    /// Optimality and feasibility cuts added to the master.
    pub cuts: u64,
    /// Bound of the LP relaxation reached by the first phase, currency/yr.
    pub lp_bound: Option<f64>,
    /// Second-stage LPs solved.
    pub subproblem_solves: u64,
    /// Seconds in the master (LP and MIP).
    pub master_s: f64,
    /// Seconds in the scenario LPs (wall clock, all threads).
    pub subproblems_s: f64,
}

/// The plan's risk, computed from its scenario outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RiskReport {
    /// Measure.
    pub measure: RiskMeasure,
    /// Quantity.
    pub on: RiskOn,
    /// CVaR level.
    pub beta: f64,
    /// Value: currency/yr for cost, t/yr for shortfall.
    pub value: f64,
}

/// How N-k survivability was enforced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SurvivabilityReport {
    /// Largest number of simultaneous losses.
    pub k: u32,
    /// `enumeration` (every contingency in the MIP) or `constraint_generation`.
    pub method: String,
    /// Contingencies in the N-k set.
    pub contingencies: usize,
    /// Contingencies that ended up in the MIP.
    pub in_model: usize,
    /// MIP solves.
    pub iterations: usize,
    /// Contingencies the plan fails (protected demand short beyond the allowed fraction): only
    /// when constraint generation stopped at a limit before it could add them; empty when the
    /// plan survives every contingency.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_survived: Vec<String>,
}

/// Annual cost of the plan by kind, currency/yr.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CostBreakdown {
    /// Site opening and new modules (annualised).
    pub investment: f64,
    /// Depot opening and stock holding.
    pub stockpile: f64,
    /// Expected supply, processing, transport and release cost.
    pub expected_operating: f64,
    /// Expected shortfall penalty.
    pub expected_shortfall_penalty: f64,
}

/// The plan for one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SitePlan {
    /// Site id.
    pub id: String,
    /// Site name.
    pub name: String,
    /// Country code.
    pub country: String,
    /// Output material.
    pub output: String,
    /// Open in the plan.
    pub open: bool,
    /// Modules in the plan.
    pub modules: u32,
    /// Modules built new (modules - existing).
    pub new_modules: u32,
    /// Output capacity, t/yr.
    pub capacity: f64,
    /// Output in the base scenario (or the first scenario when the base carries no weight), t/yr.
    pub base_output: f64,
}

/// The plan for one depot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DepotPlan {
    /// Depot id.
    pub id: String,
    /// Country code.
    pub country: String,
    /// Open in the plan.
    pub open: bool,
    /// Stock by material, t.
    pub stock: BTreeMap<String, f64>,
}

/// How the plan fares in one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioOutcome {
    /// Scenario id.
    pub id: String,
    /// Probability.
    pub probability: f64,
    /// Supply, processing, transport and release cost, currency/yr.
    pub operating_cost: f64,
    /// Unmet demand, t/yr.
    pub shortfall_t: f64,
    /// Unmet demand as a share of all demand.
    pub shortfall_share: f64,
    /// Penalty for unmet demand, currency/yr.
    pub shortfall_penalty: f64,
    /// Ids of what the scenario disrupts, with the availability left.
    pub disrupted: Vec<(String, f64)>,
}

/// Flow on one route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FlowResult {
    /// Route id.
    pub route: String,
    /// From node id.
    pub from: String,
    /// To node id.
    pub to: String,
    /// Material carried.
    pub material: String,
    /// Flow in the base (or first) scenario, t/yr.
    pub base: f64,
    /// Probability-weighted flow, t/yr.
    pub expected: f64,
}

/// Unmet demand at one node in one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShortfallResult {
    /// Demand node id.
    pub demand: String,
    /// Priority of the demand.
    pub priority: u32,
    /// Scenario id.
    pub scenario: String,
    /// Unmet demand, t/yr.
    pub shortfall_t: f64,
}

/// One policy constraint, its limit, the plan's value and the slack between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PolicyResult {
    /// Constraint family: `site_share`, `country_share`, `trusted_share`, `open_sites_min`,
    /// `open_sites_max`, `min_countries`, `min_separation_km`, `budget`.
    pub family: String,
    /// What it constrains: a site id, a country code, `all`.
    pub subject: String,
    /// Material, for per-material families.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<String>,
    /// `<=` or `>=`.
    pub sense: String,
    /// The limit (a share 0..1, a count, km or money).
    pub limit: f64,
    /// The plan's value in the same unit.
    pub value: f64,
    /// Distance from the limit, in the same unit; >= 0 when the constraint holds.
    pub slack: f64,
    /// Whether the constraint is at its limit.
    pub binding: bool,
}

/// What makes a model infeasible: the constraints that cannot all hold and the least violation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Diagnosis {
    /// One entry per constraint that cannot hold.
    pub violations: Vec<Violation>,
}

/// One constraint that cannot hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Violation {
    /// Constraint family (see [`PolicyResult::family`]) or `demand` for hard demand.
    pub family: String,
    /// What it constrains.
    pub subject: String,
    /// Material, where it applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<String>,
    /// The limit asked for.
    pub limit: f64,
    /// The value closest to it that the rest of the model allows (elastic re-solve).
    pub least_achievable: f64,
    /// Readable explanation.
    pub message: String,
}
