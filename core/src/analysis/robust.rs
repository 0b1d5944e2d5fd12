//! Min-max planning against deliberate losses (DESIGN §4.3), by cutting-plane loops around the
//! k-interdiction MIP of [`crate::interdiction`]:
//!
//! - **robust siting** ([`solve_robust`]): the plan that minimises first-stage cost plus the
//!   worst second-stage cost over every loss of up to k elements. Column-and-constraint
//!   generation: the master is the siting MIP with an epigraph variable `theta` above the
//!   second-stage cost of every loss set found so far (each with its own copy of the second
//!   stage); the subproblem is the interdiction MIP on the master's plan. The master's bound is a
//!   lower bound, first-stage cost plus the interdiction's bound an upper bound.
//! - **fortification** ([`fortify`], defender-attacker-defender): which elements to protect
//!   (at most Q, or within a budget) so that the worst loss of up to k unprotected elements costs
//!   least, for a fixed plan. The master chooses protection binaries `w` with
//!   `theta >= Q_L - (Q_L - Q_0) sum_{e in L} w_e` for every attack L found so far (Q_L its
//!   cost, Q_0 the intact cost, which every attack costs at least); the subproblem is the
//!   interdiction MIP with the protected elements excluded.
//!
//! Both report the gap on every iteration and stop at the time limit with the best answer found.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::analysis::interdiction::{
    attack_case, describe, interdict, loss_outcome, worst_case, ElementRef, WorstCase,
    WorstCaseOptions,
};
use crate::error::InputError;
use crate::formulation::{evaluation_hard_penalty, BuildOptions, SitingProblem};
use crate::model::{Risk, RiskMeasure, RiskOn};
use crate::network::Network;
use crate::plan::Plan;
use crate::result::SolveResult;
use crate::scenario::{intact, Element, ScenarioCase, ScenarioSet};
use crate::solver::mip::{Col, SparseMip};
use crate::solver::relative_gap;
use crate::solver::{solve_mip, Settings, SolveControl, Status};
use crate::StockadeError;

/// One iteration of a cutting-plane loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopIteration {
    /// 1, 2, ...
    pub iteration: usize,
    /// Proven lower bound on the optimum so far, currency/yr.
    pub lower_bound: f64,
    /// Cost of the best answer found so far (an upper bound), currency/yr.
    pub upper_bound: f64,
    /// Relative gap (upper - lower) / |upper|.
    pub gap: f64,
    /// The worst loss the subproblem found this iteration.
    pub attack: Vec<ElementRef>,
    /// Seconds since the loop started.
    pub elapsed_s: f64,
}

impl LoopIteration {
    /// The iteration after `before`, with the bounds and the attack (`lost`) it found.
    fn next(
        net: &Network,
        before: &[LoopIteration],
        lower: f64,
        upper: f64,
        lost: &[Element],
        started: Instant,
    ) -> Self {
        LoopIteration {
            iteration: before.len() + 1,
            lower_bound: lower,
            upper_bound: upper,
            gap: relative_gap(upper, lower),
            attack: lost.iter().map(|e| ElementRef::of(net, *e)).collect(),
            elapsed_s: started.elapsed().as_secs_f64(),
        }
    }
}

/// How a cutting-plane loop stops: its status, and the message of an `unknown` end.
struct LoopStop {
    status: Status,
    message: Option<String>,
}

impl LoopStop {
    fn with(status: Status) -> Option<Self> {
        Some(LoopStop {
            status,
            message: None,
        })
    }

    fn unknown(message: String) -> Option<Self> {
        Some(LoopStop {
            status: Status::Unknown,
            message: Some(message),
        })
    }
}

/// Whether a cutting-plane loop ends after an iteration, and how (none: it goes on).
///
/// - A lower bound above the upper bound beyond the tolerance is an internal error, never
///   `optimal`.
/// - At the gap, or when the attacker finds nothing: the master's and the attack's statuses.
/// - An attack already `found` is priced in the master already, so an optimal master's value is
///   then at least the plan's worst cost: the gap is closed up to `repeat_gap`, what the master's
///   own MIP gap and the attack's bound leave open (see [`repeat_proves`]). A repeated attack
///   with a wider gap means the master's bound is not what it claims (a solver fault): `unknown`.
/// - An attack subproblem not solved to optimality stops with its status.
fn loop_end(
    iteration: &LoopIteration,
    tolerance: f64,
    lost: &[Element],
    found: &[Vec<Element>],
    master: Status,
    attack: Status,
    repeat_gap: f64,
) -> Option<LoopStop> {
    let (lower, upper) = (iteration.lower_bound, iteration.upper_bound);
    if above(lower, upper, tolerance) {
        return LoopStop::unknown(format!(
            "internal error: iteration {}'s lower bound {lower:.6e} is above its upper bound \
             {upper:.6e} (a solve returned a bound it did not prove); the plan is the best found, \
             not proven optimal",
            iteration.iteration
        ));
    }
    let closed = iteration.gap <= tolerance;
    if closed || lost.is_empty() {
        return LoopStop::with(loop_status(master, attack));
    }
    if found.iter().any(|f| f.as_slice() == lost) {
        if master != Status::Optimal {
            return LoopStop::with(master);
        }
        if iteration.gap <= repeat_gap.max(tolerance) {
            return LoopStop::with(loop_status(master, attack));
        }
        return LoopStop::unknown(format!(
            "internal error: iteration {} found an attack already in the master ({}) while the \
             gap is still {:.4}%: the master's bound is not proven; the plan is the best found",
            iteration.iteration,
            describe(&iteration.attack),
            100.0 * iteration.gap
        ));
    }
    if attack != Status::Optimal {
        return LoopStop::with(attack);
    }
    None
}

/// The worst second-stage cost of a plan that an interdiction proves: its bound (at least the
/// cost of the set it found), or the set's cost when it was solved to optimality.
fn proven_worst(
    attack: &crate::analysis::interdiction::Interdiction,
    attack_cost: f64,
) -> Option<f64> {
    match (attack.bound, attack.status) {
        (Some(b), _) => Some(b.max(attack_cost)),
        (None, Status::Optimal) => Some(attack_cost),
        _ => None,
    }
}

/// The relative gap a repeated attack proves. The attack is in the master, so the master's value
/// `M` is at least the plan's first stage plus the attack's cost, while the loop's upper bound is
/// at most that plus the attack's unclosed bound (`bound - cost`) and its lower bound at least
/// `M` less the master's MIP gap: `(gap_M |M| + (bound - cost)) / |upper|`, plus rounding.
fn repeat_proves(
    master: &crate::solver::SolverRun,
    attack: &crate::analysis::interdiction::Interdiction,
    attack_cost: f64,
    upper: f64,
) -> f64 {
    let m = master.objective.unwrap_or(0.0).abs() * master.mip_gap.unwrap_or(0.0);
    let open = attack.bound.map_or(0.0, |b| (b - attack_cost).max(0.0));
    (m + open) / upper.abs().max(1e-9) + 1e-9
}

/// Whether a lower bound lies above an upper bound beyond the relative tolerance.
fn above(lower: f64, upper: f64, tolerance: f64) -> bool {
    lower.is_finite() && upper.is_finite() && lower - upper > tolerance * upper.abs().max(1.0)
}

/// How a loop that stopped ended: optimal only when its last master and subproblem both were.
fn loop_status(master: Status, attack: Status) -> Status {
    match (master, attack) {
        (Status::Optimal, Status::Optimal) => Status::Optimal,
        (Status::Optimal, other) => other,
        (other, _) => other,
    }
}

/// The loop stops when the gap is at most this (or the settings' MIP gap, if larger).
pub const LOOP_GAP: f64 = 1e-6;

/// A robust (min-max) plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustResult {
    /// `optimal` when the gap closed, `time_limit` (with the best plan found), `infeasible` when
    /// the master has no plan, or the master's or subproblem's own status when they failed.
    pub status: Status,
    /// Most elements lost at once.
    pub k: u32,
    /// Element kinds that can be lost.
    pub targets: Vec<String>,
    /// Currency of every money figure.
    pub currency: String,
    /// Proven lower bound on the min-max cost, currency/yr.
    pub lower_bound: Option<f64>,
    /// Min-max cost of the best plan (first stage plus its worst loss, or a proven bound on it),
    /// currency/yr.
    pub upper_bound: Option<f64>,
    /// Relative gap.
    pub gap: Option<f64>,
    /// Every iteration of the loop.
    pub iterations: Vec<LoopIteration>,
    /// The best plan found.
    pub plan: Option<Plan>,
    /// Its first-stage cost, currency/yr.
    pub first_stage_cost: Option<f64>,
    /// Its worst loss (with the ranked single points of failure).
    pub worst_case: Option<WorstCase>,
    /// The master solve that chose the best plan (its scenarios are the loss sets in the master).
    pub master: Option<SolveResult>,
    /// Why the loop ended `unknown` (an internal inconsistency, such as a lower bound above the
    /// upper bound), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Wall-clock seconds.
    pub runtime_s: f64,
}

/// The master's network: the model with its explicit scenarios and risk replaced by the min-max
/// objective (weight 1 on the worst scenario cost), and hard demand priced at the evaluation's
/// hard penalty, the price the interdiction gives it, so that master and subproblem agree.
fn master_network(net: &Network) -> Result<Network, StockadeError> {
    let mut model = net.model.clone();
    let hard = evaluation_hard_penalty(net);
    for (d, dn) in model.demand.iter_mut().enumerate() {
        if net.demand_penalty[d].is_none() {
            dn.shortfall_penalty = Some(hard);
        }
    }
    model.scenarios.clear();
    model.risk = Some(Risk {
        measure: RiskMeasure::WorstCase,
        on: RiskOn::Cost,
        beta: 0.95,
        weight: 1.0,
        limit: None,
    });
    Ok(Network::new(model)?)
}

/// Robust siting: the plan minimising first-stage cost plus the worst second-stage cost over
/// every loss of up to `losses.k` elements of the `losses.targets` kinds. The model's explicit scenarios and
/// risk setting are replaced by the min-max objective; its policies hold (N-k survivability by
/// enumeration). `progress` hears every iteration.
pub fn solve_robust(
    net: &Network,
    losses: &WorstCaseOptions,
    settings: &Settings,
    control: &SolveControl,
    progress: &dyn Fn(&LoopIteration),
) -> Result<RobustResult, StockadeError> {
    let started = Instant::now();
    let candidates = losses.candidates(net)?;
    let (k, duration) = (losses.k, losses.duration);
    let master_net = master_network(net)?;
    let contingencies = master_net
        .model
        .policies
        .survivability
        .as_ref()
        .map(|sv| ScenarioSet::contingencies(&master_net, sv.k, &sv.targets))
        .unwrap_or_default();
    let tolerance = settings.mip_gap.max(LOOP_GAP);
    let mut found: Vec<Vec<Element>> = Vec::new();
    let mut cases: Vec<ScenarioCase> = vec![intact(net, "base", 0.0)];
    let mut out = RobustResult {
        status: Status::Unknown,
        k,
        targets: losses.targets.clone(),
        currency: net.model.currency.clone(),
        lower_bound: None,
        upper_bound: None,
        gap: None,
        iterations: Vec::new(),
        plan: None,
        first_stage_cost: None,
        worst_case: None,
        master: None,
        message: None,
        runtime_s: 0.0,
    };
    let mut best_upper = f64::INFINITY;
    loop {
        let left = settings.remaining_s(&started);
        if left == Some(0.0) {
            out.status = Status::TimeLimit;
            break;
        }
        let set = ScenarioSet {
            cases: cases.clone(),
        };
        let build_started = Instant::now();
        let options = BuildOptions {
            contingencies: &contingencies,
            ..BuildOptions::default()
        };
        let master = SitingProblem::build(&master_net, &set, &options);
        let build_s = build_started.elapsed().as_secs_f64();
        let mut run = solve_mip(&master.mip, &settings.with_time_limit(left), control)?;
        if run
            .proven_bound()
            .is_some_and(|b| above(b, best_upper, tolerance))
        {
            // The master's bound cannot exceed the min-max cost of a plan already priced: HiGHS's
            // presolve has been seen to get such a master wrong (1.16.0's dual-fixing probing on
            // the San Francisco case, issue 21). Solve it again without presolve.
            let left = settings.remaining_s(&started);
            let again = Settings {
                presolve: false,
                ..settings.with_time_limit(left)
            };
            run = solve_mip(&master.mip, &again, control)?;
        }
        if !run.has_solution {
            out.status = run.status;
            break;
        }
        if let Some(lower) = run.proven_bound() {
            out.lower_bound = Some(out.lower_bound.map_or(lower, |l: f64| l.max(lower)));
        }
        let plan = master.plan(&run.values);
        let first_stage = crate::analysis::interdiction::checked_first_stage_cost(net, &plan)?;
        let left = settings.remaining_s(&started);
        let attack = interdict(
            net,
            &plan,
            k,
            duration,
            &candidates,
            &settings.with_time_limit(left),
            control,
        )?;
        let (attack_cost, _) = loss_outcome(net, &plan, &attack.lost, duration)?;
        // Only a proven worst cost makes the plan's min-max cost an upper bound.
        if let Some(worst) = proven_worst(&attack, attack_cost) {
            let upper = first_stage + worst;
            if upper < best_upper || out.plan.is_none() {
                best_upper = upper;
                out.plan = Some(plan.clone());
                out.first_stage_cost = Some(first_stage);
                out.master = Some(master.read(&run, build_s, settings));
            }
        } else if out.plan.is_none() {
            // No proven bound yet: keep the plan (its worst case is re-solved at the end).
            out.plan = Some(plan.clone());
            out.first_stage_cost = Some(first_stage);
            out.master = Some(master.read(&run, build_s, settings));
        }
        let lower = out.lower_bound.unwrap_or(f64::NEG_INFINITY);
        let iteration = LoopIteration::next(
            net,
            &out.iterations,
            lower,
            best_upper,
            &attack.lost,
            started,
        );
        progress(&iteration);
        out.upper_bound = best_upper.is_finite().then_some(best_upper);
        out.gap = Some(iteration.gap);
        let end = loop_end(
            &iteration,
            tolerance,
            &attack.lost,
            &found,
            run.status,
            attack.status,
            repeat_proves(&run, &attack, attack_cost, best_upper),
        );
        out.iterations.push(iteration);
        if let Some(stop) = end {
            (out.status, out.message) = (stop.status, stop.message);
            break;
        }
        let mut case = attack_case(net, &attack.lost, duration);
        case.probability = 0.0;
        cases.push(case);
        found.push(attack.lost);
    }
    if let Some(plan) = &out.plan {
        let options = WorstCaseOptions {
            single_points_of_failure: true,
            ..losses.clone()
        };
        let left = settings.remaining_s(&started).map(|t| t.max(1.0));
        out.worst_case = Some(worst_case(
            net,
            plan,
            &options,
            &[],
            &settings.with_time_limit(left),
            control,
        )?);
    }
    out.runtime_s = started.elapsed().as_secs_f64();
    Ok(out)
}

/// How much protection the defender may buy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtectionLimit {
    /// At most this many elements (any target element can be protected).
    Count(u32),
    /// Protection costs (each element's `protection_cost`) at most this, currency/yr; elements
    /// without a protection cost cannot be protected.
    Budget(f64),
}

/// Which elements to protect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fortification {
    /// `optimal` when the gap closed, else `time_limit` (best protection found) or the status
    /// of the failed solve.
    pub status: Status,
    /// Most elements lost at once.
    pub k: u32,
    /// Element kinds that can be lost (and protected).
    pub targets: Vec<String>,
    /// The protection limit.
    pub limit: ProtectionLimit,
    /// Currency of every money figure.
    pub currency: String,
    /// Elements to protect.
    pub protected: Vec<ElementRef>,
    /// Their protection cost (elements without one count 0), currency/yr.
    pub protection_cost: f64,
    /// Elements that could be protected.
    pub protectable: usize,
    /// Worst second-stage cost with nothing protected, currency/yr (NaN, null in JSON, when the
    /// time limit left no time to find it).
    pub unprotected_worst: f64,
    /// Proven lower bound on the best achievable worst cost, currency/yr.
    pub lower_bound: Option<f64>,
    /// Worst cost with the chosen protection (or a proven bound on it), currency/yr.
    pub upper_bound: Option<f64>,
    /// Relative gap.
    pub gap: Option<f64>,
    /// Every iteration of the loop.
    pub iterations: Vec<LoopIteration>,
    /// The worst loss left with the chosen protection.
    pub worst_case: Option<WorstCase>,
    /// Things a reader must know (e.g. nothing could be protected within the budget).
    pub notes: Vec<String>,
    /// Why the loop ended `unknown` (an internal inconsistency), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Wall-clock seconds.
    pub runtime_s: f64,
}

/// The fortification master: protection binaries and the epigraph of the attacks seen so far.
struct FortifyMaster {
    mip: SparseMip,
    theta: Col,
    protect: Vec<(Element, Col)>,
}

impl FortifyMaster {
    fn new(protectable: &[(Element, f64)], limit: ProtectionLimit, base: f64) -> Self {
        let mut mip = SparseMip::new();
        let theta = mip.add_col(1.0, base, f64::INFINITY, false);
        let protect: Vec<(Element, Col)> = protectable
            .iter()
            .map(|(e, _)| (*e, mip.add_binary(0.0)))
            .collect();
        let fam = mip.family("protection_limit");
        match limit {
            ProtectionLimit::Count(q) => {
                let terms: Vec<(Col, f64)> = protect.iter().map(|(_, w)| (*w, 1.0)).collect();
                mip.add_row(fam, f64::NEG_INFINITY, f64::from(q), terms);
            }
            ProtectionLimit::Budget(b) => {
                let terms: Vec<(Col, f64)> = protect
                    .iter()
                    .zip(protectable)
                    .map(|((_, w), (_, c))| (*w, *c))
                    .collect();
                mip.add_row(fam, f64::NEG_INFINITY, b, terms);
            }
        }
        FortifyMaster {
            mip,
            theta,
            protect,
        }
    }

    /// theta >= cost - (cost - base) * (protected elements of the attack).
    fn add_attack(&mut self, attack: &[Element], cost: f64, base: f64) {
        let fam = self.mip.family("attack_cut");
        let mut terms = vec![(self.theta, 1.0)];
        for (e, w) in &self.protect {
            if attack.contains(e) {
                terms.push((*w, cost - base));
            }
        }
        self.mip.add_row(fam, cost, f64::INFINITY, terms);
    }

    fn protected(&self, x: &[f64]) -> Vec<Element> {
        self.protect
            .iter()
            .filter(|(_, w)| x[w.0] > 0.5)
            .map(|(e, _)| *e)
            .collect()
    }
}

fn protection_cost(net: &Network, e: Element) -> Option<f64> {
    let m = &net.model;
    match e {
        Element::Supplier(i) => m.suppliers[i].protection_cost,
        Element::Site(i) => m.sites[i].protection_cost,
        Element::Depot(i) => m.depots[i].protection_cost,
        Element::Route(i) => net.route_def(i).protection_cost,
    }
}

/// Fortification of a fixed plan: which elements to protect so that the worst loss of up to
/// `losses.k` unprotected target elements costs least. `progress` hears every iteration.
pub fn fortify(
    net: &Network,
    plan: &Plan,
    losses: &WorstCaseOptions,
    limit: ProtectionLimit,
    settings: &Settings,
    control: &SolveControl,
    progress: &dyn Fn(&LoopIteration),
) -> Result<Fortification, StockadeError> {
    let started = Instant::now();
    match limit {
        ProtectionLimit::Budget(b) if !(b.is_finite() && b >= 0.0) => {
            return Err(InputError::single(
                "--budget",
                format!("must be a finite number >= 0, got {b}"),
            )
            .into())
        }
        _ => {}
    }
    crate::analysis::interdiction::checked_first_stage_cost(net, plan)?;
    let candidates = losses.candidates(net)?;
    let (k, duration) = (losses.k, losses.duration);
    let protectable: Vec<(Element, f64)> = candidates
        .iter()
        .filter_map(|e| match limit {
            ProtectionLimit::Count(_) => Some((*e, protection_cost(net, *e).unwrap_or(0.0))),
            ProtectionLimit::Budget(_) => protection_cost(net, *e).map(|c| (*e, c)),
        })
        .collect();
    let (base, _) = loss_outcome(net, plan, &[], duration)?;
    let tolerance = settings.mip_gap.max(LOOP_GAP);
    let mut master = FortifyMaster::new(&protectable, limit, base);
    let mut out = Fortification {
        status: Status::Unknown,
        k,
        targets: losses.targets.clone(),
        limit,
        currency: net.model.currency.clone(),
        protected: Vec::new(),
        protection_cost: 0.0,
        protectable: protectable.len(),
        unprotected_worst: f64::NAN,
        lower_bound: None,
        upper_bound: None,
        gap: None,
        iterations: Vec::new(),
        worst_case: None,
        notes: Vec::new(),
        message: None,
        runtime_s: 0.0,
    };
    if protectable.is_empty() {
        out.notes.push(match limit {
            ProtectionLimit::Budget(_) => {
                "no target element has a protection_cost in the model: nothing can be protected within a budget".to_string()
            }
            ProtectionLimit::Count(_) => "there are no target elements to protect".to_string(),
        });
    }
    let mut best: Option<(f64, Vec<Element>)> = None;
    let mut found: Vec<Vec<Element>> = Vec::new();
    loop {
        let left = settings.remaining_s(&started);
        if left == Some(0.0) {
            out.status = Status::TimeLimit;
            break;
        }
        let run = solve_mip(&master.mip, &settings.with_time_limit(left), control)?;
        if !run.has_solution {
            out.status = run.status;
            break;
        }
        if let Some(lower) = run.proven_bound() {
            out.lower_bound = Some(out.lower_bound.map_or(lower, |l: f64| l.max(lower)));
        }
        let protected = master.protected(&run.values);
        let open: Vec<Element> = candidates
            .iter()
            .copied()
            .filter(|e| !protected.contains(e))
            .collect();
        let left = settings.remaining_s(&started);
        let attack = interdict(
            net,
            plan,
            k,
            duration,
            &open,
            &settings.with_time_limit(left),
            control,
        )?;
        let (attack_cost, _) = loss_outcome(net, plan, &attack.lost, duration)?;
        if out.iterations.is_empty() && protected.is_empty() {
            out.unprotected_worst = attack_cost;
        }
        // Only a proven worst cost is an upper bound; an unproven one still keeps the first
        // protection found, priced at infinity, so the answer has a protection set.
        let worst = proven_worst(&attack, attack_cost).unwrap_or(f64::INFINITY);
        if best.as_ref().is_none_or(|(b, _)| worst < *b) {
            best = Some((worst, protected.clone()));
        }
        let upper = best.as_ref().map_or(f64::INFINITY, |b| b.0);
        let lower = out.lower_bound.unwrap_or(base);
        let iteration =
            LoopIteration::next(net, &out.iterations, lower, upper, &attack.lost, started);
        progress(&iteration);
        out.upper_bound = upper.is_finite().then_some(upper);
        out.gap = Some(iteration.gap);
        let end = loop_end(
            &iteration,
            tolerance,
            &attack.lost,
            &found,
            run.status,
            attack.status,
            repeat_proves(&run, &attack, attack_cost, upper),
        );
        out.iterations.push(iteration);
        if let Some(stop) = end {
            (out.status, out.message) = (stop.status, stop.message);
            break;
        }
        master.add_attack(&attack.lost, attack_cost, base);
        found.push(attack.lost);
    }
    // The first master may protect something already; the unprotected worst is then its own
    // solve, within what is left of the time limit (NaN, null in JSON, when none is left).
    let left = settings.remaining_s(&started);
    if out.unprotected_worst.is_nan() && left != Some(0.0) {
        let attack = interdict(
            net,
            plan,
            k,
            duration,
            &candidates,
            &settings.with_time_limit(left),
            control,
        )?;
        if attack.status == Status::Optimal {
            out.unprotected_worst = loss_outcome(net, plan, &attack.lost, duration)?.0;
        }
    }
    if let Some((_, protected)) = best {
        // fold from +0.0: an empty f64 sum is -0.0, which prints as "-0.00".
        out.protection_cost = protected
            .iter()
            .map(|e| protection_cost(net, *e).unwrap_or(0.0))
            .fold(0.0, |a, b| a + b);
        out.protected = protected.iter().map(|e| ElementRef::of(net, *e)).collect();
        let options = WorstCaseOptions {
            single_points_of_failure: false,
            ..losses.clone()
        };
        let left = settings.remaining_s(&started).map(|t| t.max(1.0));
        out.worst_case = Some(worst_case(
            net,
            plan,
            &options,
            &protected,
            &settings.with_time_limit(left),
            control,
        )?);
    }
    out.runtime_s = started.elapsed().as_secs_f64();
    Ok(out)
}

/// One line of loop progress, for stderr.
pub fn describe_iteration(it: &LoopIteration, currency: &str) -> String {
    format!(
        "iteration {}: lower {:.6e} upper {:.6e} {currency}/yr, gap {:.4}% (worst loss: {})",
        it.iteration,
        it.lower_bound,
        it.upper_bound,
        100.0 * it.gap,
        describe(&it.attack)
    )
}
