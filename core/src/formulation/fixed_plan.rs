//! A plan fixed: one scenario as an LP with the first stage set, the way every fixed-plan check
//! and cold evaluation is built.

use super::*;

/// Hard demand falls short in an evaluation at this multiple of the model's largest penalty
/// (or of 1e6 when there is none): dearer than any penalised shortfall, so it comes last.
pub const EVALUATION_HARD_PENALTY: f64 = 10.0;

/// Penalty per t of hard demand unmet when a fixed plan is evaluated (and in the worst-case
/// analyses): [`EVALUATION_HARD_PENALTY`] times the model's largest penalty, or times 1e6 when
/// the model has none.
pub fn evaluation_hard_penalty(net: &Network) -> f64 {
    let largest = net
        .demand_penalty
        .iter()
        .flatten()
        .fold(0.0f64, |a, b| a.max(*b));
    EVALUATION_HARD_PENALTY * if largest > 0.0 { largest } else { 1e6 }
}

/// Builds `case` alone (probability 1) as an LP with the first stage fixed to `plan`, and hands
/// it to `f`: the one way every fixed-plan check and cold evaluation is set up.
pub fn with_fixed_plan<R>(
    net: &Network,
    plan: &Plan,
    case: &ScenarioCase,
    f: impl FnOnce(&mut SitingProblem<'_>) -> Result<R, StockadeError>,
) -> Result<R, StockadeError> {
    let set = ScenarioSet::alone(case);
    let options = BuildOptions {
        evaluation: true,
        ..BuildOptions::default()
    };
    let mut problem = SitingProblem::build(net, &set, &options);
    problem.fix_plan(plan)?;
    f(&mut problem)
}
