//! A plan's worst case: the k losses that hurt most, their shortfall by demand, and the single
//! points of failure.

use super::problem::*;
use super::*;

/// Unmet demand of one node in a loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DemandShortfall {
    /// Demand node id.
    pub demand: String,
    /// Its priority.
    pub priority: u32,
    /// Unmet, t/yr.
    pub shortfall_t: f64,
    /// Hard demand (no penalty in the model): priced at the evaluation's hard penalty.
    pub hard: bool,
}

/// One element lost alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SinglePointOfFailure {
    /// Rank, 1 = the most costly loss.
    pub rank: usize,
    /// The element.
    pub element: ElementRef,
    /// Second-stage cost with it lost, currency/yr.
    pub cost: f64,
    /// Cost above the intact second stage, currency/yr.
    pub increase: f64,
    /// Unmet demand, t/yr.
    pub shortfall_t: f64,
    /// Unmet priority-1 demand, t/yr.
    pub priority1_shortfall_t: f64,
}

/// The worst case of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WorstCase {
    /// Most elements lost at once.
    pub k: u32,
    /// Element kinds that could be lost.
    pub targets: Vec<String>,
    /// Share of the year a lost element is out.
    pub duration: f64,
    /// Elements that could be lost (protected ones excluded).
    pub candidates: usize,
    /// Currency of every money figure.
    pub currency: String,
    /// How the interdiction MIP ended (`optimal`, or `time_limit` with the best set found).
    pub status: Status,
    /// The worst loss set found.
    pub lost: Vec<ElementRef>,
    /// Its second-stage cost (operating plus shortfall penalty), from the plan's LP with those
    /// elements lost, currency/yr.
    pub cost: f64,
    /// The second-stage cost with nothing lost, currency/yr.
    pub base_cost: f64,
    /// The plan's first-stage cost (investment and holding), currency/yr.
    pub first_stage_cost: f64,
    /// Unmet demand in the worst loss, t/yr.
    pub shortfall_t: f64,
    /// Unmet demand by node in the worst loss.
    pub shortfall: Vec<DemandShortfall>,
    /// Proven upper bound on the worst cost (equal to `cost` when optimal), currency/yr.
    pub bound: Option<f64>,
    /// Relative gap between `cost` and `bound`.
    pub gap: Option<f64>,
    /// The MIP's own value of the worst set (the dual objective), for the record.
    pub mip_value: Option<f64>,
    /// Every candidate lost alone, most costly first (empty when not asked for).
    pub single_points_of_failure: Vec<SinglePointOfFailure>,
    /// Things a reader must know (hard demand left unmet, a disagreement between the MIP and
    /// the LP).
    pub notes: Vec<String>,
    /// Size of the interdiction MIP.
    pub model_size: ModelSize,
    /// Rows of the MIP per constraint family.
    pub rows_by_family: BTreeMap<String, usize>,
    /// Seconds in HiGHS on the interdiction MIP.
    pub mip_runtime_s: f64,
    /// Wall-clock seconds, all solves included (the single points of failure too).
    pub runtime_s: f64,
}

/// What to analyse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct WorstCaseOptions {
    /// Most elements lost at once.
    pub k: u32,
    /// Element kinds that can be lost: `sites`, `suppliers`, `depots`, `routes`.
    pub targets: Vec<String>,
    /// Share of the year a lost element is out, (0, 1]: its capacity (stock, for a depot) keeps
    /// `1 - duration`. An uncapacitated route is only closed by a whole-year loss, as in the
    /// scenarios.
    pub duration: f64,
    /// Also rank every candidate lost alone (one LP each).
    pub single_points_of_failure: bool,
}

impl Default for WorstCaseOptions {
    fn default() -> Self {
        WorstCaseOptions {
            k: 1,
            targets: TARGET_KINDS.iter().map(|s| s.to_string()).collect(),
            duration: 1.0,
            single_points_of_failure: true,
        }
    }
}

impl WorstCaseOptions {
    /// The elements that can be lost, or an input error naming the option at fault.
    pub fn candidates(&self, net: &Network) -> Result<Vec<Element>, InputError> {
        if !(self.duration.is_finite() && self.duration > 0.0 && self.duration <= 1.0) {
            return Err(InputError::single(
                "--duration",
                format!(
                    "must be a share of the year in (0, 1], got {}",
                    self.duration
                ),
            ));
        }
        candidate_elements(net, &self.targets)
    }
}

/// The scenario in which `lost` are out for `duration` of the year (availability 1 - duration).
pub fn attack_case(net: &Network, lost: &[Element], duration: f64) -> ScenarioCase {
    if lost.is_empty() {
        return intact(net, "base", 1.0);
    }
    let mut case = loss_case(net, lost);
    let left = 1.0 - duration;
    for e in lost {
        match e {
            Element::Supplier(i) => case.supplier[*i] = left,
            Element::Site(i) => case.site[*i] = left,
            Element::Depot(i) => case.depot[*i] = left,
            Element::Route(i) => case.route[*i] = left,
        }
    }
    case
}

/// Checks `plan` against the model and returns its first-stage cost.
pub fn checked_first_stage_cost(net: &Network, plan: &Plan) -> Result<f64, StockadeError> {
    with_fixed_plan(net, plan, &intact(net, "base", 1.0), |p| {
        Ok(p.first_stage_cost())
    })
}

/// Cost and unmet demand of one loss set under the plan, from its evaluation LP.
pub fn loss_outcome(
    net: &Network,
    plan: &Plan,
    lost: &[Element],
    duration: f64,
) -> Result<(f64, Vec<f64>), StockadeError> {
    let case = attack_case(net, lost, duration);
    let (eval, ok) = solve_cold(net, plan, &case)?;
    if !ok {
        return Err(StockadeError::Solver(format!(
            "the second-stage LP of `{}` did not solve to optimality",
            case.id
        )));
    }
    Ok((eval.cost, eval.shortfall_by_demand))
}

/// Unmet demand by node, for the report.
pub(super) fn shortfall_list(net: &Network, by_demand: &[f64]) -> Vec<DemandShortfall> {
    net.model
        .demand
        .iter()
        .zip(by_demand)
        .enumerate()
        .filter(|(_, (_, t))| **t > 1e-6)
        .map(|(d, (dn, t))| DemandShortfall {
            demand: dn.id.clone(),
            priority: dn.priority,
            shortfall_t: *t,
            hard: net.demand_penalty[d].is_none(),
        })
        .collect()
}

/// Every candidate lost alone, ranked by cost, then shortfall (warm-started evaluation LPs).
pub fn single_points_of_failure(
    net: &Network,
    plan: &Plan,
    candidates: &[Element],
    duration: f64,
) -> Result<Vec<SinglePointOfFailure>, StockadeError> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let (base, _) = loss_outcome(net, plan, &[], duration)?;
    let p = 1.0 / candidates.len() as f64;
    let set = ScenarioSet {
        cases: candidates
            .iter()
            .map(|e| {
                let mut case = attack_case(net, &[*e], duration);
                case.probability = p;
                case
            })
            .collect(),
    };
    let evaluation = evaluate(net, plan, &set, &EvaluationSettings::default(), &|_, _| {})?;
    if let Some(id) = evaluation.failed.first() {
        return Err(StockadeError::Solver(format!(
            "the second-stage LP of `{id}` did not solve to optimality"
        )));
    }
    let m = &net.model;
    let mut out: Vec<SinglePointOfFailure> = candidates
        .iter()
        .zip(&evaluation.outcomes)
        .map(|(e, o)| SinglePointOfFailure {
            rank: 0,
            element: ElementRef::of(net, *e),
            cost: o.cost,
            increase: (o.cost - base).max(0.0),
            shortfall_t: o.shortfall_t,
            priority1_shortfall_t: o
                .shortfall_by_demand
                .iter()
                .zip(&m.demand)
                .filter(|(_, d)| d.priority <= 1)
                .fold(0.0, |a, (t, _)| a + t),
        })
        .collect();
    out.sort_by(|a, b| {
        b.cost
            .total_cmp(&a.cost)
            .then(b.shortfall_t.total_cmp(&a.shortfall_t))
            .then(a.element.cmp(&b.element))
    });
    for (i, s) in out.iter_mut().enumerate() {
        s.rank = i + 1;
    }
    Ok(out)
}

/// The worst loss of up to `k` elements for a fixed plan, and (when asked) the ranked single
/// points of failure. `protected` elements cannot be lost.
pub fn worst_case(
    net: &Network,
    plan: &Plan,
    options: &WorstCaseOptions,
    protected: &[Element],
    settings: &Settings,
    control: &SolveControl,
) -> Result<WorstCase, StockadeError> {
    let started = Instant::now();
    let first_stage_cost = checked_first_stage_cost(net, plan)?;
    let duration = options.duration;
    let candidates: Vec<Element> = options
        .candidates(net)?
        .into_iter()
        .filter(|e| !protected.contains(e))
        .collect();
    let found = interdict(
        net,
        plan,
        options.k,
        duration,
        &candidates,
        settings,
        control,
    )?;
    let (base_cost, _) = loss_outcome(net, plan, &[], duration)?;
    let (cost, by_demand) = loss_outcome(net, plan, &found.lost, duration)?;
    let mut notes = Vec::new();
    if let Some(v) = found.value {
        if (v - cost).abs() > 1e-6 * cost.abs().max(1.0) {
            notes.push(format!(
                "the interdiction MIP values the worst set at {v:.6e} and its LP at {cost:.6e}: numerical trouble, trust the LP"
            ));
        }
    }
    let shortfall = shortfall_list(net, &by_demand);
    let hard = evaluation_hard_penalty(net);
    for s in shortfall.iter().filter(|s| s.hard) {
        notes.push(format!(
            "hard demand {} cannot be met: {:.3} t/yr short, priced at the evaluation's hard penalty of {hard} {}/t",
            s.demand, s.shortfall_t, net.model.currency
        ));
    }
    let single_points_of_failure = if options.single_points_of_failure {
        single_points_of_failure(net, plan, &candidates, duration)?
    } else {
        Vec::new()
    };
    // The LP's value is the truth; the bound can only be trusted as far as the MIP's.
    let bound = found.bound.map(|b| b.max(cost));
    let gap = bound.map(|b| (b - cost).max(0.0) / b.abs().max(1e-9));
    Ok(WorstCase {
        k: options.k,
        targets: options.targets.clone(),
        duration,
        candidates: candidates.len(),
        currency: net.model.currency.clone(),
        status: found.status,
        lost: found.lost.iter().map(|e| ElementRef::of(net, *e)).collect(),
        cost,
        base_cost,
        first_stage_cost,
        shortfall_t: by_demand.iter().fold(0.0, |a, b| a + b),
        shortfall,
        bound,
        gap,
        mip_value: found.value,
        single_points_of_failure,
        notes,
        model_size: found.size,
        rows_by_family: found.rows_by_family,
        mip_runtime_s: found.runtime_s,
        runtime_s: started.elapsed().as_secs_f64(),
    })
}
