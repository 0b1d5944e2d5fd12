//! Statistical bounds for sampled models (Mak, Morton and Wood 1999): M independent sample
//! average approximations give a lower bound on the true optimum; the best of their plans,
//! evaluated on an independent large sample, gives an upper bound; their difference estimates
//! the optimality gap, each with a 95 % confidence interval.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use crate::analysis::evaluate::{evaluate, EvaluationSettings};
use crate::network::Network;
use crate::scenario::ScenarioSet;
use crate::solve::solve_siting;
use crate::solver::{Settings, SolveControl};
use crate::StockadeError;

/// SAA design: `replications` x `sample` scenarios for the lower bound, `evaluation_sample` for
/// the upper bound.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SaaDesign {
    /// M: independent replications (at least 2).
    pub replications: usize,
    /// N: scenarios in each replication.
    pub sample: usize,
    /// N': scenarios of the independent upper-bound sample.
    pub evaluation_sample: usize,
    /// Seed of the first replication; replication r uses seed + r, the evaluation sample
    /// seed + 1_000_003.
    pub seed: u64,
}

/// A point estimate with its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Point estimate.
    pub mean: f64,
    /// Lower end of the 95 % interval.
    pub low: f64,
    /// Upper end of the 95 % interval.
    pub high: f64,
}

/// What the SAA procedure found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaaReport {
    /// The design.
    pub design: SaaDesign,
    /// Lower bound on the true optimal expected cost (mean of the replications' bounds,
    /// Student-t interval).
    pub lower_bound: Estimate,
    /// Upper bound: the candidate plan's expected cost on the evaluation sample (normal interval).
    pub upper_bound: Estimate,
    /// Optimality gap of the candidate plan: upper minus lower bound; `high` is the conservative
    /// 95 % bound (upper bound's high end minus lower bound's low end).
    pub gap: Estimate,
    /// Each replication's optimal objective (or best bound when it stopped early).
    pub replication_bounds: Vec<f64>,
    /// Replication whose plan is the candidate (lowest SAA objective).
    pub candidate: usize,
}

/// Runs the MMW procedure on the hazards of `net`.
pub fn saa(
    net: &Network,
    design: SaaDesign,
    settings: &Settings,
) -> Result<SaaReport, StockadeError> {
    check_design(net, &design)?;
    let replications = (0..design.replications)
        .map(|r| saa_replication(net, &design, r, settings))
        .collect::<Result<Vec<_>, _>>()?;
    saa_from_replications(net, design, &replications)
}

/// What one SAA replication found: the bound of its sampled problem and its plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replication {
    /// Replication index r (its sample's seed is `design.seed + r`).
    pub index: usize,
    /// Best proven bound of the sampled problem (its objective when solved to optimality).
    pub bound: f64,
    /// Objective of its plan on its own sample, when it has one.
    pub objective: Option<f64>,
    /// The plan, when it has one.
    pub plan: Option<crate::plan::Plan>,
}

fn check_design(net: &Network, design: &SaaDesign) -> Result<(), StockadeError> {
    if design.replications < 2 || design.sample == 0 || design.evaluation_sample < 2 {
        return Err(crate::InputError::single(
            "saa",
            "needs M >= 2 replications, N >= 1 and N' >= 2 scenarios",
        )
        .into());
    }
    if net.model.hazards.is_empty() {
        return Err(crate::InputError::single(
            "hazards",
            "SAA samples scenarios from the hazards, and the model has none",
        )
        .into());
    }
    Ok(())
}

/// Replication `r` of the design: the model over its own sample of `design.sample` scenarios
/// (seed `design.seed + r`). Independent of the others, so replications can run anywhere (the
/// Python package sends them to Ray as tasks) and be combined by [`saa_from_replications`].
pub fn saa_replication(
    net: &Network,
    design: &SaaDesign,
    r: usize,
    settings: &Settings,
) -> Result<Replication, StockadeError> {
    check_design(net, design)?;
    let set = ScenarioSet::sampled(net, design.sample, design.seed + r as u64);
    let result = solve_siting(net, &set, settings, &SolveControl::default())?;
    let bound = result.best_bound.or(result.objective).ok_or_else(|| {
        StockadeError::Solver(format!(
            "replication {r} ended {} without a bound",
            result.status.as_str()
        ))
    })?;
    Ok(Replication {
        index: r,
        bound,
        objective: result.objective,
        plan: result.plan,
    })
}

/// The MMW bounds from the design's replications (in any order): the lower bound from their
/// bounds, the upper bound from the best plan evaluated on an independent sample.
pub fn saa_from_replications(
    net: &Network,
    design: SaaDesign,
    replications: &[Replication],
) -> Result<SaaReport, StockadeError> {
    check_design(net, &design)?;
    let mut sorted: Vec<&Replication> = replications.iter().collect();
    sorted.sort_by_key(|r| r.index);
    let indices: Vec<usize> = sorted.iter().map(|r| r.index).collect();
    if indices != (0..design.replications).collect::<Vec<_>>() {
        return Err(crate::InputError::single(
            "replications",
            format!(
                "expected replications 0..{} once each, got {indices:?}",
                design.replications
            ),
        )
        .into());
    }
    let bounds: Vec<f64> = sorted.iter().map(|r| r.bound).collect();
    let mut best: Option<(f64, usize, crate::plan::Plan)> = None;
    for rep in &sorted {
        if let (Some(obj), Some(plan)) = (rep.objective, &rep.plan) {
            if best.as_ref().is_none_or(|(b, _, _)| obj < *b) {
                best = Some((obj, rep.index, plan.clone()));
            }
        }
    }
    let (_, candidate, plan) =
        best.ok_or_else(|| StockadeError::Solver("no replication found a plan".into()))?;
    let m = bounds.len() as f64;
    let lb_mean = bounds.iter().sum::<f64>() / m;
    let lb_var = bounds.iter().map(|b| (b - lb_mean).powi(2)).sum::<f64>() / (m - 1.0);
    let t = StudentsT::new(0.0, 1.0, m - 1.0)
        .map_err(|e| StockadeError::Solver(e.to_string()))?
        .inverse_cdf(0.975);
    let lb_half = t * (lb_var / m).sqrt();

    let eval_set = ScenarioSet::sampled(net, design.evaluation_sample, design.seed + 1_000_003);
    let eval = evaluate(
        net,
        &plan,
        &eval_set,
        &EvaluationSettings::default(),
        &|_, _| {},
    )?;
    let costs: Vec<f64> = eval
        .outcomes
        .iter()
        .map(|o| eval.first_stage_cost + o.cost)
        .collect();
    let n = costs.len() as f64;
    let ub_mean = costs.iter().sum::<f64>() / n;
    let ub_var = costs.iter().map(|c| (c - ub_mean).powi(2)).sum::<f64>() / (n - 1.0);
    let z = Normal::new(0.0, 1.0)
        .map_err(|e| StockadeError::Solver(e.to_string()))?
        .inverse_cdf(0.975);
    let ub_half = z * (ub_var / n).sqrt();
    let gap = ub_mean - lb_mean;
    Ok(SaaReport {
        design,
        lower_bound: Estimate {
            mean: lb_mean,
            low: lb_mean - lb_half,
            high: lb_mean + lb_half,
        },
        upper_bound: Estimate {
            mean: ub_mean,
            low: ub_mean - ub_half,
            high: ub_mean + ub_half,
        },
        gap: Estimate {
            mean: gap,
            low: (gap - ub_half - lb_half).max(0.0),
            high: gap + ub_half + lb_half,
        },
        replication_bounds: bounds,
        candidate,
    })
}
