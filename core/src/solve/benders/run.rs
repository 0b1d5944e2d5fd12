//! The Benders loop: the LP-relaxation phase at in-out points, then the integer master, with
//! bounds, gap, progress and the incumbent's second stages read back as a siting result.

use super::master::{dot, rows_from, Master};
use super::template::DECOMPOSITION_OPTIONS;
use super::workers::Subproblems;
use super::*;

/// The best plan found: master values and every scenario's second stage.
pub(super) struct Incumbent {
    pub(super) objective: f64,
    pub(super) master: Vec<f64>,
    pub(super) second: Vec<Vec<f64>>,
}

/// Solves the siting model by Benders decomposition. The caller has checked
/// [`unsupported`]; the result has the same shape as the extensive form's, with
/// `method = benders` and a [`DecompositionReport`].
pub fn solve_benders(
    net: &Network,
    scenarios: &ScenarioSet,
    settings: &Settings,
    control: &SolveControl,
) -> Result<SolveResult, StockadeError> {
    if let Some(why) = unsupported(net, scenarios) {
        return Err(StockadeError::Solver(format!(
            "method benders cannot solve this model: {why}"
        )));
    }
    let started = Instant::now();
    let deadline = settings.time_limit_s;
    let elapsed = || started.elapsed().as_secs_f64();
    let out_of_time = || deadline.is_some_and(|t| elapsed() >= t);
    let cancelled = || {
        control
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    };

    let build_started = Instant::now();
    let mut subs = Subproblems::new(net, scenarios, settings)?;
    let mut master = Master::new(net, subs.deltas.len());
    let first = master.first;
    subs.template.first_upper = master.mip.col_upper[..first].to_vec();
    let mut build_s = build_started.elapsed().as_secs_f64();

    let mut lower = f64::NEG_INFINITY;
    let mut incumbent: Option<Incumbent> = None;
    let mut lp_iterations = 0_u64;
    let mut integer_iterations = 0_u64;
    let mut master_s = 0.0;
    let mut lp_bound = None;
    let mut stopped: Option<Status> = None;
    let report = |iteration: u64, phase: &str, lower: f64, upper: Option<f64>, cuts: u64| {
        let gap = upper.map(|u| relative_gap(u, lower));
        if settings.log {
            eprintln!(
                "benders {phase} {iteration:>4}  lower {lower:.6e}  upper {}  gap {}  cuts {cuts}  {:.1}s",
                upper.map_or("-".into(), |u| format!("{u:.6e}")),
                gap.map_or("-".into(), |g| format!("{:.4}%", 100.0 * g)),
                elapsed()
            );
        }
        if let Some(sink) = &control.progress {
            sink(&Progress {
                elapsed_s: elapsed(),
                incumbent: upper,
                best_bound: lower.is_finite().then_some(lower),
                gap,
                iteration: Some(iteration),
                cuts: Some(cuts),
            });
        }
    };

    // Phase 1: the LP relaxation, separating at in-out points.
    {
        let mut relaxed = master.mip.clone();
        relaxed.col_integer.iter_mut().for_each(|i| *i = false);
        let mut lp = LpSession::new(&relaxed, &subs.lp_settings)?;
        let mut loaded_rows = relaxed.num_rows();
        let mut core: Option<Vec<f64>> = None;
        let mut lambda = 0.5;
        let mut stall = 0;
        let mut lp_upper = f64::INFINITY;
        let mut lp_lower = f64::NEG_INFINITY;
        let mut history = Vec::new();
        // The relaxation gets at most half the time limit, so that the integer phase has time
        // to find a plan.
        let lp_out_of_time = || deadline.is_some_and(|t| elapsed() >= 0.5 * t);
        loop {
            if lp_out_of_time() || cancelled() {
                break;
            }
            lp_iterations += 1;
            let t0 = Instant::now();
            let out = lp.solve()?;
            master_s += t0.elapsed().as_secs_f64();
            let (Status::Optimal, Some(obj)) = (out.status, out.objective) else {
                // An infeasible relaxation: the integer phase reports it.
                break;
            };
            let x = out.values;
            if obj > lp_lower + 1e-6 * obj.abs().max(1.0) {
                stall = 0;
            } else {
                stall += 1;
            }
            lp_lower = lp_lower.max(obj);
            // A tailing-off bound (under LP_TAIL gained over 20 iterations) is left to the
            // integer phase, whose cuts at integer plans close the gap faster than fractional
            // ones.
            history.push(lp_lower);
            if history.len() > 20
                && lp_lower - history[history.len() - 21] < LP_TAIL * lp_lower.abs().max(1.0)
            {
                break;
            }
            let y = master.first_stage(&x);
            let core_point = core.get_or_insert_with(|| y.clone());
            let point: Vec<f64> = (0..first)
                .map(|j| lambda * y[j] + (1.0 - lambda) * core_point[j])
                .collect();
            let Some(pass) = subs.pass(&point, false, control)? else {
                break;
            };
            let (rows, expected) = master.cuts_from(&pass, &subs.deltas, &point, &x);
            if let Some(e) = expected {
                // The in-out point is a convex combination of relaxation points: an upper bound
                // of the relaxation.
                let mut full = x.clone();
                full[..first].copy_from_slice(&point);
                lp_upper = lp_upper.min(master.first_stage_cost(&full) + e);
            }
            for (c, y) in core_point.iter_mut().zip(&y) {
                *c = 0.5 * *c + 0.5 * y;
            }
            report(lp_iterations, "lp", lp_lower, None, master.cuts);
            if rows.is_empty() {
                if lambda >= 1.0 {
                    break;
                }
                lambda = 1.0;
                continue;
            }
            if stall >= 5 {
                lambda = 1.0;
            }
            master.add_cuts(&rows);
            let (lo, hi, starts, index, value) = rows_from(&master.mip, loaded_rows);
            lp.add_rows(&lo, &hi, &starts, &index, &value)?;
            loaded_rows = master.mip.num_rows();
            if relative_gap(lp_upper, lp_lower) < 1e-6 {
                break;
            }
        }
        if lp_lower.is_finite() {
            lower = lp_lower;
            lp_bound = Some(lp_lower);
        }
    }

    // Phase 2: the integer master.
    let mut start: Vec<(usize, f64)> = Vec::new();
    let master_control = SolveControl {
        cancel: control.cancel.clone(),
        progress: None,
    };
    loop {
        if cancelled() {
            stopped = Some(Status::Interrupted);
            break;
        }
        if out_of_time() {
            stopped = Some(Status::TimeLimit);
            break;
        }
        integer_iterations += 1;
        let remaining = deadline.map(|t| (t - elapsed()).max(0.0));
        let master_settings = Settings {
            time_limit_s: remaining,
            mip_gap: settings.mip_gap * 0.5,
            log: false,
            ..settings.clone()
        };
        let t0 = Instant::now();
        let run = solve_mip_from(&master.mip, &master_settings, &master_control, &start)?;
        master_s += t0.elapsed().as_secs_f64();
        if !run.has_solution {
            // No first stage satisfies the policies and feasibility cuts: infeasible (or the
            // master ran out of time before finding one).
            stopped = Some(match run.status {
                Status::Optimal => Status::Infeasible,
                s => s,
            });
            break;
        }
        if let Some(b) = run.proven_bound() {
            lower = lower.max(b);
        }
        let x = run.values.clone();
        let point = master.first_stage(&x);
        let Some(pass) = subs.pass(&point, true, control)? else {
            stopped = Some(Status::Interrupted);
            break;
        };
        let (rows, expected) = master.cuts_from(&pass, &subs.deltas, &point, &x);
        if let (Some(e), Some(values)) = (expected, pass.values) {
            let objective = master.first_stage_cost(&x) + e;
            if incumbent.as_ref().is_none_or(|i| objective < i.objective) {
                // The next master starts from this plan, each epigraph column at its groups'
                // cost there (a hair above, so that rounding never makes the start infeasible):
                // HiGHS then prunes with the best plan's cost from its first node.
                let mut theta_at = vec![0.0; master.groups];
                for (w, cut) in pass.cuts.iter().enumerate() {
                    theta_at[master.group[w]] += subs.deltas[w].probability * cut.value;
                }
                start = (0..master.mip.num_cols())
                    .map(|c| match c.checked_sub(master.theta) {
                        Some(g) => (c, theta_at[g] * (1.0 + 1e-7) + 1e-6),
                        None => (c, x[c]),
                    })
                    .collect();
                incumbent = Some(Incumbent {
                    objective,
                    master: x.clone(),
                    second: values,
                });
            }
        }
        let upper = incumbent.as_ref().map(|i| i.objective);
        report(integer_iterations, "mip", lower, upper, master.cuts);
        let master_status = run.status;
        if upper.is_some_and(|u| relative_gap(u, lower) <= settings.mip_gap) {
            break;
        }
        if rows.is_empty() {
            // Nothing to cut: the master's own gap is what is left (or its time ran out).
            if master_status != Status::Optimal {
                stopped = Some(master_status);
            }
            break;
        }
        master.add_cuts(&rows);
    }

    // The answer in the extensive form's shape, so that reports and plans read it the same way.
    let build_started = Instant::now();
    let extensive = SitingProblem::build(net, scenarios, &DECOMPOSITION_OPTIONS);
    build_s += build_started.elapsed().as_secs_f64();
    let mut status = match stopped {
        Some(s) => s,
        // The loop ended at the gap, or with no cut left to add to a master solved to its gap.
        None if incumbent.is_some() => Status::Optimal,
        None => Status::Unknown,
    };
    // A lower bound above the incumbent's cost beyond the gap is an internal error (a solve
    // returned a bound it did not prove), never `optimal`.
    let inconsistent = incumbent.as_ref().is_some_and(|i| {
        lower.is_finite()
            && lower - i.objective > settings.mip_gap.max(1e-6) * i.objective.abs().max(1.0)
    });
    if inconsistent {
        status = Status::Unknown;
    }
    let mut values = Vec::new();
    let mut objective = None;
    if let Some(inc) = &incumbent {
        let n = extensive.mip.num_cols();
        values = Vec::with_capacity(n);
        values.extend_from_slice(&inc.master[..first]);
        for distinct in &subs.scenario_of {
            values.extend_from_slice(&inc.second[*distinct]);
        }
        values.extend_from_slice(&inc.master[first..master.theta]);
        if values.len() != n {
            return Err(StockadeError::Solver(format!(
                "decomposition layout mismatch: {} values for {n} columns",
                values.len()
            )));
        }
        let obj = extensive.mip.offset + dot(&extensive.mip.col_cost, &values);
        objective = Some(obj);
    }
    let run = SolverRun {
        status,
        has_solution: incumbent.is_some(),
        objective,
        best_bound: lower.is_finite().then_some(lower),
        mip_gap: objective.map(|o| relative_gap(o, lower.min(o))),
        runtime_s: elapsed() - build_s,
        size: master.mip.size(),
        detail: if inconsistent {
            format!(
                "benders: internal error: lower bound {lower:.6e} above the incumbent's cost \
                 {:.6e} after {integer_iterations} integer iterations; the plan is the best found, \
                 not proven optimal",
                incumbent.as_ref().map_or(f64::NAN, |i| i.objective)
            )
        } else {
            format!(
                "benders: {lp_iterations} LP and {integer_iterations} integer iterations, {} cuts",
                master.cuts
            )
        },
        values,
        row_duals: Vec::new(),
    };
    let mut result = extensive.read(&run, build_s, settings);
    result.method = Method::Benders;
    result.decomposition = Some(DecompositionReport {
        scenarios: scenarios.cases.len(),
        distinct_scenarios: subs.deltas.len(),
        cut_groups: master.groups,
        lp_iterations,
        integer_iterations,
        cuts: master.cuts,
        lp_bound,
        subproblem_solves: subs.solves,
        master_s,
        subproblems_s: subs.seconds,
    });
    Ok(result)
}

#[cfg(test)]
mod tests {
    //! The strengthened cuts against the scenario LP itself: a cut taken at any point must lie
    //! below the LP's optimum at every other point (HiGHS solves each; nothing of the cut's
    //! arithmetic is involved), and must touch it at its own point.
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::import::{orlib_cap, CapOptions};
    use crate::solve::benders::workers::Pass;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A random OR-Library-style instance: `m` warehouses, `n` customers, with or without a
    /// failure file (one scenario per line; a failed site loses all or half its capacity).
    pub(super) fn instance(
        rng: &mut ChaCha8Rng,
        m: usize,
        n: usize,
        failures: Option<String>,
        single_source: bool,
    ) -> Network {
        let mut text = format!("{m} {n}\n");
        for _ in 0..m {
            text += &format!("{} {}\n", rng.gen_range(5..40), rng.gen_range(10..100));
        }
        for _ in 0..n {
            text += &format!("{}\n", rng.gen_range(1..12));
            for _ in 0..m {
                text += &format!("{} ", rng.gen_range(0..60));
            }
            text += "\n";
        }
        let opts = CapOptions {
            failures,
            single_source,
            ..CapOptions::default()
        };
        let mut model = orlib_cap(&text, "random", &opts).unwrap();
        // Partial losses too: a failed site keeps half its capacity in some scenarios.
        for scenario in &mut model.scenarios {
            for availability in scenario.availability.values_mut() {
                if rng.gen_bool(0.5) {
                    *availability = 0.5;
                }
            }
        }
        Network::new(model).unwrap()
    }

    pub(super) fn check_cuts(net: &Network, rng: &mut ChaCha8Rng) -> usize {
        let scenarios = ScenarioSet::explicit(net);
        let settings = Settings::default();
        let mut subs = Subproblems::new(net, &scenarios, &settings).unwrap();
        let master = Master::new(net, subs.deltas.len());
        let first = master.first;
        subs.template.first_upper = master.mip.col_upper[..first].to_vec();
        assert_eq!(subs.template.blocks.len(), net.model.sites.len());
        let control = SolveControl::default();
        let mut points: Vec<Vec<f64>> = (0..12)
            .map(|_| (0..first).map(|_| rng.gen_range(0.0..=1.0)).collect())
            .collect();
        for _ in 0..12 {
            points.push(
                (0..first)
                    .map(|_| f64::from(rng.gen_range(0..2_u8)))
                    .collect(),
            );
        }
        let passes: Vec<Pass> = points
            .iter()
            .map(|y| subs.pass(y, false, &control).unwrap().unwrap())
            .collect();
        let mut checked = 0;
        for (a, at_a) in points.iter().zip(&passes) {
            for (w, cut) in at_a.cuts.iter().enumerate() {
                for (b, at_b) in points.iter().zip(&passes) {
                    let other = &at_b.cuts[w];
                    let bound = cut.value - cut.slack
                        + cut
                            .grad
                            .iter()
                            .zip(b)
                            .zip(a)
                            .map(|((g, yb), ya)| g * (yb - ya))
                            .sum::<f64>();
                    // An optimality cut bounds Q where Q is finite; a feasibility cut bounds the
                    // least hard shortfall F, which is 0 where the LP is feasible.
                    let truth = match (cut.feasible, other.feasible) {
                        (true, true) => other.value,
                        (true, false) => continue,
                        (false, true) => 0.0,
                        (false, false) => other.value,
                    };
                    assert!(
                        bound <= truth + 1e-6 * (1.0 + truth.abs()),
                        "cut from {a:?} gives {bound} at {b:?}, where the LP says {truth}"
                    );
                    checked += 1;
                }
            }
        }
        checked
    }

    #[test]
    pub(super) fn strengthened_cuts_never_cut_off_the_scenario_lp() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut checked = 0;
        for _ in 0..15 {
            let (m, n) = (rng.gen_range(2..5), rng.gen_range(3..8));
            checked += check_cuts(&instance(&mut rng, m, n, None, false), &mut rng);
        }
        // Single-source: the links gate on assignment columns, not on the sites' open columns.
        for _ in 0..3 {
            let (m, n) = (rng.gen_range(2..4), rng.gen_range(2..5));
            checked += check_cuts(&instance(&mut rng, m, n, None, true), &mut rng);
        }
        for _ in 0..5 {
            let (m, n) = (rng.gen_range(2..5), rng.gen_range(3..8));
            let failures: String = (0..4)
                .map(|_| format!("{}\n", rng.gen_range(0..m)))
                .collect();
            checked += check_cuts(&instance(&mut rng, m, n, Some(failures), false), &mut rng);
        }
        assert!(checked > 10_000, "{checked} cut/point pairs");
    }
}
