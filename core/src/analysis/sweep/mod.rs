//! Parameter sweeps: one model, many variants. A parameter is a path into the model file
//! (`policies.country_share.cap`, `depots[jp_jogmec].capacity`, `sites[3].max_modules`) with a
//! list or a range of values; several parameters give their Cartesian product. Every variant is
//! the model file with those values written in, parsed and validated again (so a value the model
//! cannot take is an input error naming its path), then solved. Variants run on a pool of worker
//! threads, each warm-started from the nearest variant already solved.

mod params;

pub use params::{parse_values, set_path, variant_model, Parameter};

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{InputError, Problem};
use crate::formulation::cvar;
use crate::model::Model;
use crate::network::{parse_model, Network};
use crate::plan::Plan;
use crate::result::SolveResult;
use crate::scenario::ScenarioSet;
use crate::solve::{solve_siting_from, WarmStart};
use crate::solver::{Settings, SolveControl, Status};
use crate::StockadeError;

/// A sweep stops before it starts beyond this many variants.
pub const MAX_VARIANTS: usize = 100_000;

/// How to run a sweep. `Default` is the only source of defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SweepSettings {
    /// Settings of each variant's solve. Each solve runs on one HiGHS thread by default: the
    /// variants, not the branch-and-bound, are spread over the cores.
    pub solver: Settings,
    /// Variants solved at once; none for one per core.
    pub workers: Option<usize>,
    /// Start each solve from the plan of the nearest variant already solved (a MIP start).
    pub warm_start: bool,
}

impl Default for SweepSettings {
    fn default() -> Self {
        SweepSettings {
            solver: Settings {
                threads: Some(1),
                ..Settings::default()
            },
            workers: None,
            warm_start: true,
        }
    }
}

impl SweepSettings {
    /// Worker threads this sweep uses for `tasks` variants.
    pub fn worker_count(&self, tasks: usize) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.workers.unwrap_or(cores).clamp(1, tasks.max(1))
    }
}

/// Figures a policy economist reads off one solved variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Kpis {
    /// Site opening and new modules, currency/yr.
    pub investment: f64,
    /// Depot opening and stock holding, currency/yr.
    pub stockpile: f64,
    /// Expected supply, processing, transport and release cost, currency/yr.
    pub expected_operating: f64,
    /// Expected shortfall penalty, currency/yr.
    pub expected_shortfall_penalty: f64,
    /// Probability-weighted unmet demand, t/yr.
    pub expected_shortfall_t: f64,
    /// CVaR at 95 % of unmet demand (the mean of the worst 5 % of scenarios), t/yr.
    pub cvar95_shortfall_t: f64,
    /// Unmet demand in the worst scenario, t/yr.
    pub worst_shortfall_t: f64,
    /// Probability that some demand goes unmet.
    pub shortfall_probability: f64,
    /// Largest share of one material's processing capacity in one country (0..1).
    pub largest_country_share: f64,
    /// That country.
    pub largest_country: String,
    /// Sites open.
    pub open_sites: usize,
    /// Processing capacity of every open site, t/yr.
    pub capacity_t: f64,
    /// Stock held in every depot, t.
    pub stock_t: f64,
}

impl Kpis {
    /// The KPIs of a solve result with a plan; none without one.
    pub fn of(result: &SolveResult) -> Option<Kpis> {
        if !result.has_solution {
            return None;
        }
        let costs = result.costs.as_ref()?;
        let outcomes: Vec<(f64, f64)> = result
            .scenarios
            .iter()
            .map(|s| (s.probability, s.shortfall_t))
            .collect();
        let expected_shortfall_t = outcomes.iter().map(|(p, t)| p * t).sum();
        let mut by_material: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
        for s in &result.sites {
            *by_material
                .entry(&s.output)
                .or_default()
                .entry(&s.country)
                .or_default() += s.capacity;
        }
        let mut largest = (0.0, String::new());
        for countries in by_material.values() {
            let total: f64 = countries.values().sum();
            if total <= 0.0 {
                continue;
            }
            for (c, cap) in countries {
                if cap / total > largest.0 {
                    largest = (cap / total, (*c).to_string());
                }
            }
        }
        Some(Kpis {
            investment: costs.investment,
            stockpile: costs.stockpile,
            expected_operating: costs.expected_operating,
            expected_shortfall_penalty: costs.expected_shortfall_penalty,
            expected_shortfall_t,
            cvar95_shortfall_t: cvar(&outcomes, 0.95),
            worst_shortfall_t: outcomes.iter().map(|o| o.1).fold(0.0, f64::max),
            shortfall_probability: outcomes.iter().filter(|o| o.1 > 1e-6).map(|o| o.0).sum(),
            largest_country_share: largest.0,
            largest_country: largest.1,
            open_sites: result.sites.iter().filter(|s| s.open).count(),
            capacity_t: result.sites.iter().map(|s| s.capacity).sum(),
            stock_t: result.depots.iter().flat_map(|d| d.stock.values()).sum(),
        })
    }
}

/// The outcome of one variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VariantResult {
    /// Position in the sweep (row-major over the parameters, the last one fastest).
    pub index: usize,
    /// The value of each swept parameter, by path.
    pub values: BTreeMap<String, f64>,
    /// How the solve ended (`interrupted` without a solve when the sweep was cancelled first).
    pub status: Status,
    /// Whether a plan is available.
    pub has_solution: bool,
    /// Objective (expected annual cost), currency/yr.
    pub objective: Option<f64>,
    /// Best proven bound, currency/yr.
    pub best_bound: Option<f64>,
    /// Relative MIP gap.
    pub mip_gap: Option<f64>,
    /// Seconds to build and solve this variant.
    pub runtime_s: f64,
    /// Index of the variant whose plan was the MIP start, if any.
    pub warm_from: Option<usize>,
    /// The KPIs, when there is a plan.
    pub kpis: Option<Kpis>,
    /// The first-stage plan, when there is one.
    pub plan: Option<Plan>,
}

impl VariantResult {
    fn of(index: usize, values: BTreeMap<String, f64>, r: &SolveResult, secs: f64) -> Self {
        VariantResult {
            index,
            values,
            status: r.status,
            has_solution: r.has_solution,
            objective: r.objective.filter(|_| r.has_solution),
            best_bound: r.best_bound,
            mip_gap: r.mip_gap,
            runtime_s: secs,
            warm_from: None,
            kpis: Kpis::of(r),
            plan: r.plan.clone().filter(|_| r.has_solution),
        }
    }

    fn not_run(index: usize, values: BTreeMap<String, f64>) -> Self {
        VariantResult {
            index,
            values,
            status: Status::Interrupted,
            has_solution: false,
            objective: None,
            best_bound: None,
            mip_gap: None,
            runtime_s: 0.0,
            warm_from: None,
            kpis: None,
            plan: None,
        }
    }
}

/// Every variant of a sweep, in sweep order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SweepReport {
    /// The swept parameters.
    pub parameters: Vec<Parameter>,
    /// One result per variant.
    pub variants: Vec<VariantResult>,
    /// Worker threads used.
    pub workers: usize,
    /// Whether solves started from their nearest solved neighbour.
    pub warm_start: bool,
    /// Wall-clock seconds of the whole sweep.
    pub runtime_s: f64,
    /// Currency of every money figure.
    pub currency: String,
}

/// Called as variants finish: (finished, total).
pub type SweepProgress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// The Cartesian product of the parameters' values, row-major (the last parameter fastest), as
/// value indices.
pub fn grid(parameters: &[Parameter]) -> Result<Vec<Vec<usize>>, InputError> {
    let mut total: usize = 1;
    for p in parameters {
        if p.values.is_empty() {
            return Err(InputError::single(&p.path, "no value to sweep"));
        }
        if let Some(x) = p.values.iter().find(|x| !x.is_finite()) {
            return Err(InputError::single(
                &p.path,
                format!("every value must be finite, got {x}"),
            ));
        }
        total = total.saturating_mul(p.values.len());
    }
    if total > MAX_VARIANTS {
        return Err(InputError::single(
            "parameters",
            format!("{total} variants; a sweep takes at most {MAX_VARIANTS}"),
        ));
    }
    let mut out = vec![Vec::new()];
    for p in parameters {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                (0..p.values.len()).map(move |i| {
                    let mut v = prefix.clone();
                    v.push(i);
                    v
                })
            })
            .collect();
    }
    Ok(out)
}

/// Solves every variant of `model` (the model file as JSON) over the parameters' Cartesian
/// product. Every variant is built and validated before the first solve, so a bad path or value
/// fails the sweep at once with its path. Solves run on `settings.workers` threads, each from the
/// plan of the nearest variant already solved (by distance in the grid) when `warm_start` is on.
/// Setting `cancel` stops the running solves (they end `interrupted` with their incumbent) and
/// leaves the variants not started as `interrupted` without a solution.
pub fn sweep(
    model: &Value,
    parameters: &[Parameter],
    settings: &SweepSettings,
    cancel: Option<Arc<AtomicBool>>,
    progress: SweepProgress<'_>,
) -> Result<SweepReport, StockadeError> {
    let started = Instant::now();
    let cells = grid(parameters)?;
    let mut models = Vec::with_capacity(cells.len());
    let mut values = Vec::with_capacity(cells.len());
    for cell in &cells {
        let assignment: Vec<(String, f64)> = parameters
            .iter()
            .zip(cell)
            .map(|(p, i)| (p.path.clone(), p.values[*i]))
            .collect();
        models.push(variant_model(model, &assignment)?);
        values.push(assignment.into_iter().collect::<BTreeMap<_, _>>());
    }
    let currency = models
        .first()
        .map(|m| m.currency.clone())
        .unwrap_or_default();
    let coords: Vec<Vec<f64>> = cells
        .iter()
        .map(|c| c.iter().map(|i| *i as f64).collect())
        .collect();
    let workers = settings.worker_count(cells.len());
    let outcomes = run_pool(
        &coords,
        workers,
        settings.warm_start,
        cancel.as_deref(),
        &|i, start| {
            let t = Instant::now();
            let net = Network::new(models[i].clone())?;
            let set = ScenarioSet::explicit(&net);
            let control = SolveControl {
                cancel: cancel.clone(),
                progress: None,
            };
            let (r, next) = solve_siting_from(&net, &set, &settings.solver, &control, start)?;
            let out = VariantResult::of(i, values[i].clone(), &r, t.elapsed().as_secs_f64());
            Ok((out, next))
        },
        progress,
    );
    let mut variants = Vec::with_capacity(cells.len());
    for (i, outcome) in outcomes.into_iter().enumerate() {
        variants.push(match outcome {
            Some(r) => {
                let (mut v, from) = r?;
                v.warm_from = from;
                v
            }
            None => VariantResult::not_run(i, values[i].clone()),
        });
    }
    Ok(SweepReport {
        parameters: parameters.to_vec(),
        variants,
        workers,
        warm_start: settings.warm_start,
        runtime_s: started.elapsed().as_secs_f64(),
        currency,
    })
}

/// What a pool task returns: its result and the start it offers its neighbours.
type TaskOutcome<T> = Result<(T, Option<WarmStart>), StockadeError>;

/// Runs one task per coordinate on `workers` threads, in index order. With `warm_start`, each task
/// gets the start of the nearest finished task (L1 distance of coordinates; ties to the lower
/// index). Returns per task its outcome and the index it started from; `None` for tasks never
/// started because `cancel` was set.
#[allow(clippy::type_complexity)]
pub(crate) fn run_pool<T: Send>(
    coords: &[Vec<f64>],
    workers: usize,
    warm_start: bool,
    cancel: Option<&AtomicBool>,
    task: &(dyn Fn(usize, Option<&WarmStart>) -> TaskOutcome<T> + Sync),
    progress: SweepProgress<'_>,
) -> Vec<Option<Result<(T, Option<usize>), StockadeError>>> {
    let n = coords.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let plans: Mutex<Vec<Option<WarmStart>>> = Mutex::new(vec![None; n]);
    let results: Mutex<Vec<Option<Result<(T, Option<usize>), StockadeError>>>> =
        Mutex::new((0..n).map(|_| None).collect());
    progress(0, n);
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| loop {
                if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    return;
                }
                let start = if warm_start {
                    nearest(coords, i, &plans)
                } else {
                    None
                };
                let outcome = task(i, start.as_ref().map(|(_, p)| p));
                let from = start.map(|(j, _)| j);
                let stored = outcome.map(|(value, plan)| {
                    if let (Some(plan), Ok(mut all)) = (plan, plans.lock()) {
                        all[i] = Some(plan);
                    }
                    (value, from)
                });
                if let Ok(mut all) = results.lock() {
                    all[i] = Some(stored);
                }
                progress(done.fetch_add(1, Ordering::SeqCst) + 1, n);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The finished task nearest to task `i`, with its start.
fn nearest(
    coords: &[Vec<f64>],
    i: usize,
    plans: &Mutex<Vec<Option<WarmStart>>>,
) -> Option<(usize, WarmStart)> {
    let all = plans.lock().ok()?;
    let distance = |j: usize| -> f64 {
        coords[i]
            .iter()
            .zip(&coords[j])
            .map(|(a, b)| (a - b).abs())
            .sum()
    };
    all.iter()
        .enumerate()
        .filter_map(|(j, p)| p.as_ref().map(|p| (j, p)))
        .min_by(|a, b| distance(a.0).total_cmp(&distance(b.0)).then(a.0.cmp(&b.0)))
        .map(|(j, p)| (j, p.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_lists() {
        assert_eq!(
            parse_values("p", "0.65:0.25:0.1").expect("range"),
            vec![0.65, 0.55, 0.45, 0.35, 0.25]
        );
        assert_eq!(
            parse_values("p", "1:3:1").expect("range"),
            vec![1.0, 2.0, 3.0]
        );
        assert_eq!(
            parse_values("p", "0:0.3:0.1").expect("range"),
            vec![0.0, 0.1, 0.2, 0.3]
        );
        assert_eq!(parse_values("p", "5, 7").expect("list"), vec![5.0, 7.0]);
        assert!(parse_values("p", "1:2:0").is_err());
        assert!(parse_values("p", "a,b").is_err());
    }

    #[test]
    fn paths_select_by_id_code_and_index() {
        let mut v = serde_json::json!({
            "depots": [{"id": "us", "capacity": 1}, {"id": "jp", "capacity": 2}],
            "countries": [{"code": "JP"}],
            "policies": {}
        });
        set_path(&mut v, "depots[jp].capacity", 5.5).expect("by id");
        set_path(&mut v, "depots[0].capacity", 3.0).expect("by index");
        set_path(&mut v, "policies.country_share.cap", 0.4).expect("created");
        assert_eq!(v["depots"][1]["capacity"], 5.5);
        assert_eq!(v["depots"][0]["capacity"], 3);
        assert_eq!(v["policies"]["country_share"]["cap"], 0.4);
        let err = set_path(&mut v, "depots[xx].capacity", 1.0).expect_err("no such id");
        assert_eq!(err.problems[0].path, "depots[xx].capacity");
        assert!(err.problems[0].message.contains("ids: us, jp"));
        assert!(set_path(&mut v, "depots[jp].id", 1.0).is_err());
        assert!(set_path(&mut v, "policies..cap", 1.0).is_err());
    }

    #[test]
    fn grid_is_row_major() {
        let p = |path: &str, values: Vec<f64>| Parameter {
            path: path.into(),
            values,
        };
        let g = grid(&[p("a", vec![1.0, 2.0]), p("b", vec![1.0, 2.0, 3.0])]).expect("grid");
        assert_eq!(g.len(), 6);
        assert_eq!(g[1], vec![0, 1]);
        assert_eq!(g[3], vec![1, 0]);
    }
}
