//! Plan evaluation (DESIGN §4.4): a fixed plan meets scenarios it was not optimised on. Each
//! scenario is an LP with the first stage fixed; one HiGHS instance per worker thread is re-used
//! and only bounds and coefficients change between scenarios (warm-started dual simplex), in
//! parallel across cores (rayon).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::formulation::{cvar, with_fixed_plan, BuildOptions, SitingProblem};
use crate::network::Network;
use crate::plan::Plan;
use crate::scenario::{intact, ScenarioCase, ScenarioSet};
use crate::solver::highs::LpSession;
use crate::solver::{solve_mip, Settings, SolveControl, Status};
use crate::StockadeError;

/// How to evaluate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EvaluationSettings {
    /// Worker threads; none for one per core.
    pub threads: Option<usize>,
    /// Re-use one HiGHS instance per worker, changing only bounds (warm start). Off: build and
    /// solve every scenario LP from scratch (the reference path).
    pub warm_start: bool,
}

impl Default for EvaluationSettings {
    fn default() -> Self {
        EvaluationSettings {
            threads: None,
            warm_start: true,
        }
    }
}

/// One scenario's outcome under the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioEvaluation {
    /// Scenario id.
    pub id: String,
    /// Probability.
    pub probability: f64,
    /// Second-stage cost (operating + shortfall penalty), currency/yr.
    pub cost: f64,
    /// Unmet demand, t/yr.
    pub shortfall_t: f64,
    /// Unmet demand by demand node, t/yr (same order as the model's `demand`).
    #[serde(skip)]
    pub shortfall_by_demand: Vec<f64>,
}

/// Shortfall KPIs of one group of demand (a material, a priority, a country).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GroupKpi {
    /// Group key.
    pub key: String,
    /// Demand of the group, t/yr.
    pub demand_t: f64,
    /// Expected shortfall, t/yr.
    pub expected_shortfall_t: f64,
    /// Expected shortfall, share of the group's demand.
    pub expected_shortfall_share: f64,
    /// CVaR_95 of the group's shortfall, t/yr.
    pub cvar95_shortfall_t: f64,
    /// Probability of any shortfall in the group.
    pub probability_of_shortfall: f64,
    /// Share of demand met on average (1 - expected shortfall share).
    pub availability: f64,
}

/// A scenario among the worst.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WorstScenario {
    /// Scenario id.
    pub id: String,
    /// Unmet demand, t/yr.
    pub shortfall_t: f64,
    /// Second-stage cost, currency/yr.
    pub cost: f64,
    /// Hazards that happened.
    pub hazards: Vec<String>,
    /// What broke, with the availability left.
    pub disrupted: Vec<(String, f64)>,
}

/// The KPIs of a plan over a scenario set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Evaluation {
    /// Scenarios evaluated.
    pub scenarios: usize,
    /// Scenario LPs that did not solve to optimality (reported, not hidden).
    pub failed: Vec<String>,
    /// Annual cost of the plan's first stage, currency/yr.
    pub first_stage_cost: f64,
    /// First stage plus expected second stage, currency/yr.
    pub expected_cost: f64,
    /// Shortfall KPIs over all demand.
    pub total: GroupKpi,
    /// By material.
    pub by_material: Vec<GroupKpi>,
    /// By priority.
    pub by_priority: Vec<GroupKpi>,
    /// By country of the demand node.
    pub by_country: Vec<GroupKpi>,
    /// Herfindahl-Hirschman index (0..10000) of the plan's capacity by country, per material.
    pub concentration_hhi: BTreeMap<String, f64>,
    /// The ten worst scenarios by shortfall, then cost.
    pub worst: Vec<WorstScenario>,
    /// Wall-clock seconds.
    pub runtime_s: f64,
    /// Throughput.
    pub scenarios_per_second: f64,
    /// Every scenario's outcome.
    pub outcomes: Vec<ScenarioEvaluation>,
    /// Stopped on request before every scenario was evaluated.
    #[serde(default)]
    pub cancelled: bool,
}

/// Evaluates `plan` on every scenario of `set`. `progress(done, total)` is called as scenarios
/// finish (from worker threads).
pub fn evaluate(
    net: &Network,
    plan: &Plan,
    set: &ScenarioSet,
    settings: &EvaluationSettings,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Evaluation, StockadeError> {
    evaluate_with(net, plan, set, settings, progress, None)
}

/// [`evaluate`] that stops early when `cancel` is raised: the scenarios already solved are
/// reported (`cancelled` is then true and the KPIs cover only them, their probabilities
/// rescaled to sum to 1).
pub fn evaluate_with(
    net: &Network,
    plan: &Plan,
    set: &ScenarioSet,
    settings: &EvaluationSettings,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancel: Option<&std::sync::atomic::AtomicBool>,
) -> Result<Evaluation, StockadeError> {
    let cancelled = || cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let started = Instant::now();
    let template_set = ScenarioSet {
        cases: vec![intact(net, "template", 1.0)],
    };
    let options = BuildOptions {
        evaluation: true,
        ..BuildOptions::default()
    };
    let mut template = SitingProblem::build(net, &template_set, &options);
    template.fix_plan(plan)?;
    close_idle_routes(&mut template, net);
    let first_stage_cost = template.first_stage_cost();
    // Presolve off, so HiGHS keeps the basis between scenarios.
    let lp_settings = Settings {
        presolve: false,
        ..Settings::default()
    };
    let done = AtomicUsize::new(0);
    let total = set.cases.len();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads.unwrap_or(0))
        .build()
        .map_err(|e| StockadeError::Solver(format!("thread pool: {e}")))?;
    // One contiguous chunk of scenarios per worker, so that each HiGHS instance is created
    // once and every later scenario starts from the previous one's basis.
    // Scenarios are visited in order of what happens in them, so that identical ones are solved
    // once and similar ones follow each other; results go back to the input order.
    let workers = pool.current_num_threads().max(1);
    let chunk = total.div_ceil(workers).max(1);
    let mut order: Vec<usize> = (0..total).collect();
    order.sort_by_cached_key(|i| signature(&set.cases[*i]));
    type Chunk = Result<Vec<Option<(ScenarioEvaluation, bool)>>, StockadeError>;
    let chunks: Vec<Chunk> = pool.install(|| {
        order
            .par_chunks(chunk)
            .map(|indices| {
                let cases = indices.iter().map(|i| &set.cases[*i]);
                let mut session: Option<WarmSession> = None;
                let mut out = Vec::with_capacity(indices.len());
                for case in cases {
                    if cancelled() {
                        out.push(None);
                        continue;
                    }
                    let outcome = if settings.warm_start {
                        let s = match session.as_mut() {
                            Some(s) => s,
                            None => session.insert(WarmSession::new(&template, net, &lp_settings)?),
                        };
                        s.solve(&template, net, case)?
                    } else {
                        solve_cold(net, plan, case)?
                    };
                    out.push(Some(outcome));
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    progress(n, total);
                }
                Ok(out)
            })
            .collect()
    });
    let mut sorted = Vec::with_capacity(total);
    for c in chunks {
        sorted.extend(c?);
    }
    let mut slots: Vec<Option<(ScenarioEvaluation, bool)>> = vec![None; total];
    for (i, o) in order.into_iter().zip(sorted) {
        slots[i] = o;
    }
    let was_cancelled = slots.iter().any(Option::is_none);
    let mut evaluated = Vec::with_capacity(total);
    let mut kept = Vec::with_capacity(total);
    let mut failed = Vec::new();
    for (i, slot) in slots.into_iter().enumerate() {
        if let Some((e, ok)) = slot {
            if !ok {
                failed.push(e.id.clone());
            }
            evaluated.push(e);
            kept.push(i);
        }
    }
    // A cancelled run reports what it solved, as a distribution of its own (a copy of just
    // those scenarios; an uncancelled run uses the set as it is).
    let partial;
    let set = if was_cancelled {
        let mass: f64 = evaluated.iter().map(|e| e.probability).sum();
        let mut cases: Vec<ScenarioCase> = kept.iter().map(|i| set.cases[*i].clone()).collect();
        if mass > 0.0 {
            for (e, c) in evaluated.iter_mut().zip(cases.iter_mut()) {
                e.probability /= mass;
                c.probability /= mass;
            }
        }
        partial = ScenarioSet { cases };
        &partial
    } else {
        set
    };
    let runtime_s = started.elapsed().as_secs_f64();
    let mut evaluation = kpis(
        net,
        plan,
        set,
        evaluated,
        failed,
        first_stage_cost,
        runtime_s,
    );
    evaluation.cancelled = was_cancelled;
    Ok(evaluation)
}

/// Evaluates one scenario from scratch: build the LP with the plan fixed and solve it cold.
/// The reference the warm-started path is tested against.
pub fn solve_cold(
    net: &Network,
    plan: &Plan,
    case: &ScenarioCase,
) -> Result<(ScenarioEvaluation, bool), StockadeError> {
    with_fixed_plan(net, plan, case, |problem| {
        let run = solve_mip(&problem.mip, &Settings::default(), &SolveControl::default())?;
        let ok = run.status == Status::Optimal && run.has_solution;
        let (cost, by_demand) = if ok {
            problem.scenario_outcome(0, &run.values)
        } else {
            (f64::NAN, vec![0.0; net.model.demand.len()])
        };
        Ok((outcome(case, cost, by_demand), ok))
    })
}

fn outcome(case: &ScenarioCase, cost: f64, by_demand: Vec<f64>) -> ScenarioEvaluation {
    ScenarioEvaluation {
        id: case.id.clone(),
        probability: case.probability,
        cost,
        shortfall_t: by_demand.iter().sum(),
        shortfall_by_demand: by_demand,
    }
}

/// What happens in a scenario, as a sort key: its hazards, then its disrupted elements.
fn signature(case: &ScenarioCase) -> (Vec<usize>, Vec<u64>) {
    let bits = case
        .supplier
        .iter()
        .chain(&case.site)
        .chain(&case.depot)
        .chain(&case.route)
        .map(|a| a.to_bits())
        .collect();
    (case.hazards.clone(), bits)
}

/// Routes out of a site the plan leaves without capacity carry nothing in any scenario: fixing
/// them at 0 up front takes them out of every simplex iteration.
fn close_idle_routes(problem: &mut SitingProblem<'_>, net: &Network) {
    let first = problem.handles(0).first_flow;
    for e in 0..net.route_key.len() {
        if idle_route(problem, net, e) {
            problem.mip.col_upper[first + e] = 0.0;
        }
    }
}

fn idle_route(problem: &SitingProblem<'_>, net: &Network, e: usize) -> bool {
    if !net.release_allowed(e) {
        return true;
    }
    match net.route_from[e] {
        crate::network::NodeRef::Site(s) => problem.mip.col_upper[problem.modules_col(s).0] <= 0.0,
        _ => false,
    }
}

/// A re-used HiGHS instance and the availabilities it currently holds.
struct WarmSession {
    lp: LpSession,
    /// Column of the template -> column of the session's LP (routes out of idle sites dropped).
    map: Vec<Option<usize>>,
    current: ScenarioCase,
    /// The last outcome, re-used when the next scenario is the same.
    last: Option<(f64, Vec<f64>, bool)>,
}

impl WarmSession {
    fn new(
        template: &SitingProblem<'_>,
        net: &Network,
        settings: &Settings,
    ) -> Result<Self, StockadeError> {
        let first = template.handles(0).first_flow;
        let (lp, map) = template.mip.keep_columns(|c| {
            c < first || c >= first + net.route_key.len() || !idle_route(template, net, c - first)
        });
        Ok(WarmSession {
            lp: LpSession::new(&lp, settings)?,
            map,
            current: intact(net, "template", 1.0),
            last: None,
        })
    }

    /// Moves the LP to `case` (only what differs from the current scenario) and solves it.
    fn solve(
        &mut self,
        template: &SitingProblem<'_>,
        net: &Network,
        case: &ScenarioCase,
    ) -> Result<(ScenarioEvaluation, bool), StockadeError> {
        let m = &net.model;
        let same = case.supplier == self.current.supplier
            && case.site == self.current.site
            && case.depot == self.current.depot
            && case.route == self.current.route
            && case.site_hits == self.current.site_hits;
        if let (true, Some((cost, by_demand, ok))) = (same, &self.last) {
            return Ok((outcome(case, *cost, by_demand.clone()), *ok));
        }
        let h = template.handles(0);
        for &(i, row) in &h.supplier_rows {
            if case.supplier[i] != self.current.supplier[i] {
                self.lp.set_row_bounds(
                    row.0,
                    f64::NEG_INFINITY,
                    m.suppliers[i].capacity * case.supplier[i],
                )?;
            }
        }
        // The first stage is fixed, so availability moves to the right-hand side and only bounds
        // change (a changed coefficient would cost HiGHS its factorisation):
        // output - mc modules <= -mc (1 - a) modules + restored capacity from hardening.
        let fixed = |c: crate::solver::mip::Col| template.mip.col_lower[c.0];
        for &(i, row) in &h.site_rows {
            let hits_changed = case.site_hits != self.current.site_hits;
            if case.site[i] != self.current.site[i] || hits_changed {
                let mc = m.sites[i].module_capacity;
                let modules = fixed(template.modules_col(i));
                let mut rhs = -mc * (1.0 - case.site[i]) * modules;
                for &(k, _, y) in template.hardening_cols(i) {
                    rhs += template.hardening_coefficient(case, i, k) * fixed(y);
                }
                self.lp.set_row_bounds(row.0, f64::NEG_INFINITY, rhs)?;
            }
        }
        // releases - stock <= -(1 - a) stock
        for &(l, stock, row) in &h.depot_rows {
            if case.depot[l] != self.current.depot[l] {
                self.lp.set_row_bounds(
                    row.0,
                    f64::NEG_INFINITY,
                    -(1.0 - case.depot[l]) * fixed(stock),
                )?;
            }
        }
        for e in 0..net.route_key.len() {
            if case.route[e] != self.current.route[e] && !idle_route(template, net, e) {
                let upper = match net.route_def(e).capacity {
                    _ if case.route[e] <= 0.0 => 0.0,
                    Some(c) => c * case.route[e],
                    None => f64::INFINITY,
                };
                if let Some(col) = self.map[h.first_flow + e] {
                    self.lp.set_col_bounds(col, 0.0, upper)?;
                }
            }
        }
        self.current.supplier.clone_from(&case.supplier);
        self.current.site.clone_from(&case.site);
        self.current.depot.clone_from(&case.depot);
        self.current.route.clone_from(&case.route);
        self.current.site_hits.clone_from(&case.site_hits);
        let out = self.lp.solve()?;
        let ok = out.status == Status::Optimal;
        let (cost, by_demand) = if ok {
            // Back to the template's columns: dropped ones are zero.
            let full: Vec<f64> = self
                .map
                .iter()
                .map(|k| k.map_or(0.0, |k| out.values[k]))
                .collect();
            template.scenario_outcome(0, &full)
        } else {
            (f64::NAN, vec![0.0; m.demand.len()])
        };
        self.last = Some((cost, by_demand.clone(), ok));
        Ok((outcome(case, cost, by_demand), ok))
    }
}

fn group_kpi(
    key: String,
    members: &[usize],
    net: &Network,
    outcomes: &[ScenarioEvaluation],
) -> GroupKpi {
    let demand_t: f64 = members.iter().map(|d| net.model.demand[*d].demand).sum();
    let per: Vec<(f64, f64)> = outcomes
        .iter()
        .map(|o| {
            (
                o.probability,
                members
                    .iter()
                    .map(|d| o.shortfall_by_demand[*d])
                    .sum::<f64>(),
            )
        })
        .collect();
    let expected: f64 = per.iter().map(|(p, s)| p * s).sum();
    let share = if demand_t > 0.0 {
        expected / demand_t
    } else {
        0.0
    };
    GroupKpi {
        key,
        demand_t,
        expected_shortfall_t: expected,
        expected_shortfall_share: share,
        cvar95_shortfall_t: cvar(&per, 0.95),
        probability_of_shortfall: per
            .iter()
            .filter(|(_, s)| *s > 1e-6)
            .map(|(p, _)| p)
            .sum::<f64>()
            + 0.0,
        availability: 1.0 - share,
    }
}

fn grouped(
    net: &Network,
    outcomes: &[ScenarioEvaluation],
    key: impl Fn(usize) -> String,
) -> Vec<GroupKpi> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for d in 0..net.model.demand.len() {
        groups.entry(key(d)).or_default().push(d);
    }
    groups
        .into_iter()
        .map(|(k, members)| group_kpi(k, &members, net, outcomes))
        .collect()
}

fn kpis(
    net: &Network,
    plan: &Plan,
    set: &ScenarioSet,
    outcomes: Vec<ScenarioEvaluation>,
    failed: Vec<String>,
    first_stage_cost: f64,
    runtime_s: f64,
) -> Evaluation {
    let m = &net.model;
    let all: Vec<usize> = (0..m.demand.len()).collect();
    let total = group_kpi("all".into(), &all, net, &outcomes);
    let expected_second: f64 = outcomes
        .iter()
        .filter(|o| o.cost.is_finite())
        .map(|o| o.probability * o.cost)
        .sum();
    let mut concentration_hhi = BTreeMap::new();
    let mut by_material: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
    for s in &m.sites {
        let modules = plan.sites.get(&s.id).map_or(0, |d| d.modules);
        *by_material
            .entry(s.output.as_str())
            .or_default()
            .entry(s.country.as_str())
            .or_default() += s.module_capacity * f64::from(modules);
    }
    for (mat, countries) in by_material {
        let total_cap: f64 = countries.values().sum();
        if total_cap > 0.0 {
            let hhi = countries
                .values()
                .map(|c| (100.0 * c / total_cap).powi(2))
                .sum();
            concentration_hhi.insert(mat.to_string(), hhi);
        }
    }
    let mut order: Vec<usize> = (0..outcomes.len()).collect();
    order.sort_by(|a, b| {
        outcomes[*b]
            .shortfall_t
            .total_cmp(&outcomes[*a].shortfall_t)
            .then(outcomes[*b].cost.total_cmp(&outcomes[*a].cost))
    });
    let worst = order
        .iter()
        .take(10)
        .map(|w| {
            let case = &set.cases[*w];
            WorstScenario {
                id: case.id.clone(),
                shortfall_t: outcomes[*w].shortfall_t,
                cost: outcomes[*w].cost,
                hazards: case
                    .hazards
                    .iter()
                    .map(|h| m.hazards[*h].id.clone())
                    .collect(),
                disrupted: case.disrupted(net),
            }
        })
        .collect();
    Evaluation {
        scenarios: outcomes.len(),
        failed,
        first_stage_cost,
        expected_cost: first_stage_cost + expected_second,
        total,
        by_material: grouped(net, &outcomes, |d| m.demand[d].material.clone()),
        by_priority: grouped(net, &outcomes, |d| m.demand[d].priority.to_string()),
        by_country: grouped(net, &outcomes, |d| m.demand[d].country.clone()),
        concentration_hhi,
        worst,
        runtime_s,
        cancelled: false,
        scenarios_per_second: if runtime_s > 0.0 {
            outcomes.len() as f64 / runtime_s
        } else {
            0.0
        },
        outcomes,
    }
}
