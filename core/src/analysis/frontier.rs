//! The cost-resilience Pareto frontier by the epsilon-constraint method: minimise the expected
//! annual cost subject to a resilience level, the level stepped from where the cost-optimal plan
//! stands to the best any plan achieves. Resilience is measured as
//!
//! - `expected_shortfall`: the probability-weighted unmet demand (t/yr), one linear row over the
//!   scenarios' shortfall columns;
//! - `cvar_shortfall`: CVaR at `beta` of unmet demand (t/yr), the Rockafellar-Uryasev rows of the
//!   siting model's risk machinery with a limit;
//! - `nk`: the number k of simultaneous site losses (or the model's survivability targets) in
//!   which protected demand is still met, through the N-k survivability policy.
//!
//! Points that another point beats on both cost and resilience are marked dominated; the knee is
//! the frontier point farthest from the chord between its two ends (both axes scaled to 0..1).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::analysis::sweep::{run_pool, Kpis, SweepProgress, SweepSettings};
use crate::error::InputError;
use crate::formulation::{cvar, BuildOptions, SitingProblem};
use crate::model::{Model, Risk, RiskMeasure, RiskOn, Survivability, SurvivabilityMethod};
use crate::network::Network;
use crate::plan::Plan;
use crate::result::SolveResult;
use crate::scenario::ScenarioSet;
use crate::solve::{solve_siting_from, WarmStart};
use crate::solver::{solve_mip, SolveControl, Status};
use crate::StockadeError;

/// The resilience measure of a frontier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resilience {
    /// Probability-weighted unmet demand, t/yr (lower is better).
    ExpectedShortfall,
    /// CVaR at `beta` of unmet demand, t/yr (lower is better).
    CvarShortfall,
    /// Simultaneous losses survived (higher is better).
    Nk,
}

impl Resilience {
    /// The snake_case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Resilience::ExpectedShortfall => "expected_shortfall",
            Resilience::CvarShortfall => "cvar_shortfall",
            Resilience::Nk => "nk",
        }
    }

    /// Unit of the resilience axis.
    pub fn unit(self) -> &'static str {
        match self {
            Resilience::Nk => "losses survived",
            _ => "t/yr",
        }
    }

    fn higher_is_better(self) -> bool {
        self == Resilience::Nk
    }
}

/// How to trace a frontier. `Default` is the only source of defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FrontierSettings {
    /// The resilience measure.
    pub resilience: Resilience,
    /// Levels to solve (at least 2). For `nk` the levels are k = 0, 1, ..., points - 1; a k that
    /// no plan survives ends `infeasible` (and so does every larger one).
    pub points: usize,
    /// CVaR level for `cvar_shortfall` (0.95: the mean of the worst 5 % of scenarios).
    pub beta: f64,
    /// Workers, warm starts and the settings of every solve.
    pub sweep: SweepSettings,
}

impl Default for FrontierSettings {
    fn default() -> Self {
        FrontierSettings {
            resilience: Resilience::ExpectedShortfall,
            points: 8,
            beta: 0.95,
            sweep: SweepSettings::default(),
        }
    }
}

/// One level of the frontier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FrontierPoint {
    /// The level asked for: the limit on the shortfall measure (t/yr), or k.
    pub level: f64,
    /// How the solve ended.
    pub status: Status,
    /// Whether a plan is available.
    pub has_solution: bool,
    /// Least expected annual cost at this level, currency/yr.
    pub cost: Option<f64>,
    /// Resilience the plan achieves (at most the level for shortfall measures; k for `nk`).
    pub resilience: Option<f64>,
    /// Relative MIP gap.
    pub mip_gap: Option<f64>,
    /// Seconds to build and solve.
    pub runtime_s: f64,
    /// Index of the point whose plan was the MIP start, if any.
    pub warm_from: Option<usize>,
    /// Whether another point is at least as cheap and at least as resilient, and better in one.
    pub dominated: bool,
    /// KPIs of the plan.
    pub kpis: Option<Kpis>,
    /// The first-stage plan.
    pub plan: Option<Plan>,
}

/// The cost-resilience frontier of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FrontierReport {
    /// The resilience measure.
    pub resilience: Resilience,
    /// Unit of the resilience axis.
    pub unit: String,
    /// CVaR level (used by `cvar_shortfall`).
    pub beta: f64,
    /// Resilience of the cost-optimal plan (no resilience constraint).
    pub cost_optimal_level: Option<f64>,
    /// Best resilience any plan achieves (for `nk`: the largest k solved that a plan survives).
    pub best_level: Option<f64>,
    /// Every level solved, from the cost-optimal end to the most resilient.
    pub points: Vec<FrontierPoint>,
    /// Index in `points` of the knee: the non-dominated point farthest from the chord between
    /// the frontier's ends (none with fewer than three frontier points).
    pub knee: Option<usize>,
    /// Currency of the costs.
    pub currency: String,
    /// What a reader must know about the ends: an end solve that stopped at a limit gives a
    /// level that is only the best found, not proven.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Wall-clock seconds.
    pub runtime_s: f64,
}

/// Relative slack on a shortfall limit, so that the least achievable level is not lost to the
/// solver's feasibility tolerance.
const LEVEL_SLACK: f64 = 1e-7;

/// The levels a frontier solves, found before any of them is: for shortfall measures, from the
/// cost-optimal plan's level to the least any plan reaches; for `nk`, k = 0 .. points - 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FrontierLevels {
    /// The levels, in order.
    pub levels: Vec<f64>,
    /// Resilience of the cost-optimal plan.
    pub cost_optimal_level: Option<f64>,
    /// Least shortfall any plan reaches (shortfall measures).
    pub best_level: Option<f64>,
    /// The cost-optimal solve, when it found no plan: the whole frontier is then this point.
    pub unsolved: Option<FrontierPoint>,
    /// End solves that stopped before proving their level (see [`FrontierReport::notes`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

fn check(model: &Model, settings: &FrontierSettings) -> Result<(), StockadeError> {
    if settings.points < 2 {
        return Err(InputError::single(
            "points",
            format!(
                "a frontier needs at least 2 points, got {}",
                settings.points
            ),
        )
        .into());
    }
    if !(settings.beta >= 0.0 && settings.beta < 1.0) {
        return Err(InputError::single(
            "beta",
            format!("must be within [0, 1), got {}", settings.beta),
        )
        .into());
    }
    if model.risk.is_some() && settings.resilience != Resilience::Nk {
        return Err(InputError::single(
            "risk",
            "the frontier sets its own limit on the shortfall measure; remove `risk` from the model",
        )
        .into());
    }
    Ok(())
}

/// The frontier's resilience measure of a solve result.
fn measure(settings: &FrontierSettings, r: &SolveResult) -> f64 {
    let outcomes: Vec<(f64, f64)> = r
        .scenarios
        .iter()
        .map(|s| (s.probability, s.shortfall_t))
        .collect();
    match settings.resilience {
        Resilience::CvarShortfall => cvar(&outcomes, settings.beta),
        _ => outcomes.iter().map(|(p, t)| p * t).sum(),
    }
}

/// The first step of [`frontier`]: its levels (two solves for shortfall measures, none for `nk`).
pub fn frontier_levels(
    model: &Model,
    settings: &FrontierSettings,
    cancel: Option<Arc<AtomicBool>>,
) -> Result<FrontierLevels, StockadeError> {
    check(model, settings)?;
    if settings.resilience == Resilience::Nk {
        return Ok(FrontierLevels {
            levels: (0..settings.points).map(|k| k as f64).collect(),
            cost_optimal_level: Some(0.0),
            best_level: None,
            unsolved: None,
            notes: Vec::new(),
        });
    }
    let control = SolveControl {
        cancel,
        progress: None,
    };
    let net = Network::new(model.clone())?;
    let set = ScenarioSet::explicit(&net);
    let solver = &settings.sweep.solver;
    let (unconstrained, _) = solve_siting_from(&net, &set, solver, &control, None)?;
    if !unconstrained.has_solution {
        return Ok(FrontierLevels {
            levels: Vec::new(),
            cost_optimal_level: None,
            best_level: None,
            unsolved: Some(point_of(0.0, &unconstrained, None, 0.0)),
            notes: Vec::new(),
        });
    }
    let high = measure(settings, &unconstrained);
    let mut notes = Vec::new();
    if unconstrained.status != Status::Optimal {
        notes.push(format!(
            "the cost-optimal solve ended {} (gap {}): the frontier's cost-optimal end is the \
             level of the best plan found, not of the cost-optimal one",
            unconstrained.status.as_str(),
            unconstrained
                .mip_gap
                .map_or("unknown".into(), |g| format!("{:.4}%", 100.0 * g))
        ));
    }
    let (low, note) = least_shortfall(&net, &set, settings, &control)?;
    notes.extend(note);
    let low = low.min(high);
    let n = settings.points;
    Ok(FrontierLevels {
        levels: (0..n)
            .map(|i| high - (high - low) * i as f64 / (n - 1) as f64)
            .collect(),
        cost_optimal_level: Some(high),
        best_level: Some(low),
        unsolved: None,
        notes,
    })
}

/// The model of level `level`: the shortfall limit as the model's `risk`, or survivability k.
fn level_model(
    model: &Model,
    settings: &FrontierSettings,
    levels: &FrontierLevels,
    level: f64,
) -> Model {
    let mut m = model.clone();
    match settings.resilience {
        Resilience::Nk => {
            let base = model.policies.survivability.clone();
            let k = level.round() as u32;
            m.policies.survivability = (k > 0).then(|| Survivability {
                k,
                targets: base
                    .as_ref()
                    .map_or_else(|| vec!["sites".to_string()], |s| s.targets.clone()),
                fraction: base.as_ref().map_or(1.0, |s| s.fraction),
                priority: base.as_ref().map_or(1, |s| s.priority),
                method: base
                    .as_ref()
                    .map_or(SurvivabilityMethod::Auto, |s| s.method),
            });
        }
        resilience => {
            let scale = levels.cost_optimal_level.unwrap_or(0.0).abs().max(1.0);
            m.risk = Some(Risk {
                measure: if resilience == Resilience::CvarShortfall {
                    RiskMeasure::Cvar
                } else {
                    RiskMeasure::Expectation
                },
                on: RiskOn::Shortfall,
                beta: settings.beta,
                weight: 0.0,
                limit: Some(level.max(0.0) + LEVEL_SLACK * scale),
            });
        }
    }
    m
}

/// Level `i` of `levels` solved alone (the unit of work a Ray task takes), from `start` when
/// given; with the start it offers its neighbours.
pub fn frontier_point(
    model: &Model,
    settings: &FrontierSettings,
    levels: &FrontierLevels,
    i: usize,
    start: Option<&WarmStart>,
    cancel: Option<Arc<AtomicBool>>,
) -> Result<(FrontierPoint, Option<WarmStart>), StockadeError> {
    check(model, settings)?;
    let Some(&level) = levels.levels.get(i) else {
        return Err(InputError::single(
            "level",
            format!("no level {i}; the frontier has {}", levels.levels.len()),
        )
        .into());
    };
    let t = Instant::now();
    let net = Network::new(level_model(model, settings, levels, level))?;
    let set = ScenarioSet::explicit(&net);
    let control = SolveControl {
        cancel,
        progress: None,
    };
    let (r, next) = solve_siting_from(&net, &set, &settings.sweep.solver, &control, start)?;
    let achieved = if settings.resilience == Resilience::Nk {
        // A plan survives level k only when no contingency is left that it fails.
        let survives = r
            .survivability
            .as_ref()
            .is_none_or(|sv| sv.not_survived.is_empty());
        survives.then_some(level)
    } else {
        Some(measure(settings, &r))
    };
    let point = point_of(level, &r, achieved, t.elapsed().as_secs_f64());
    Ok((point, next))
}

/// The last step of [`frontier`]: the report from every level's point (in level order), with
/// dominated points marked and the knee found.
pub fn frontier_report(
    model: &Model,
    settings: &FrontierSettings,
    levels: &FrontierLevels,
    mut points: Vec<FrontierPoint>,
    runtime_s: f64,
) -> FrontierReport {
    if let Some(unsolved) = &levels.unsolved {
        points = vec![unsolved.clone()];
    }
    let best_level = match settings.resilience {
        Resilience::Nk => points
            .iter()
            .filter(|p| p.resilience.is_some())
            .map(|p| p.level)
            .fold(None, |a: Option<f64>, k| Some(a.map_or(k, |a| a.max(k)))),
        _ => levels.best_level,
    };
    mark_dominated(&mut points, settings.resilience.higher_is_better());
    let knee = knee(&points);
    FrontierReport {
        resilience: settings.resilience,
        unit: settings.resilience.unit().into(),
        beta: settings.beta,
        cost_optimal_level: levels.cost_optimal_level,
        best_level,
        points,
        knee,
        currency: model.currency.clone(),
        notes: levels.notes.clone(),
        runtime_s,
    }
}

/// Traces the frontier of `model` (see the module documentation): [`frontier_levels`], every
/// [`frontier_point`] on the sweep's worker pool (each from its solved neighbour), then
/// [`frontier_report`]. The model must not set its own `risk`: the frontier owns that field.
pub fn frontier(
    model: &Model,
    settings: &FrontierSettings,
    cancel: Option<Arc<AtomicBool>>,
    progress: SweepProgress<'_>,
) -> Result<FrontierReport, StockadeError> {
    let started = Instant::now();
    let levels = frontier_levels(model, settings, cancel.clone())?;
    let n = levels.levels.len();
    let coords: Vec<Vec<f64>> = (0..n).map(|i| vec![i as f64]).collect();
    let outcomes = run_pool(
        &coords,
        settings.sweep.worker_count(n),
        settings.sweep.warm_start,
        cancel.as_deref(),
        &|i, start| frontier_point(model, settings, &levels, i, start, cancel.clone()),
        progress,
    );
    let mut points = Vec::with_capacity(n);
    for (i, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Some(r) => {
                let (mut p, from) = r?;
                p.warm_from = from;
                points.push(p);
            }
            None => points.push(FrontierPoint {
                level: levels.levels[i],
                status: Status::Interrupted,
                has_solution: false,
                cost: None,
                resilience: None,
                mip_gap: None,
                runtime_s: 0.0,
                warm_from: None,
                dominated: false,
                kpis: None,
                plan: None,
            }),
        }
    }
    Ok(frontier_report(
        model,
        settings,
        &levels,
        points,
        started.elapsed().as_secs_f64(),
    ))
}

fn point_of(level: f64, r: &SolveResult, achieved: Option<f64>, secs: f64) -> FrontierPoint {
    FrontierPoint {
        level,
        status: r.status,
        has_solution: r.has_solution,
        cost: r.objective.filter(|_| r.has_solution),
        resilience: achieved.filter(|_| r.has_solution),
        mip_gap: r.mip_gap,
        runtime_s: secs,
        warm_from: None,
        dominated: false,
        kpis: Kpis::of(r),
        plan: r.plan.clone().filter(|_| r.has_solution),
    }
}

/// The least value of the shortfall measure any plan reaches: the siting MIP with every cost set
/// to zero and the measure as the objective. A solve stopped at a limit gives the least found
/// (a level some plan reaches), with a note that it is not proven least.
fn least_shortfall(
    net: &Network,
    set: &ScenarioSet,
    settings: &FrontierSettings,
    control: &SolveControl,
) -> Result<(f64, Option<String>), StockadeError> {
    let mut model = net.model.clone();
    let cvar_measure = settings.resilience == Resilience::CvarShortfall;
    model.risk = cvar_measure.then_some(Risk {
        measure: RiskMeasure::Cvar,
        on: RiskOn::Shortfall,
        beta: settings.beta,
        weight: 0.0,
        limit: None,
    });
    let net = Network::new(model)?;
    let contingencies = net
        .model
        .policies
        .survivability
        .as_ref()
        .map(|sv| ScenarioSet::contingencies(&net, sv.k, &sv.targets))
        .unwrap_or_default();
    let options = BuildOptions {
        contingencies: &contingencies,
        ..BuildOptions::default()
    };
    let mut problem = SitingProblem::build(&net, set, &options);
    problem.mip.col_cost.iter_mut().for_each(|c| *c = 0.0);
    problem.mip.offset = 0.0;
    if cvar_measure {
        let Some((eta, xis)) = problem.risk_cols().map(|(e, x)| (e, x.to_vec())) else {
            return Err(StockadeError::Solver("the CVaR rows were not built".into()));
        };
        problem.mip.col_cost[eta.0] = 1.0;
        for (w, xi) in xis.iter().enumerate() {
            problem.mip.col_cost[xi.0] = set.cases[w].probability / (1.0 - settings.beta);
        }
    } else {
        for (w, case) in set.cases.iter().enumerate() {
            for u in problem.handles(w).shortfall.clone().into_iter().flatten() {
                problem.mip.col_cost[u.0] += case.probability;
            }
        }
    }
    let run = solve_mip(&problem.mip, &settings.sweep.solver, control)?;
    match (run.has_solution, run.objective) {
        (true, Some(v)) => {
            let note = (run.status != Status::Optimal).then(|| {
                format!(
                    "the least-shortfall solve ended {}: the most resilient end ({v:.6}) is the \
                     least found, not proven least (proven bound {})",
                    run.status.as_str(),
                    run.proven_bound()
                        .map_or("none".into(), |b| format!("{:.6}", b.max(0.0)))
                )
            });
            Ok((v.max(0.0), note))
        }
        _ => Err(StockadeError::Solver(format!(
            "the least-shortfall solve ended {} without a plan",
            run.status.as_str()
        ))),
    }
}

/// Marks every point that another beats: no costlier and no less resilient, and strictly better
/// in one (relative tolerance 1e-6 on each axis).
fn mark_dominated(points: &mut [FrontierPoint], higher_is_better: bool) {
    let axis = |p: &FrontierPoint| {
        p.cost.zip(p.resilience).map(|(c, r)| {
            // Both axes as "lower is better".
            (c, if higher_is_better { -r } else { r })
        })
    };
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0);
    let snapshot: Vec<Option<(f64, f64)>> = points.iter().map(axis).collect();
    for (i, p) in points.iter_mut().enumerate() {
        let Some((c, r)) = snapshot[i] else {
            continue;
        };
        p.dominated = snapshot.iter().enumerate().any(|(j, q)| {
            let Some((cj, rj)) = *q else {
                return false;
            };
            if j == i {
                return false;
            }
            let no_worse = (cj < c || close(cj, c)) && (rj < r || close(rj, r));
            let better = (cj < c && !close(cj, c)) || (rj < r && !close(rj, r));
            // Of two identical points the later one is dropped.
            no_worse && (better || j < i)
        });
    }
}

/// The non-dominated point farthest from the chord between the frontier's two ends, both axes
/// scaled to 0..1.
fn knee(points: &[FrontierPoint]) -> Option<usize> {
    let front: Vec<(usize, f64, f64)> = points
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.dominated)
        .filter_map(|(i, p)| Some((i, p.cost?, p.resilience?)))
        .collect();
    if front.len() < 3 {
        return None;
    }
    let (cmin, cmax) = bounds(front.iter().map(|f| f.1));
    let (rmin, rmax) = bounds(front.iter().map(|f| f.2));
    let scale = |v: f64, lo: f64, hi: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
    let pts: Vec<(usize, f64, f64)> = front
        .iter()
        .map(|(i, c, r)| (*i, scale(*r, rmin, rmax), scale(*c, cmin, cmax)))
        .collect();
    let first = pts.first()?;
    let last = pts.last()?;
    let (dx, dy) = (last.1 - first.1, last.2 - first.2);
    let len = (dx * dx + dy * dy).sqrt();
    if len == 0.0 {
        return None;
    }
    pts[1..pts.len() - 1]
        .iter()
        .map(|(i, x, y)| (*i, ((x - first.1) * dy - (y - first.2) * dx).abs() / len))
        .filter(|(_, d)| *d > 1e-9)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}
