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

mod fortify;

pub use fortify::{fortify, Fortification, ProtectionLimit};

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
