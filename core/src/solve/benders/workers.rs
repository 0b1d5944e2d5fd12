//! The scenario LPs, spread over workers that each keep a warm HiGHS instance; a pass solves every
//! scenario at a point and returns its cuts (optimality or, from the phase-one LP, feasibility).

use super::cuts::strengthen;
use super::template::ScenarioDelta;
use super::*;

/// A cut from one scenario at a point: `value + sum_j grad_j (y_j - point_j)`.
#[derive(Debug, Clone)]
pub(super) struct ScenarioCut {
    /// Q_w at the point (optimality) or F_w, the hard shortfall (feasibility).
    pub(super) value: f64,
    /// How far below `value` the cut passes at the point (rounding in [`strengthen`], >= 0).
    pub(super) slack: f64,
    /// Dense gradient over the first-stage columns.
    pub(super) grad: Vec<f64>,
    pub(super) feasible: bool,
}

/// The phase-one LP's answer: least hard shortfall, duals, and the costs it ran with.
pub(super) struct PhaseOne {
    pub(super) shortfall: f64,
    pub(super) row_duals: Vec<f64>,
    pub(super) col_duals: Vec<f64>,
    pub(super) costs: Vec<f64>,
}

/// One worker's HiGHS instance, warm across scenarios and iterations.
pub(super) struct Worker {
    pub(super) session: LpSession,
    /// Bounds currently loaded, to change only what differs.
    pub(super) col_lower: Vec<f64>,
    pub(super) col_upper: Vec<f64>,
    pub(super) row_lower: Vec<f64>,
    pub(super) row_upper: Vec<f64>,
}

impl Worker {
    pub(super) fn new(t: &Template, settings: &Settings) -> Result<Self, StockadeError> {
        Ok(Worker {
            session: LpSession::new(&t.lp, settings)?,
            col_lower: t.lp.col_lower.clone(),
            col_upper: t.lp.col_upper.clone(),
            row_lower: t.lp.row_lower.clone(),
            row_upper: t.lp.row_upper.clone(),
        })
    }

    /// Loads bounds, changing only those that differ from what is loaded.
    pub(super) fn load(
        &mut self,
        col_lower: &[f64],
        col_upper: &[f64],
        row_lower: &[f64],
        row_upper: &[f64],
    ) -> Result<(), StockadeError> {
        let (mut idx, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new());
        for c in 0..col_lower.len() {
            if col_lower[c] != self.col_lower[c] || col_upper[c] != self.col_upper[c] {
                idx.push(c as i32);
                lo.push(col_lower[c]);
                hi.push(col_upper[c]);
            }
        }
        if !idx.is_empty() {
            self.session.set_cols_bounds(&idx, &lo, &hi)?;
            self.col_lower.copy_from_slice(col_lower);
            self.col_upper.copy_from_slice(col_upper);
        }
        idx.clear();
        lo.clear();
        hi.clear();
        for r in 0..row_lower.len() {
            if row_lower[r] != self.row_lower[r] || row_upper[r] != self.row_upper[r] {
                idx.push(r as i32);
                lo.push(row_lower[r]);
                hi.push(row_upper[r]);
            }
        }
        if !idx.is_empty() {
            self.session.set_rows_bounds(&idx, &lo, &hi)?;
            self.row_lower.copy_from_slice(row_lower);
            self.row_upper.copy_from_slice(row_upper);
        }
        Ok(())
    }

    /// Solves scenario `delta` at first stage `y`; with `keep`, also returns its column values.
    pub(super) fn solve(
        &mut self,
        t: &Template,
        delta: &ScenarioDelta,
        y: &[f64],
        base_shift: &[f64],
        keep: bool,
    ) -> Result<(ScenarioCut, Option<Vec<f64>>), StockadeError> {
        let mut col_lower = t.lp.col_lower.clone();
        let mut col_upper = t.lp.col_upper.clone();
        for (c, lo, hi) in &delta.cols {
            col_lower[*c as usize] = *lo;
            col_upper[*c as usize] = *hi;
        }
        let mut row_lower = t.lp.row_lower.clone();
        let mut row_upper = t.lp.row_upper.clone();
        for (r, lo, hi) in &delta.rows {
            row_lower[*r as usize] = *lo;
            row_upper[*r as usize] = *hi;
        }
        let mut shift = base_shift.to_vec();
        for (r, c, v) in &delta.coupling {
            shift[*r as usize] += v * y[*c as usize];
        }
        let static_row_upper = row_upper.clone();
        for r in 0..shift.len() {
            row_lower[r] -= shift[r];
            row_upper[r] -= shift[r];
        }
        let static_upper = col_upper.clone();
        for link in &t.links {
            let k = link.col as usize;
            col_upper[k] = col_upper[k].min(link.coef * y[link.first as usize]);
        }
        self.load(&col_lower, &col_upper, &row_lower, &row_upper)?;
        let out = self.session.solve()?;
        let (value, mut duals, col_duals, costs, feasible, values) = match out.status {
            Status::Optimal => (
                out.objective.unwrap_or(0.0),
                out.row_duals,
                out.col_duals,
                None,
                true,
                out.values,
            ),
            Status::Infeasible if !t.hard_shortfall.is_empty() => {
                let p = self.phase_one(t, &col_lower, &col_upper)?;
                (
                    p.shortfall,
                    p.row_duals,
                    p.col_duals,
                    Some(p.costs),
                    false,
                    Vec::new(),
                )
            }
            other => {
                return Err(StockadeError::Solver(format!(
                    "a scenario LP ended {} in the decomposition",
                    other.as_str()
                )))
            }
        };
        let row_upper_at = |at: &[f64], r: u32| {
            let mut rhs = static_row_upper[r as usize];
            for (row, c, v) in t.coupling.iter().chain(&delta.coupling) {
                if *row == r {
                    rhs -= v * at[*c as usize];
                }
            }
            rhs
        };
        let (link_duals, lift) = strengthen(
            t,
            y,
            costs.as_deref().unwrap_or(&t.lp.col_cost),
            &mut duals,
            &col_duals,
            &col_lower,
            &static_upper,
            &row_upper,
            &row_upper_at,
        );
        let mut grad = vec![0.0; t.first];
        for (r, c, v) in t.coupling.iter().chain(&delta.coupling) {
            grad[*c as usize] -= duals[*r as usize] * v;
        }
        for (link, v) in t.links.iter().zip(&link_duals) {
            grad[link.first as usize] -= v * link.coef;
        }
        Ok((
            ScenarioCut {
                value,
                slack: lift,
                grad,
                feasible,
            },
            (keep && feasible).then_some(values),
        ))
    }

    /// The phase-one LP: hard shortfall allowed at 1 per tonne, nothing else costs. Returns the
    /// least hard shortfall and the duals; restores the optimality LP afterwards.
    pub(super) fn phase_one(
        &mut self,
        t: &Template,
        col_lower: &[f64],
        col_upper: &[f64],
    ) -> Result<PhaseOne, StockadeError> {
        let n = t.lp.num_cols();
        let all: Vec<i32> = (0..n as i32).collect();
        let mut costs = vec![0.0; n];
        let mut upper = col_upper.to_vec();
        for (c, demand) in &t.hard_shortfall {
            costs[*c as usize] = 1.0;
            upper[*c as usize] = *demand;
        }
        self.session.set_costs(&all, &costs)?;
        self.session.set_cols_bounds(&all, col_lower, &upper)?;
        let out = self.session.solve();
        self.session.set_costs(&all, &t.lp.col_cost)?;
        self.session.set_cols_bounds(&all, col_lower, col_upper)?;
        let out = out?;
        match (out.status, out.objective) {
            (Status::Optimal, Some(shortfall)) => Ok(PhaseOne {
                shortfall,
                row_duals: out.row_duals,
                col_duals: out.col_duals,
                costs,
            }),
            (status, _) => Err(StockadeError::Solver(format!(
                "the phase-one LP of a scenario ended {}",
                status.as_str()
            ))),
        }
    }
}

/// Every scenario's LP, spread over workers that keep their HiGHS instances.
pub(super) struct Subproblems {
    pub(super) template: Template,
    /// Distinct scenario LPs, each with the summed probability of the scenarios that share it.
    pub(super) deltas: Vec<ScenarioDelta>,
    /// The distinct LP of each scenario of the set.
    pub(super) scenario_of: Vec<usize>,
    /// Scenario ranges, one per worker, each with its worker.
    pub(super) workers: Vec<(std::ops::Range<usize>, Mutex<Option<Worker>>)>,
    pub(super) lp_settings: Settings,
    pub(super) pool: rayon::ThreadPool,
    pub(super) solves: u64,
    pub(super) seconds: f64,
}

/// What one pass over every scenario found at a point.
pub(super) struct Pass {
    pub(super) cuts: Vec<ScenarioCut>,
    /// Second-stage values of every scenario, when asked for.
    pub(super) values: Option<Vec<Vec<f64>>>,
}

impl Subproblems {
    pub(super) fn new(
        net: &Network,
        scenarios: &ScenarioSet,
        settings: &Settings,
    ) -> Result<Self, StockadeError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(settings.threads.map_or(0, |n| n as usize))
            .build()
            .map_err(|e| StockadeError::Solver(format!("thread pool: {e}")))?;
        let template = Template::new(net)?;
        let deltas: Vec<ScenarioDelta> = pool.install(|| {
            scenarios
                .cases
                .par_iter()
                .map(|case| template.delta(net, case))
                .collect::<Result<_, _>>()
        })?;
        // Scenarios whose LPs are identical (the same things fail) are solved once: their cuts
        // and second stages are the same.
        let mut distinct: Vec<ScenarioDelta> = Vec::new();
        let mut seen: std::collections::HashMap<Vec<u64>, usize> = Default::default();
        let mut scenario_of = Vec::with_capacity(deltas.len());
        for delta in deltas {
            let key = delta.signature();
            let next = distinct.len();
            let at = *seen.entry(key).or_insert(next);
            if at == next {
                distinct.push(delta);
            } else {
                distinct[at].probability += delta.probability;
            }
            scenario_of.push(at);
        }
        let deltas = distinct;
        let n = deltas.len();
        let k = pool.current_num_threads().clamp(1, n.max(1));
        let chunk = n.div_ceil(k);
        let workers = (0..n)
            .step_by(chunk.max(1))
            .map(|s| (s..(s + chunk).min(n), Mutex::new(None)))
            .collect();
        // Presolve off, so HiGHS keeps the basis between scenarios.
        let lp_settings = Settings {
            presolve: false,
            threads: None,
            time_limit_s: None,
            log: false,
            ..settings.clone()
        };
        Ok(Subproblems {
            template,
            deltas,
            scenario_of,
            workers,
            lp_settings,
            pool,
            solves: 0,
            seconds: 0.0,
        })
    }

    /// Solves every scenario at first stage `y` (the master's first columns).
    pub(super) fn pass(
        &mut self,
        y: &[f64],
        keep: bool,
        control: &SolveControl,
    ) -> Result<Option<Pass>, StockadeError> {
        let started = Instant::now();
        let t = &self.template;
        let mut base_shift = vec![0.0; t.lp.num_rows()];
        for (r, c, v) in &t.coupling {
            base_shift[*r as usize] += v * y[*c as usize];
        }
        let cancelled = || {
            control
                .cancel
                .as_ref()
                .is_some_and(|c| c.load(Ordering::Relaxed))
        };
        let deltas = &self.deltas;
        let lp_settings = &self.lp_settings;
        type Chunk = Result<Option<Vec<(ScenarioCut, Option<Vec<f64>>)>>, StockadeError>;
        let chunks: Vec<Chunk> = self.pool.install(|| {
            self.workers
                .par_iter()
                .map(|(range, slot)| {
                    let mut guard = slot
                        .lock()
                        .map_err(|_| StockadeError::Solver("a worker panicked".into()))?;
                    let worker = match guard.as_mut() {
                        Some(w) => w,
                        None => guard.insert(Worker::new(t, lp_settings)?),
                    };
                    let mut out = Vec::with_capacity(range.len());
                    for w in range.clone() {
                        if cancelled() {
                            return Ok(None);
                        }
                        out.push(worker.solve(t, &deltas[w], y, &base_shift, keep)?);
                    }
                    Ok(Some(out))
                })
                .collect()
        });
        self.solves += self.deltas.len() as u64;
        self.seconds += started.elapsed().as_secs_f64();
        let mut cuts = Vec::with_capacity(self.deltas.len());
        let mut values = keep.then(Vec::new);
        for chunk in chunks {
            let Some(chunk) = chunk? else {
                return Ok(None);
            };
            for (cut, v) in chunk {
                if let (Some(all), Some(v)) = (values.as_mut(), v) {
                    all.push(v);
                }
                cuts.push(cut);
            }
        }
        if values.as_ref().is_some_and(|v| v.len() != cuts.len()) {
            values = None;
        }
        Ok(Some(Pass { cuts, values }))
    }
}
