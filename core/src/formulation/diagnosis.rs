//! The elastic re-solve of an infeasible model: every policy row and hard demand may be violated
//! at a price; the positive violations name the constraints that cannot all hold.

use super::policies::sense_str;
use super::*;

impl<'a> SitingProblem<'a> {
    /// After an elastic solve: the constraints whose violation column is positive.
    pub(super) fn violations(&self, run: &SolverRun) -> Vec<Violation> {
        let m = &self.net.model;
        if !run.has_solution {
            return Vec::new();
        }
        let x = &run.values;
        let plan = self.first_stage(x);
        let mut out = Vec::new();
        for row in &self.policy_rows {
            let Some(v) = row.violation else { continue };
            if x[v.0] <= 1e-6 {
                continue;
            }
            let material = row.material.map(|k| m.materials[k].id.clone());
            let achieved = self.row_value(row, &plan.capacity, &plan.open, plan.investment);
            let on_material = material
                .as_deref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default();
            let label = row.family.label(&row.subject, &on_material);
            let limit_txt = row.family.show(row.limit);
            let achieved_txt = row.family.show(achieved);
            out.push(Violation {
                family: row.family.name().to_string(),
                subject: row.subject.clone(),
                material,
                limit: row.limit,
                least_achievable: achieved,
                message: format!(
                    "{label} {} {limit_txt} cannot hold; {achieved_txt} is the least achievable",
                    sense_str(row.sense)
                ),
            });
        }
        for h in &self.hard_demand {
            let short = x[h.violation.0];
            if short > 1e-6 {
                let d = &m.demand[h.demand];
                let scen = &self.scenarios.cases[h.scenario].id;
                out.push(Violation {
                    family: "demand".into(),
                    subject: d.id.clone(),
                    material: Some(d.material.clone()),
                    limit: d.demand,
                    least_achievable: d.demand - short,
                    message: format!(
                        "demand {} of {} t/yr (no shortfall allowed) cannot be met in scenario {scen}; at most {} t/yr can be delivered",
                        d.id,
                        d.demand,
                        d.demand - short
                    ),
                });
            }
        }
        out
    }
}

/// The elastic re-solve: every policy constraint and hard demand gets a penalised violation; the
/// positive violations at the optimum are the constraints that cannot all hold.
pub fn diagnose(
    net: &Network,
    scenarios: &ScenarioSet,
    contingencies: &[ScenarioCase],
    settings: &Settings,
    control: &SolveControl,
) -> Result<Diagnosis, StockadeError> {
    let options = BuildOptions {
        elastic: true,
        contingencies,
        ..BuildOptions::default()
    };
    let problem = SitingProblem::build(net, scenarios, &options);
    let run = solve_mip(&problem.mip, settings, control)?;
    Ok(Diagnosis {
        violations: problem.violations(&run),
    })
}
