//! The capacity-dispersion MIP (DESIGN §4.1): a two-stage stochastic program whose first stage
//! opens sites, sizes them in modules, opens depots and stocks them; whose second stage moves
//! material in every scenario, meeting demand or paying for the shortfall.
//!
//! [`SitingProblem`] owns its variables, indexed by the network's own indices, with one `add_*`
//! function per constraint family. Results are read back through those handles.

mod diagnosis;
mod first_stage;
mod fixed_plan;
mod policies;
mod read;
mod risk;
mod second_stage;
mod survivability;

pub use diagnosis::diagnose;
pub use fixed_plan::{evaluation_hard_penalty, with_fixed_plan};
pub use risk::cvar;
pub use survivability::protected_shortfall_excess;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::error::{InputError, Problem};
use crate::model::{Risk, RiskMeasure, RiskOn};
use crate::network::{Network, NodeRef};
use crate::plan::{DepotDecision, Plan, SiteDecision};
use crate::result::{
    CostBreakdown, DepotPlan, Diagnosis, FlowResult, PolicyResult, RiskReport, ScenarioOutcome,
    ShortfallResult, SitePlan, SolveResult, Violation,
};
use crate::scenario::{ScenarioCase, ScenarioSet};
use crate::solver::mip::{Col, Row, SparseMip};
use crate::solver::{solve_mip, Method, Settings, SolveControl, SolverRun};
use crate::StockadeError;

/// Sense of a policy constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sense {
    AtMost,
    AtLeast,
}

/// A policy constraint row and what it means in the domain.
#[derive(Debug, Clone)]
struct PolicyRow {
    family: policies::PolicyFamily,
    subject: String,
    material: Option<usize>,
    sense: Sense,
    limit: f64,
    /// Elastic violation column (elastic mode only).
    violation: Option<Col>,
    /// Second site of a separation pair.
    pair: Option<(usize, usize)>,
}

/// A hard demand row that may be relaxed in elastic mode.
#[derive(Debug, Clone)]
struct HardDemand {
    demand: usize,
    scenario: usize,
    violation: Col,
}

/// The siting problem over a scenario set, ready to solve.
#[derive(Debug)]
pub struct SitingProblem<'a> {
    net: &'a Network,
    scenarios: &'a ScenarioSet,
    /// The MIP as it will be handed to HiGHS.
    pub mip: SparseMip,
    /// In elastic mode every policy row (and hard demand) gets a violation column and the
    /// objective is the total normalised violation.
    elastic: bool,
    elastic_cost: Vec<(Col, f64)>,
    open: Vec<Col>,
    modules: Vec<Col>,
    depot_open: Vec<Col>,
    /// Stock columns of each depot, by material index.
    stock: Vec<Vec<(usize, Col)>>,
    /// Single-source assignment (site, demand) -> column.
    assign: BTreeMap<(usize, usize), Col>,
    /// Flow of route e in scenario w: `flow[w * routes + e]`.
    flow: Vec<Col>,
    /// Shortfall of demand d in scenario w: `shortfall[w * demands + d]`.
    shortfall: Vec<Option<Col>>,
    policy_rows: Vec<PolicyRow>,
    hard_demand: Vec<HardDemand>,
    /// Hardening of each site: (option index, chosen column, modules x chosen column).
    harden: Vec<Vec<(usize, Col, Col)>>,
    /// Scenario-dependent rows and bounds of each outcome scenario (for re-use in evaluation).
    handles: Vec<ScenarioHandles>,
    /// Per-scenario loss terms (cost or shortfall) for the risk rows.
    loss: Vec<Vec<(Col, f64)>>,
    /// The risk variables: (eta or z, xi columns).
    risk_cols: Option<(Col, Vec<Col>)>,
    evaluation: bool,
    /// Every demand node has a shortfall column, a hard one fixed at 0 (see [`BuildOptions`]).
    recourse_columns: bool,
    /// Columns of the first stage: every column before the first scenario's.
    first_stage_cols: usize,
    /// Columns of one scenario's second stage (every scenario has the same).
    second_stage_cols: usize,
    /// The largest expected shortfall fraction across parties (min-max fairness).
    max_party_shortfall: Option<Col>,
}

/// How to build the problem.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildOptions<'c> {
    /// Every policy row and hard demand gets a penalised violation column; the objective is the
    /// total normalised violation (the infeasibility diagnosis).
    pub elastic: bool,
    /// Zero-probability contingencies in which protected demand must be met (N-k survivability).
    pub contingencies: &'c [ScenarioCase],
    /// Evaluation of a fixed plan: hard demand may fall short at [`EVALUATION_HARD_PENALTY`]
    /// times the largest penalty, so that every scenario has an answer.
    pub evaluation: bool,
    /// Every demand node gets a shortfall column in every scenario; hard demand's is fixed at 0.
    /// Benders relaxes those bounds to measure how far a first stage is from feasible.
    pub recourse_columns: bool,
    /// First phase of min-max fairness: the objective is the largest expected shortfall
    /// fraction across parties alone (every cost set to zero).
    pub min_max_phase_one: bool,
}

/// Rows and columns of one scenario whose coefficients or bounds depend on availability.
#[derive(Debug, Clone, Default)]
pub struct ScenarioHandles {
    /// (supplier, its capacity row).
    pub supplier_rows: Vec<(usize, Row)>,
    /// (site, its capacity row).
    pub site_rows: Vec<(usize, Row)>,
    /// (depot, stock column, its release row).
    pub depot_rows: Vec<(usize, Col, Row)>,
    /// First flow column: route e is `first_flow + e`.
    pub first_flow: usize,
    /// Shortfall column of each demand node.
    pub shortfall: Vec<Option<Col>>,
}

impl<'a> SitingProblem<'a> {
    /// Builds the whole formulation: first stage, every scenario, every policy in the model.
    pub fn build(net: &'a Network, scenarios: &'a ScenarioSet, options: &BuildOptions<'_>) -> Self {
        let elastic = options.elastic;
        let mut p = SitingProblem {
            net,
            scenarios,
            mip: SparseMip::new(),
            elastic,
            harden: Vec::new(),
            handles: Vec::new(),
            loss: Vec::new(),
            risk_cols: None,
            evaluation: options.evaluation,
            recourse_columns: options.recourse_columns,
            first_stage_cols: 0,
            second_stage_cols: 0,
            max_party_shortfall: None,
            elastic_cost: Vec::new(),
            open: Vec::new(),
            modules: Vec::new(),
            depot_open: Vec::new(),
            stock: Vec::new(),
            assign: BTreeMap::new(),
            flow: Vec::new(),
            shortfall: Vec::new(),
            policy_rows: Vec::new(),
            hard_demand: Vec::new(),
        };
        p.add_sites();
        p.add_depots();
        p.add_single_source();
        p.first_stage_cols = p.mip.num_cols();
        for case in &scenarios.cases {
            let handles = p.add_scenario(case, false);
            p.handles.push(handles);
        }
        if let Some(h) = p.handles.first() {
            p.second_stage_cols =
                p.handles.get(1).map_or(p.mip.num_cols(), |n| n.first_flow) - h.first_flow;
        }
        if let Some(risk) = net.model.risk.as_ref().filter(|_| !options.evaluation) {
            p.add_risk(risk);
        }
        let pol = &net.model.policies;
        if let Some(sv) = &pol.survivability {
            p.add_survivability(options.contingencies, sv.fraction, sv.priority);
        }
        if let Some(sigma) = pol.site_share {
            p.add_site_share(sigma);
        }
        if let Some(cs) = &pol.country_share {
            p.add_country_share(cs.cap, &cs.by_country);
        }
        if let Some(tau) = pol.trusted_share {
            p.add_trusted_share(tau);
        }
        if let Some(os) = &pol.open_sites {
            p.add_open_sites(os.min, os.max);
        }
        if let Some(c) = pol.min_countries {
            p.add_min_countries(c);
        }
        if let Some(d) = pol.min_separation_km {
            p.add_separation(d);
        }
        if let Some(b) = pol.budget {
            p.add_budget(b);
        }
        if let Some(f) = net
            .model
            .agreement
            .as_ref()
            .and_then(|a| a.fairness.as_ref())
        {
            if !options.evaluation {
                p.add_fairness(f.max_shortfall_fraction, f.min_max);
            }
        }
        if options.min_max_phase_one {
            if let Some(z) = p.max_party_shortfall {
                p.mip.col_cost.iter_mut().for_each(|c| *c = 0.0);
                p.mip.offset = 0.0;
                p.mip.col_cost[z.0] = 1.0;
            }
        }
        if elastic {
            p.mip.col_cost.iter_mut().for_each(|c| *c = 0.0);
            p.mip.offset = 0.0;
            for (col, cost) in &p.elastic_cost {
                p.mip.col_cost[col.0] = *cost;
            }
        }
        p
    }

    fn routes(&self) -> usize {
        self.net.route_key.len()
    }

    /// Output capacity terms of site `s`: module_capacity * modules.
    fn capacity_term(&self, s: usize) -> (Col, f64) {
        (self.modules[s], self.net.model.sites[s].module_capacity)
    }

    /// The risk columns, when the model sets a CVaR or worst-case measure: (eta or z, the tail
    /// excess column of each outcome scenario; empty for worst case).
    pub fn risk_cols(&self) -> Option<(Col, &[Col])> {
        self.risk_cols.as_ref().map(|(c, xs)| (*c, xs.as_slice()))
    }

    /// Columns of the first stage: every column before the first scenario's, in the same order in
    /// every build of the same network.
    pub fn first_stage_cols(&self) -> usize {
        self.first_stage_cols
    }

    /// Columns of one scenario's second stage (0 without scenarios); scenario `w`'s are
    /// `first_stage_cols() + w * second_stage_cols()` on.
    pub fn second_stage_cols(&self) -> usize {
        self.second_stage_cols
    }

    /// The network this problem was built from.
    pub fn network(&self) -> &'a Network {
        self.net
    }

    /// The modules column of site `s`.
    pub fn modules_col(&self, s: usize) -> Col {
        self.modules[s]
    }

    /// Hardening options of site `s`: (option index, chosen column, modules x chosen column).
    pub fn hardening_cols(&self, s: usize) -> &[(usize, Col, Col)] {
        &self.harden[s]
    }

    /// Cost of the fixed first stage: everything before the first scenario's columns.
    pub fn first_stage_cost(&self) -> f64 {
        let first = self
            .handles
            .first()
            .map_or(self.mip.num_cols(), |h| h.first_flow);
        self.mip.offset
            + (0..first)
                .map(|c| self.mip.col_cost[c] * self.mip.col_lower[c])
                .sum::<f64>()
    }

    /// Scenario-dependent handles of outcome scenario `w`.
    pub fn handles(&self, w: usize) -> &ScenarioHandles {
        &self.handles[w]
    }

    /// Second-stage cost of outcome scenario `w` in solution `x` (its operating cost plus
    /// penalties, not weighted by probability), and its shortfall by demand node.
    pub fn scenario_outcome(&self, w: usize, x: &[f64]) -> (f64, Vec<f64>) {
        let h = &self.handles[w];
        let mut cost = self.operating_cost(w, x);
        let mut short = Vec::with_capacity(h.shortfall.len());
        for (d, u) in h.shortfall.iter().enumerate() {
            let t = u.map_or(0.0, |c| clean(x[c.0]));
            let pen = self.net.demand_penalty[d].unwrap_or_else(|| self.hard_penalty());
            cost += pen * t;
            short.push(t);
        }
        (cost, short)
    }
}

/// Size and build time of the siting MIP, without solving it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildReport {
    /// Seconds to build the scenario set and the MIP.
    pub build_s: f64,
    /// Model size as HiGHS would see it.
    pub model_size: crate::solver::mip::ModelSize,
    /// Rows per constraint family.
    pub rows_by_family: BTreeMap<String, usize>,
    /// Scenarios in the formulation.
    pub scenarios: usize,
}

/// Builds the siting MIP of `net`, hands it to HiGHS (without solving) and reports its size and
/// the time to that point.
pub fn build_report(net: &Network) -> Result<BuildReport, StockadeError> {
    let started = Instant::now();
    let scenarios = ScenarioSet::explicit(net);
    let problem = SitingProblem::build(net, &scenarios, &BuildOptions::default());
    crate::solver::highs::load_only(&problem.mip)?;
    let build_s = started.elapsed().as_secs_f64();
    Ok(BuildReport {
        build_s,
        model_size: problem.mip.size(),
        rows_by_family: problem.mip.rows_by_family(),
        scenarios: scenarios.cases.len(),
    })
}

/// Rounds solver noise to zero.
pub(super) fn clean(x: f64) -> f64 {
    if x.abs() < 1e-9 {
        0.0
    } else {
        x
    }
}
