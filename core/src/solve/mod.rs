//! Solving the siting problem: the extensive form or Benders (chosen by [`crate::solver::Method`] and the
//! problem's size), the N-k constraint-generation loop around the extensive form, and the elastic
//! diagnosis of an infeasible model. Everything here builds on [`crate::formulation`] and runs
//! through [`crate::solver`].

use std::time::Instant;

use crate::formulation::{diagnose, protected_shortfall_excess, BuildOptions, SitingProblem};
use crate::model::SurvivabilityMethod;
use crate::network::Network;
use crate::plan::Plan;
use crate::result::{SolveResult, SurvivabilityReport};
use crate::scenario::{ScenarioCase, ScenarioSet};
use crate::solver::{solve_mip_from, Settings, SolveControl, Status};
use crate::StockadeError;

pub mod benders;

/// Contingency sets up to this size go into the MIP whole; larger ones are generated.
pub const ENUMERATE_CONTINGENCIES_UP_TO: usize = 40;

/// Solves the siting model of a validated network over a scenario set. N-k survivability, when
/// the model asks for it, is enforced by full enumeration for small contingency sets and by
/// constraint generation for large ones (solve, check every contingency against the plan with an
/// LP, add the violated ones, re-solve). When the model is infeasible, an elastic re-solve names
/// the constraints that cannot all hold.
pub fn solve_siting(
    net: &Network,
    scenarios: &ScenarioSet,
    settings: &Settings,
    control: &SolveControl,
) -> Result<SolveResult, StockadeError> {
    solve_siting_from(net, scenarios, settings, control, None).map(|(r, _)| r)
}

/// A solve to start another from: its plan and, when the extensive form ran, its whole column
/// vector.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WarmStart {
    /// The first-stage decisions.
    pub plan: Plan,
    /// Every column of the MIP that found the plan (empty after Benders).
    pub values: Vec<f64>,
}

/// [`solve_siting`] warm-started from `start`, a neighbouring solve (a sweep's nearest solved
/// variant), also returning the start this solve offers its own neighbours. When the MIP has the
/// same columns as the start's (a change of costs, bounds or limits), the whole solution goes to
/// HiGHS, which only checks it and keeps it as the first incumbent when feasible here; otherwise
/// the plan's first stage does, and HiGHS completes it. The answer is the same as without a start
/// (up to alternative optima); only the time to reach it changes. Benders ignores the start.
pub fn solve_siting_from(
    net: &Network,
    scenarios: &ScenarioSet,
    settings: &Settings,
    control: &SolveControl,
    start: Option<&WarmStart>,
) -> Result<(SolveResult, Option<WarmStart>), StockadeError> {
    if benders::chooses_benders(settings.method, net, scenarios)? {
        let result = benders::solve_benders(net, scenarios, settings, control)?;
        let next = result.plan.clone().map(|plan| WarmStart {
            plan,
            values: Vec::new(),
        });
        return Ok((result, next));
    }
    let survivability = net.model.policies.survivability.as_ref();
    let all = survivability
        .map(|sv| ScenarioSet::contingencies(net, sv.k, &sv.targets))
        .unwrap_or_default();
    let generate = match survivability.map(|sv| sv.method) {
        Some(SurvivabilityMethod::Enumerate) | None => false,
        Some(SurvivabilityMethod::Generate) => true,
        Some(SurvivabilityMethod::Auto) => all.len() > ENUMERATE_CONTINGENCIES_UP_TO,
    };
    let mut active: Vec<ScenarioCase> = if generate { Vec::new() } else { all.clone() };
    let mut in_model = vec![!generate; all.len()];
    let mut iterations = 0;
    let started = Instant::now();
    let mut build_total = 0.0;
    loop {
        iterations += 1;
        let build_started = Instant::now();
        let options = BuildOptions {
            contingencies: &active,
            ..BuildOptions::default()
        };
        let problem = SitingProblem::build(net, scenarios, &options);
        build_total += build_started.elapsed().as_secs_f64();
        let build_s = build_total;
        let warm = match start {
            Some(w) if w.values.len() == problem.mip.num_cols() => {
                w.values.iter().copied().enumerate().collect()
            }
            Some(w) => problem.start_values(&w.plan),
            None => Vec::new(),
        };
        // The time limit is the loop's, not each solve's.
        let left = settings.with_time_limit(settings.remaining_s(&started));
        let run = solve_mip_from(&problem.mip, &left, control, &warm)?;
        let mut result = problem.read(&run, build_s, settings);
        // Every plan is checked against the contingencies not yet in the MIP, a time-limited
        // incumbent too: its report must not claim a survivability it does not have.
        let violated = match (survivability, generate && run.has_solution) {
            (Some(sv), true) => {
                let plan = problem.plan(&run.values);
                let mut v = Vec::new();
                for (i, case) in all.iter().enumerate() {
                    if !in_model[i]
                        && protected_shortfall_excess(net, &plan, case, sv.fraction, sv.priority)?
                            > 0.0
                    {
                        v.push(i);
                    }
                }
                v
            }
            _ => Vec::new(),
        };
        // More contingencies go into the MIP only after an optimal solve; at a limit the loop
        // stops with the contingencies its incumbent fails named in the report.
        let more = run.status == Status::Optimal && !violated.is_empty();
        if !more {
            if let Some(sv) = survivability {
                result.survivability = Some(SurvivabilityReport {
                    k: sv.k,
                    method: if generate {
                        "constraint_generation"
                    } else {
                        "enumeration"
                    }
                    .into(),
                    contingencies: all.len(),
                    in_model: active.len(),
                    iterations,
                    not_survived: violated.iter().map(|i| all[*i].id.clone()).collect(),
                });
            }
            // Every solve and contingency check of the loop, without the builds.
            result.runtime_s = started.elapsed().as_secs_f64() - build_total;
            if run.status == Status::Infeasible {
                result.diagnosis = Some(diagnose(net, scenarios, &active, settings, control)?);
            }
            let next = run.has_solution.then(|| WarmStart {
                plan: problem.plan(&run.values),
                values: run.values.clone(),
            });
            return Ok((result, next));
        }
        for i in violated {
            in_model[i] = true;
            active.push(all[i].clone());
        }
    }
}
