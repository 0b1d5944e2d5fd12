//! Risk: the CVaR (or worst-case) term over the scenarios' costs or shortfalls, and its report.

use super::*;

impl<'a> SitingProblem<'a> {
    /// Risk term (Rockafellar-Uryasev): CVaR_beta = eta + 1/(1-beta) sum_w p_w xi_w with
    /// xi_w >= L_w - eta, xi_w >= 0; worst case: z >= L_w. Added to the objective with its
    /// weight, and bounded by its limit when one is given.
    pub(super) fn add_risk(&mut self, risk: &Risk) {
        if risk.measure == RiskMeasure::Expectation {
            // The expectation of the cost is the objective already; a limit on the expectation
            // (of shortfall, say) is one row: sum_w p_w L_w <= limit.
            if let Some(limit) = risk.limit {
                let fam = self.mip.family("risk");
                let mut terms: BTreeMap<usize, f64> = BTreeMap::new();
                for (w, case) in self.scenarios.cases.iter().enumerate() {
                    for (c, v) in &self.loss[w] {
                        *terms.entry(c.0).or_default() += case.probability * v;
                    }
                }
                let terms: Vec<(Col, f64)> = terms
                    .into_iter()
                    .filter(|(_, v)| *v != 0.0)
                    .map(|(c, v)| (Col(c), v))
                    .collect();
                self.mip.add_row(fam, f64::NEG_INFINITY, limit, terms);
            }
            return;
        }
        let fam = self.mip.family("risk");
        let cases = &self.scenarios.cases;
        let worst = risk.measure == RiskMeasure::WorstCase;
        let eta = self.mip.add_col(
            risk.weight,
            if worst { 0.0 } else { f64::NEG_INFINITY },
            f64::INFINITY,
            false,
        );
        let mut xis = Vec::new();
        let mut cvar_terms = vec![(eta, 1.0)];
        for (w, case) in cases.iter().enumerate() {
            let loss = self.loss[w].clone();
            if worst {
                // z - L_w >= 0
                let mut terms = vec![(eta, 1.0)];
                terms.extend(loss.iter().map(|(c, v)| (*c, -v)));
                self.mip.add_row(fam, 0.0, f64::INFINITY, terms);
            } else {
                let tail = case.probability / (1.0 - risk.beta);
                let xi = self
                    .mip
                    .add_col(risk.weight * tail, 0.0, f64::INFINITY, false);
                // xi + eta - L_w >= 0
                let mut terms = vec![(xi, 1.0), (eta, 1.0)];
                terms.extend(loss.iter().map(|(c, v)| (*c, -v)));
                self.mip.add_row(fam, 0.0, f64::INFINITY, terms);
                cvar_terms.push((xi, tail));
                xis.push(xi);
            }
        }
        if let Some(limit) = risk.limit {
            self.mip.add_row(fam, f64::NEG_INFINITY, limit, cvar_terms);
        }
        self.risk_cols = Some((eta, xis));
    }
}

/// The risk measure of the plan, computed from the scenario outcomes (not read from the MIP's
/// auxiliary variables).
pub(super) fn risk_report(risk: &Risk, scenarios: &[ScenarioOutcome]) -> RiskReport {
    let outcomes: Vec<(f64, f64)> = scenarios
        .iter()
        .map(|s| {
            let loss = match risk.on {
                RiskOn::Cost => s.operating_cost + s.shortfall_penalty,
                RiskOn::Shortfall => s.shortfall_t,
            };
            (s.probability, loss)
        })
        .collect();
    let value = match risk.measure {
        RiskMeasure::Expectation => outcomes.iter().map(|(p, l)| p * l).sum(),
        RiskMeasure::Cvar => cvar(&outcomes, risk.beta),
        RiskMeasure::WorstCase => outcomes
            .iter()
            .map(|(_, l)| *l)
            .fold(f64::NEG_INFINITY, f64::max),
    };
    RiskReport {
        measure: risk.measure,
        on: risk.on,
        beta: risk.beta,
        value,
    }
}

/// CVaR_beta of a discrete distribution `(probability, loss)`: the probability-weighted mean of
/// the worst (1 - beta) tail, splitting the scenario at the quantile.
pub fn cvar(outcomes: &[(f64, f64)], beta: f64) -> f64 {
    let mut sorted: Vec<(f64, f64)> = outcomes.to_vec();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
    let tail = 1.0 - beta;
    if tail <= 0.0 {
        return sorted.first().map_or(0.0, |x| x.1);
    }
    let mut left = tail;
    let mut acc = 0.0;
    for (p, loss) in sorted {
        let take = p.min(left);
        acc += take * loss;
        left -= take;
        if left <= 1e-15 {
            break;
        }
    }
    acc / tail
}
