//! N-k survivability: protected demand kept in every contingency of up to k losses, in the MIP
//! and as the fixed-plan LP check the constraint-generation loop runs.

use super::*;

impl<'a> SitingProblem<'a> {
    /// N-k survivability: in every contingency, protected demand (priority <= `priority`) falls
    /// short by at most (1 - fraction) of its total.
    pub(super) fn add_survivability(
        &mut self,
        contingencies: &[ScenarioCase],
        fraction: f64,
        priority: u32,
    ) {
        let m = &self.net.model;
        let protected: Vec<usize> = (0..m.demand.len())
            .filter(|d| m.demand[*d].priority <= priority)
            .collect();
        let total: f64 = protected.iter().map(|d| m.demand[*d].demand).sum();
        if protected.is_empty() {
            return;
        }
        let fam = self.mip.family("survivability");
        for case in contingencies {
            let handles = self.add_scenario(case, true);
            let terms: Vec<(Col, f64)> = protected
                .iter()
                .filter_map(|d| handles.shortfall[*d].map(|u| (u, 1.0)))
                .collect();
            self.mip
                .add_row(fam, f64::NEG_INFINITY, (1.0 - fraction) * total, terms);
        }
    }
}

/// How far protected demand falls short in contingency `case` under a fixed plan, beyond what
/// survivability allows (t/yr; <= 0 when the contingency is survived). An LP whose only cost is
/// the protected shortfall.
pub fn protected_shortfall_excess(
    net: &Network,
    plan: &Plan,
    case: &ScenarioCase,
    fraction: f64,
    priority: u32,
) -> Result<f64, StockadeError> {
    with_fixed_plan(net, plan, case, |problem| {
        protected_excess(net, problem, fraction, priority)
    })
}

/// Protected shortfall beyond the allowance, in a fixed-plan problem: the only cost is the
/// protected shortfall.
pub(super) fn protected_excess(
    net: &Network,
    problem: &mut SitingProblem<'_>,
    fraction: f64,
    priority: u32,
) -> Result<f64, StockadeError> {
    let m = &net.model;
    problem.mip.col_cost.iter_mut().for_each(|c| *c = 0.0);
    problem.mip.offset = 0.0;
    let mut total = 0.0;
    for (d, u) in problem.handles(0).shortfall.clone().iter().enumerate() {
        if m.demand[d].priority <= priority {
            total += m.demand[d].demand;
            if let Some(u) = u {
                problem.mip.col_cost[u.0] = 1.0;
            }
        }
    }
    let run = solve_mip(&problem.mip, &Settings::default(), &SolveControl::default())?;
    let short = run.objective.unwrap_or(f64::INFINITY);
    let allowed = (1.0 - fraction) * total;
    let excess = short - allowed;
    Ok(if excess > 1e-6 * total.max(1.0) {
        excess
    } else {
        0.0
    })
}
