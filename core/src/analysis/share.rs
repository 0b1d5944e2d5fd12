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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldStock {
    /// Depot id.
    pub depot: String,
    /// Owning party id.
    pub party: String,
    /// Tonnes by material id.
    pub stock: BTreeMap<String, f64>,
}

/// Expected tonnes released from one party's depots to another party's demand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoalitionObjection {
    /// Party ids.
    pub coalition: Vec<String>,
    /// What the allocation charges it, currency/yr.
    pub charged: f64,
    /// What it pays alone, currency/yr.
    pub alone: f64,
}

/// The core check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// The model coalition `mask` plans alone with (see the module documentation): the other
/// parties' depots and demand removed with their routes; shared suppliers, sites and routes
/// between shared nodes scaled to the coalition's share of demand; references to removed nodes
/// dropped from scenarios and hazards; allowances kept among the coalition's parties only.
pub fn coalition_model(net: &Network, mask: u64) -> Model {
    let m = &net.model;
    let mut out = m.clone();
    let in_s = |p: Option<usize>| p.is_some_and(|i| mask & (1 << i) != 0);
    let total: f64 = m.demand.iter().map(|d| d.demand).sum();
    let ours: f64 = m
        .demand
        .iter()
        .zip(&net.demand_party)
        .filter(|(_, p)| in_s(**p))
        .map(|(d, _)| d.demand)
        .sum();
    let alpha = if total > 0.0 {
        (ours / total).max(1e-6)
    } else {
        1.0
    };
    let full = mask == (1u64 << m.parties.len()) - 1;
    if full {
        return out;
    }
    let mut removed: BTreeSet<String> = BTreeSet::new();
    out.depots = m
        .depots
        .iter()
        .zip(&net.depot_party)
        .filter_map(|(d, p)| {
            if in_s(*p) {
                Some(d.clone())
            } else {
                removed.insert(d.id.clone());
                None
            }
        })
        .collect();
    out.demand = m
        .demand
        .iter()
        .zip(&net.demand_party)
        .filter_map(|(d, p)| {
            if in_s(*p) {
                Some(d.clone())
            } else {
                removed.insert(d.id.clone());
                None
            }
        })
        .collect();
    for s in &mut out.suppliers {
        s.capacity *= alpha;
    }
    for s in &mut out.sites {
        s.module_capacity *= alpha;
    }
    let shared: BTreeSet<&str> = m
        .suppliers
        .iter()
        .map(|s| s.id.as_str())
        .chain(m.sites.iter().map(|s| s.id.as_str()))
        .collect();
    let mut removed_routes = BTreeSet::new();
    out.routes = m
        .routes
        .iter()
        .filter_map(|r| {
            if removed.contains(&r.from) || removed.contains(&r.to) {
                removed_routes.insert(r.key());
                return None;
            }
            let mut r = r.clone();
            if shared.contains(r.from.as_str()) && shared.contains(r.to.as_str()) {
                r.capacity = r.capacity.map(|c| c * alpha);
            }
            Some(r)
        })
        .collect();
    if let Some(b) = out.policies.budget.as_mut() {
        *b *= alpha;
    }
    if let Some(a) = out.agreement.as_mut() {
        let keep = |id: &str| {
            m.parties
                .iter()
                .position(|p| p.id == id)
                .is_some_and(|i| mask & (1 << i) != 0)
        };
        a.allowances.retain(|al| keep(&al.from) && keep(&al.to));
    }
    // Hazards and scenarios must only name what is left.
    let chokepoints: BTreeSet<&String> = out.routes.iter().flat_map(|r| &r.chokepoints).collect();
    let regions: BTreeSet<&String> = out
        .suppliers
        .iter()
        .map(|n| &n.region)
        .chain(out.sites.iter().map(|n| &n.region))
        .chain(out.depots.iter().map(|n| &n.region))
        .collect();
    let gone = |id: &String| removed.contains(id) || removed_routes.contains(id);
    let dropped_hazards: BTreeSet<String> = m
        .hazards
        .iter()
        .filter(|h| match &h.scope {
            HazardScope::Node { id } => gone(id),
            HazardScope::Region { region, .. } => !regions.contains(region),
            HazardScope::Chokepoint { name } => !chokepoints.contains(name),
            HazardScope::Country { .. } | HazardScope::Embargo { .. } => false,
        })
        .map(|h| h.id.clone())
        .collect();
    out.hazards.retain(|h| !dropped_hazards.contains(&h.id));
    for s in &mut out.sites {
        for h in &mut s.hardening {
            h.hazards.retain(|x| !dropped_hazards.contains(x));
        }
    }
    for sc in &mut out.scenarios {
        sc.availability.retain(|k, _| !gone(k));
        sc.closed_chokepoints.retain(|c| chokepoints.contains(c));
        sc.hazards.retain(|x| !dropped_hazards.contains(x));
    }
    out
}

/// Party ids of a coalition.
fn names(net: &Network, mask: u64) -> Vec<String> {
    crate::analysis::game::members(mask, net.model.parties.len())
        .into_iter()
        .map(|i| net.model.parties[i].id.clone())
        .collect()
}

/// Solves the joint model of a validated network: the siting MIP with the agreement, and with
/// min-max fairness lexicographically (first the smallest largest expected shortfall fraction,
/// then the cheapest plan that achieves it). Returns the result and the min-max level.
pub fn solve_joint(
    net: &Network,
    settings: &Settings,
    control: &SolveControl,
) -> Result<JointOutcome, StockadeError> {
    let scenarios = ScenarioSet::explicit(net);
    let fairness = net
        .model
        .agreement
        .as_ref()
        .and_then(|a| a.fairness.clone())
        .unwrap_or_default();
    if !fairness.min_max || net.model.parties.is_empty() {
        return Ok((solve_siting(net, &scenarios, settings, control)?, None));
    }
    let contingencies = net
        .model
        .policies
        .survivability
        .as_ref()
        .map(|sv| ScenarioSet::contingencies(net, sv.k, &sv.targets))
        .unwrap_or_default();
    let options = BuildOptions {
        contingencies: &contingencies,
        min_max_phase_one: true,
        ..BuildOptions::default()
    };
    let phase_one = SitingProblem::build(net, &scenarios, &options);
    let run = solve_mip(&phase_one.mip, settings, control)?;
    let Some(level) = run.objective.filter(|_| run.has_solution) else {
        // No plan at all: the second phase says why (infeasible, with its diagnosis).
        return Ok((solve_siting(net, &scenarios, settings, control)?, None));
    };
    // Phase two: the level as a bound, with room for the first phase's tolerances.
    let level = level.max(0.0);
    let bound = level * (1.0 + 1e-6) + 1e-7;
    let mut model = net.model.clone();
    if let Some(a) = model.agreement.as_mut() {
        a.fairness = Some(Fairness {
            max_shortfall_fraction: Some(
                fairness
                    .max_shortfall_fraction
                    .map_or(bound, |b| b.min(bound)),
            ),
            min_max: false,
        });
    }
    let net2 = Network::new_allowing_unreached_demand(model)?;
    let scenarios2 = ScenarioSet::explicit(&net2);
    Ok((
        solve_siting(&net2, &scenarios2, settings, control)?,
        Some(level),
    ))
}

/// v(S) of one coalition (a bit mask over `parties`): its model, validated, solved jointly;
/// with the fairness level of the min-max phase, when there is one.
pub fn coalition_value(
    net: &Network,
    mask: u64,
    settings: &Settings,
) -> Result<JointOutcome, StockadeError> {
    let model = coalition_model(net, mask);
    let sub = Network::new_allowing_unreached_demand(model).map_err(|e| {
        let who = names(net, mask).join(", ");
        StockadeError::Input(InputError {
            problems: e
                .problems
                .into_iter()
                .map(|p| Problem {
                    message: format!(
                        "in the model of coalition {{{who}}} planning alone: {}",
                        p.message
                    ),
                    ..p
                })
                .collect(),
        })
    })?;
    solve_joint(&sub, settings, &SolveControl::default())
}

/// Expected shortfall fraction of every party in a result.
fn party_shortfall(net: &Network, result: &SolveResult) -> Vec<f64> {
    let m = &net.model;
    let prob: HashMap<&str, f64> = result
        .scenarios
        .iter()
        .map(|s| (s.id.as_str(), s.probability))
        .collect();
    let party_of: HashMap<&str, Option<usize>> = m
        .demand
        .iter()
        .zip(&net.demand_party)
        .map(|(d, p)| (d.id.as_str(), *p))
        .collect();
    let mut short = vec![0.0; m.parties.len()];
    for s in &result.shortfall {
        if let (Some(Some(i)), Some(p)) = (
            party_of.get(s.demand.as_str()),
            prob.get(s.scenario.as_str()),
        ) {
            short[*i] += p * s.shortfall_t;
        }
    }
    let demand = party_demand(net);
    short
        .iter()
        .zip(&demand)
        .map(|(s, d)| if *d > 0.0 { s / d } else { 0.0 })
        .collect()
}

fn party_demand(net: &Network) -> Vec<f64> {
    let mut out = vec![0.0; net.model.parties.len()];
    for (d, p) in net.model.demand.iter().zip(&net.demand_party) {
        if let Some(i) = p {
            out[*i] += d.demand;
        }
    }
    out
}

/// Expected releases between parties in the joint plan, from its scenario flows.
fn releases(net: &Network, problem_flows: &SolveResult) -> Vec<Release> {
    let m = &net.model;
    let mut by: BTreeMap<(usize, usize, String), f64> = BTreeMap::new();
    for f in &problem_flows.flows {
        let Some(e) = net.route(&f.route) else {
            continue;
        };
        if let (Some(a), Some(b)) = net.release_parties(e) {
            if a != b {
                *by.entry((a, b, f.material.clone())).or_default() += f.expected;
            }
        }
    }
    by.into_iter()
        .map(|((a, b, material), expected)| Release {
            from: m.parties[a].id.clone(),
            to: m.parties[b].id.clone(),
            material,
            expected_t: expected,
        })
        .collect()
}

/// The cost-sharing analysis of a model with parties: the joint plan, every coalition's
/// stand-alone optimum (2^n - 1 solves in parallel; up to 12 parties, or the sampled ones
/// beyond), the Shapley value (exact or sampled with standard errors), the core check, the
/// nucleolus, proportional divisions and the cooperation gain.
pub fn share(
    net: &Network,
    settings: &ShareSettings,
    progress: ShareProgress<'_>,
) -> Result<ShareReport, StockadeError> {
    let started = Instant::now();
    let masks = coalitions_needed(net, settings)?;
    let total = masks.len() + 2; // plus the baseline and the other sharing mode
    let done = AtomicUsize::new(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.workers.unwrap_or(0))
        .build()
        .map_err(|e| StockadeError::Solver(format!("cannot start the worker pool: {e}")))?;
    progress(0, total);
    let solved: Vec<(u64, Result<JointOutcome, StockadeError>)> = pool.install(|| {
        masks
            .par_iter()
            .map(|&s| {
                let r = coalition_value(net, s, &settings.solver);
                progress(done.fetch_add(1, Ordering::SeqCst) + 1, total);
                (s, r)
            })
            .collect()
    });
    let solved = solved
        .into_iter()
        .map(|(s, r)| r.map(|v| (s, v)))
        .collect::<Result<Vec<_>, _>>()?;
    combine(net, settings, solved, progress, &done, total, started)
}

/// The coalitions (bit masks over `parties`) whose stand-alone value the analysis needs: every
/// one up to 12 parties; beyond, the prefixes of the sampled orders, every single party and the
/// grand coalition.
pub fn coalitions_needed(
    net: &Network,
    settings: &ShareSettings,
) -> Result<Vec<u64>, StockadeError> {
    let n = net.model.parties.len();
    if n == 0 {
        return Err(InputError::single(
            "parties",
            "cost sharing needs at least one party (list `parties`)",
        )
        .into());
    }
    let grand = (1u64 << n) - 1;
    let mut masks: BTreeSet<u64> = if n <= EXACT_SHAPLEY_UP_TO {
        (1..=grand).collect()
    } else {
        prefixes(&orders_for(n, settings))
    };
    for i in 0..n {
        masks.insert(1 << i);
    }
    masks.insert(grand);
    Ok(masks.into_iter().collect())
}

/// The random orders of the sampled Shapley value (none when it is exact); the same for the same
/// settings, wherever they are drawn.
fn orders_for(n: usize, settings: &ShareSettings) -> Vec<Vec<usize>> {
    if n <= EXACT_SHAPLEY_UP_TO {
        Vec::new()
    } else {
        sample_orders(n, settings.shapley_orders.max(2), settings.seed)
    }
}

/// The analysis from coalition values solved elsewhere (the Python package's Ray backend sends
/// each [`coalition_value`] out as a task): `solved` must hold every coalition of
/// [`coalitions_needed`]. The baseline and the other sharing mode are solved here; `runtime_s`
/// counts from this call.
pub fn share_from_values(
    net: &Network,
    settings: &ShareSettings,
    solved: Vec<(u64, JointOutcome)>,
    progress: ShareProgress<'_>,
) -> Result<ShareReport, StockadeError> {
    let started = Instant::now();
    let needed = coalitions_needed(net, settings)?;
    let have: BTreeSet<u64> = solved.iter().map(|(s, _)| *s).collect();
    let missing: Vec<u64> = needed
        .iter()
        .filter(|s| !have.contains(s))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(InputError::single(
            "coalitions",
            format!(
                "{} coalition value(s) missing, e.g. mask {}",
                missing.len(),
                missing[0]
            ),
        )
        .into());
    }
    let total = solved.len() + 2;
    let done = AtomicUsize::new(solved.len());
    combine(net, settings, solved, progress, &done, total, started)
}

/// Everything after the coalition solves.
fn combine(
    net: &Network,
    settings: &ShareSettings,
    solved: Vec<(u64, JointOutcome)>,
    progress: ShareProgress<'_>,
    done: &AtomicUsize,
    total: usize,
    started: Instant,
) -> Result<ShareReport, StockadeError> {
    let m = &net.model;
    let n = m.parties.len();
    let grand = (1u64 << n) - 1;
    let exact = n <= EXACT_SHAPLEY_UP_TO;
    let orders = orders_for(n, settings);
    let mut values: HashMap<u64, (Status, Option<f64>, Option<f64>)> = HashMap::new();
    let mut singles: HashMap<u64, SolveResult> = HashMap::new();
    let mut joint: Option<(SolveResult, Option<f64>)> = None;
    for (s, (result, level)) in solved {
        let cost = result.objective.filter(|_| result.has_solution);
        values.insert(s, (result.status, cost, result.mip_gap));
        if s == grand {
            joint = Some((result, level));
        } else if s.count_ones() == 1 {
            singles.insert(s, result);
        }
    }
    let Some((joint_result, level)) = joint else {
        return Err(StockadeError::Solver(
            "the grand coalition was not solved".into(),
        ));
    };

    // The baseline for `avoided`: the existing stockpiles only (every depot's capacity cut to
    // what it already holds); and the joint cost under the other sharing mode.
    // Fairness rules are left out of the baseline: they would move the no-deal shortfall between
    // parties, and `avoided` asks what the stockpiles protect each party from.
    let mut baseline = m.clone();
    for d in &mut baseline.depots {
        d.capacity = d.existing_stock.values().sum();
    }
    if let Some(a) = baseline.agreement.as_mut() {
        a.fairness = None;
    }
    let baseline_net = Network::new(baseline)?;
    let (baseline_result, _) =
        solve_joint(&baseline_net, &settings.solver, &SolveControl::default())?;
    progress(done.fetch_add(1, Ordering::SeqCst) + 1, total);
    let other_mode = match m.agreement.as_ref().map(|a| a.sharing).unwrap_or_default() {
        Sharing::Pooled => Sharing::National,
        Sharing::National => Sharing::Pooled,
    };
    let mut other = m.clone();
    other.agreement.get_or_insert_with(Default::default).sharing = other_mode;
    let other_net = Network::new(other)?;
    let (other_result, _) = solve_joint(&other_net, &settings.solver, &SolveControl::default())?;
    progress(done.fetch_add(1, Ordering::SeqCst) + 1, total);

    let mut notes = Vec::new();
    let cost_of = |s: u64| values.get(&s).and_then(|v| v.1);
    let mut limited = 0;
    let mut missing = Vec::new();
    let mut worst_gap: f64 = 0.0;
    for (s, (status, cost, gap)) in &values {
        if cost.is_none() {
            missing.push(format!(
                "{{{}}} ({})",
                names(net, *s).join(", "),
                status.as_str()
            ));
        } else if *status != Status::Optimal {
            limited += 1;
            worst_gap = worst_gap.max(gap.unwrap_or(0.0));
        }
    }
    missing.sort();
    if limited > 0 {
        notes.push(format!(
            "{limited} coalition solve(s) stopped before proving optimality; their values are upper bounds (largest gap {:.2}%)",
            100.0 * worst_gap
        ));
    }
    if !missing.is_empty() {
        let shown = 6;
        let more = if missing.len() > shown {
            format!(" and {} more", missing.len() - shown)
        } else {
            String::new()
        };
        notes.push(format!(
            "no value for {} coalition(s): {}{more}; the allocations that need them are not computed (every coalition is in `coalitions` of --json)",
            missing.len(),
            missing[..missing.len().min(shown)].join(", ")
        ));
    }

    let joint_cost = cost_of(grand);
    let stand_alone: Vec<Option<f64>> = (0..n).map(|i| cost_of(1 << i)).collect();
    let demand = party_demand(net);
    let mut allocations = Vec::new();
    // Proportional to demand.
    if let Some(c) = joint_cost {
        let d_total: f64 = demand.iter().sum();
        let cost: Vec<f64> = if d_total > 0.0 {
            demand.iter().map(|d| c * d / d_total).collect()
        } else {
            vec![c / n as f64; n]
        };
        allocations.push(allocation(Rule::Proportional, cost, None));
        // Proportional to the expected shortfall avoided.
        let before = party_shortfall(net, &baseline_result);
        let after = party_shortfall(net, &joint_result);
        let avoided: Vec<f64> = (0..n)
            .map(|i| ((before[i] - after[i]) * demand[i]).max(0.0))
            .collect();
        let a_total: f64 = avoided.iter().sum();
        if baseline_result.has_solution && a_total > 1e-9 {
            allocations.push(allocation(
                Rule::Avoided,
                avoided.iter().map(|a| c * a / a_total).collect(),
                None,
            ));
        } else {
            notes.push("the joint plan avoids no expected shortfall against the existing stockpiles, so the `avoided` division is not defined".into());
        }
    }
    // The game.
    let mut core = None;
    let mut over_imputations = None;
    let game = if exact && missing.is_empty() {
        Game::from_fn(n, |s| cost_of(s).unwrap_or(f64::NAN)).ok()
    } else {
        None
    };
    if let Some(game) = &game {
        allocations.push(allocation(Rule::Shapley, game.shapley(), None));
        let nu = game.nucleolus()?;
        over_imputations = Some(!nu.prenucleolus);
        if nu.prenucleolus {
            notes.push("the stand-alone costs sum to less than the joint cost, so no allocation is individually rational; the nucleolus shown is the prenucleolus".into());
        }
        allocations.push(allocation(Rule::Nucleolus, nu.allocation, None));
        let CoreCheck {
            nonempty,
            least_core_surplus,
            allocation: at,
        } = game.core_check()?;
        core = Some(CoreReport {
            nonempty,
            least_core_surplus,
            allocation: at,
        });
    } else if !exact && missing.is_empty() {
        let est = shapley_sampled(n, &orders, |s| cost_of(s).unwrap_or(f64::NAN));
        notes.push(format!(
            "{n} parties: the Shapley value is estimated from {} random orders (seed {}), with standard errors; the core and the nucleolus need all 2^{n} - 1 coalition values and are not computed",
            est.orders, settings.seed
        ));
        allocations.push(allocation(Rule::Shapley, est.value, Some(est.std_error)));
    }
    // Stability of each allocation against every solved coalition.
    for a in &mut allocations {
        let mut worst: Option<(u64, f64)> = None;
        let mut all_known = true;
        for s in 1..grand {
            if !exact && !values.contains_key(&s) {
                all_known = false;
                continue;
            }
            let Some(v) = cost_of(s) else {
                all_known = false;
                continue;
            };
            let excess = coalition_sum(&a.cost, s) - v;
            let tol = 1e-7 * v.abs().max(1.0);
            if excess > tol && worst.is_none_or(|(_, e)| excess > e) {
                worst = Some((s, excess));
            }
        }
        a.in_core = if worst.is_some() {
            Some(false)
        } else if all_known {
            Some(true)
        } else {
            None
        };
        a.objection = worst.map(|(s, excess)| CoalitionObjection {
            coalition: names(net, s),
            charged: cost_of(s).unwrap_or(0.0) + excess,
            alone: cost_of(s).unwrap_or(0.0),
        });
    }
    let headline = allocations
        .iter()
        .find(|a| a.rule == settings.rule)
        .map(|a| a.cost.clone());
    if headline.is_none() {
        notes.push(format!(
            "the `{}` division could not be computed; the table shows no allocated cost",
            settings.rule.as_str()
        ));
    }
    let shortfall_joint = party_shortfall(net, &joint_result);
    let parties = (0..n)
        .map(|i| {
            let p = &m.parties[i];
            let allocated = headline.as_ref().map(|h| h[i]);
            let savings = stand_alone[i].zip(allocated).map(|(a, b)| a - b);
            PartyShare {
                id: p.id.clone(),
                name: p.name.clone(),
                demand_t: demand[i],
                stand_alone: stand_alone[i],
                allocated,
                savings,
                savings_share: savings.zip(stand_alone[i]).map(|(s, a)| {
                    if a.abs() > 0.0 {
                        s / a
                    } else {
                        0.0
                    }
                }),
                shortfall_joint: joint_result.has_solution.then_some(shortfall_joint[i]),
                shortfall_alone: singles
                    .get(&(1u64 << i))
                    .filter(|r| r.has_solution)
                    .map(|r| {
                        let sub =
                            Network::new_allowing_unreached_demand(coalition_model(net, 1 << i));
                        sub.map(|sub| party_shortfall(&sub, r)[i])
                            .unwrap_or(f64::NAN)
                    }),
            }
        })
        .collect();
    let sum_alone: Option<f64> = stand_alone.iter().copied().sum();
    let cooperation_gain = sum_alone.zip(joint_cost).map(|(a, c)| a - c);
    let mut coalitions: Vec<CoalitionValue> = values
        .iter()
        .map(|(s, (status, cost, gap))| CoalitionValue {
            coalition: names(net, *s),
            mask: *s,
            status: *status,
            cost: *cost,
            mip_gap: *gap,
        })
        .collect();
    coalitions.sort_by_key(|c| c.mask);
    let stock = joint_result
        .depots
        .iter()
        .zip(&net.depot_party)
        .filter(|(d, _)| d.open && d.stock.values().any(|t| *t > 0.0))
        .map(|(d, p)| HeldStock {
            depot: d.id.clone(),
            party: p.map(|i| m.parties[i].id.clone()).unwrap_or_default(),
            stock: d.stock.clone(),
        })
        .collect();
    Ok(ShareReport {
        model: m.name.clone(),
        currency: m.currency.clone(),
        allowances: m
            .agreement
            .as_ref()
            .map(|a| a.allowances.clone())
            .unwrap_or_default(),
        sharing: m.agreement.as_ref().map(|a| a.sharing).unwrap_or_default(),
        fairness: m.agreement.as_ref().and_then(|a| a.fairness.clone()),
        rule: settings.rule,
        joint: JointPlan {
            status: joint_result.status,
            cost: joint_cost,
            mip_gap: joint_result.mip_gap,
            stock,
            releases: releases(net, &joint_result),
            max_shortfall_fraction: level,
            result: joint_result,
        },
        parties,
        cooperation_gain,
        cooperation_gain_share: cooperation_gain.zip(sum_alone).map(|(g, a)| {
            if a.abs() > 0.0 {
                g / a
            } else {
                0.0
            }
        }),
        allocations,
        core,
        nucleolus_over_imputations: over_imputations,
        coalitions,
        other_sharing: Some(OtherSharing {
            sharing: other_mode,
            status: other_result.status,
            cost: other_result.objective.filter(|_| other_result.has_solution),
        }),
        notes,
        runtime_s: started.elapsed().as_secs_f64(),
    })
}

fn allocation(rule: Rule, cost: Vec<f64>, std_error: Option<Vec<f64>>) -> Allocation {
    Allocation {
        rule,
        cost,
        std_error,
        in_core: None,
        objection: None,
    }
}

/// The plan of the joint model, for `stockade evaluate`.
pub fn joint_plan(report: &ShareReport) -> Option<&Plan> {
    report.joint.result.plan.as_ref()
}
