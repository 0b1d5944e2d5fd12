//! Cost shares of the grand coalition's plan: which coalitions to solve, Shapley (exact or
//! sampled), nucleolus-style and proportional rules, the core check, and the report.

use super::joint::*;
use super::*;

/// The cost-sharing analysis of a model with parties: the joint plan, every coalition's
/// stand-alone optimum (2^n - 1 solves in parallel; up to 12 parties, or the sampled ones
/// beyond), the Shapley value (exact or sampled with standard errors), the core check, the
/// nucleolus, proportional divisions and the cooperation gain.
pub fn share(
    net: &Network,
    settings: &ShareSettings,
    progress: ShareProgress<'_>,
) -> Result<ShareReport, StockadeError> {
    let started = Instant::now();
    let masks = coalitions_needed(net, settings)?;
    let total = masks.len() + 2; // plus the baseline and the other sharing mode
    let done = AtomicUsize::new(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.workers.unwrap_or(0))
        .build()
        .map_err(|e| StockadeError::Solver(format!("cannot start the worker pool: {e}")))?;
    progress(0, total);
    let solved: Vec<(u64, Result<JointOutcome, StockadeError>)> = pool.install(|| {
        masks
            .par_iter()
            .map(|&s| {
                let r = coalition_value(net, s, &settings.solver);
                progress(done.fetch_add(1, Ordering::SeqCst) + 1, total);
                (s, r)
            })
            .collect()
    });
    let solved = solved
        .into_iter()
        .map(|(s, r)| r.map(|v| (s, v)))
        .collect::<Result<Vec<_>, _>>()?;
    combine(net, settings, solved, progress, &done, total, started)
}

/// The coalitions (bit masks over `parties`) whose stand-alone value the analysis needs: every
/// one up to 12 parties; beyond, the prefixes of the sampled orders, every single party and the
/// grand coalition.
pub fn coalitions_needed(
    net: &Network,
    settings: &ShareSettings,
) -> Result<Vec<u64>, StockadeError> {
    let n = net.model.parties.len();
    if n == 0 {
        return Err(InputError::single(
            "parties",
            "cost sharing needs at least one party (list `parties`)",
        )
        .into());
    }
    let grand = (1u64 << n) - 1;
    let mut masks: BTreeSet<u64> = if n <= EXACT_SHAPLEY_UP_TO {
        (1..=grand).collect()
    } else {
        prefixes(&orders_for(n, settings))
    };
    for i in 0..n {
        masks.insert(1 << i);
    }
    masks.insert(grand);
    Ok(masks.into_iter().collect())
}

/// The random orders of the sampled Shapley value (none when it is exact); the same for the same
/// settings, wherever they are drawn.
pub(super) fn orders_for(n: usize, settings: &ShareSettings) -> Vec<Vec<usize>> {
    if n <= EXACT_SHAPLEY_UP_TO {
        Vec::new()
    } else {
        sample_orders(n, settings.shapley_orders.max(2), settings.seed)
    }
}

/// The analysis from coalition values solved elsewhere (the Python package's Ray backend sends
/// each [`coalition_value`] out as a task): `solved` must hold every coalition of
/// [`coalitions_needed`]. The baseline and the other sharing mode are solved here; `runtime_s`
/// counts from this call.
pub fn share_from_values(
    net: &Network,
    settings: &ShareSettings,
    solved: Vec<(u64, JointOutcome)>,
    progress: ShareProgress<'_>,
) -> Result<ShareReport, StockadeError> {
    let started = Instant::now();
    let needed = coalitions_needed(net, settings)?;
    let have: BTreeSet<u64> = solved.iter().map(|(s, _)| *s).collect();
    let missing: Vec<u64> = needed
        .iter()
        .filter(|s| !have.contains(s))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(InputError::single(
            "coalitions",
            format!(
                "{} coalition value(s) missing, e.g. mask {}",
                missing.len(),
                missing[0]
            ),
        )
        .into());
    }
    let total = solved.len() + 2;
    let done = AtomicUsize::new(solved.len());
    combine(net, settings, solved, progress, &done, total, started)
}

/// Everything after the coalition solves.
pub(super) fn combine(
    net: &Network,
    settings: &ShareSettings,
    solved: Vec<(u64, JointOutcome)>,
    progress: ShareProgress<'_>,
    done: &AtomicUsize,
    total: usize,
    started: Instant,
) -> Result<ShareReport, StockadeError> {
    let m = &net.model;
    let n = m.parties.len();
    let grand = (1u64 << n) - 1;
    let exact = n <= EXACT_SHAPLEY_UP_TO;
    let orders = orders_for(n, settings);
    let mut values: HashMap<u64, (Status, Option<f64>, Option<f64>)> = HashMap::new();
    let mut singles: HashMap<u64, SolveResult> = HashMap::new();
    let mut joint: Option<(SolveResult, Option<f64>)> = None;
    for (s, (result, level)) in solved {
        let cost = result.objective.filter(|_| result.has_solution);
        values.insert(s, (result.status, cost, result.mip_gap));
        if s == grand {
            joint = Some((result, level));
        } else if s.count_ones() == 1 {
            singles.insert(s, result);
        }
    }
    let Some((joint_result, level)) = joint else {
        return Err(StockadeError::Solver(
            "the grand coalition was not solved".into(),
        ));
    };

    // The baseline for `avoided`: the existing stockpiles only (every depot's capacity cut to
    // what it already holds); and the joint cost under the other sharing mode.
    // Fairness rules are left out of the baseline: they would move the no-deal shortfall between
    // parties, and `avoided` asks what the stockpiles protect each party from.
    let mut baseline = m.clone();
    for d in &mut baseline.depots {
        d.capacity = d.existing_stock.values().sum();
    }
    if let Some(a) = baseline.agreement.as_mut() {
        a.fairness = None;
    }
    let baseline_net = Network::new(baseline)?;
    let (baseline_result, _) =
        solve_joint(&baseline_net, &settings.solver, &SolveControl::default())?;
    progress(done.fetch_add(1, Ordering::SeqCst) + 1, total);
    let other_mode = match m.agreement.as_ref().map(|a| a.sharing).unwrap_or_default() {
        Sharing::Pooled => Sharing::National,
        Sharing::National => Sharing::Pooled,
    };
    let mut other = m.clone();
    other.agreement.get_or_insert_with(Default::default).sharing = other_mode;
    let other_net = Network::new(other)?;
    let (other_result, _) = solve_joint(&other_net, &settings.solver, &SolveControl::default())?;
    progress(done.fetch_add(1, Ordering::SeqCst) + 1, total);

    let mut notes = Vec::new();
    let cost_of = |s: u64| values.get(&s).and_then(|v| v.1);
    let mut limited = 0;
    let mut missing = Vec::new();
    let mut worst_gap: f64 = 0.0;
    for (s, (status, cost, gap)) in &values {
        if cost.is_none() {
            missing.push(format!(
                "{{{}}} ({})",
                names(net, *s).join(", "),
                status.as_str()
            ));
        } else if *status != Status::Optimal {
            limited += 1;
            worst_gap = worst_gap.max(gap.unwrap_or(0.0));
        }
    }
    missing.sort();
    if limited > 0 {
        notes.push(format!(
            "{limited} coalition solve(s) stopped before proving optimality; their values are upper bounds (largest gap {:.2}%)",
            100.0 * worst_gap
        ));
    }
    if !missing.is_empty() {
        let shown = 6;
        let more = if missing.len() > shown {
            format!(" and {} more", missing.len() - shown)
        } else {
            String::new()
        };
        notes.push(format!(
            "no value for {} coalition(s): {}{more}; the allocations that need them are not computed (every coalition is in `coalitions` of --json)",
            missing.len(),
            missing[..missing.len().min(shown)].join(", ")
        ));
    }

    let joint_cost = cost_of(grand);
    let stand_alone: Vec<Option<f64>> = (0..n).map(|i| cost_of(1 << i)).collect();
    let demand = party_demand(net);
    let mut allocations = Vec::new();
    // Proportional to demand.
    if let Some(c) = joint_cost {
        let d_total: f64 = demand.iter().sum();
        let cost: Vec<f64> = if d_total > 0.0 {
            demand.iter().map(|d| c * d / d_total).collect()
        } else {
            vec![c / n as f64; n]
        };
        allocations.push(allocation(Rule::Proportional, cost, None));
        // Proportional to the expected shortfall avoided.
        let before = party_shortfall(net, &baseline_result);
        let after = party_shortfall(net, &joint_result);
        let avoided: Vec<f64> = (0..n)
            .map(|i| ((before[i] - after[i]) * demand[i]).max(0.0))
            .collect();
        let a_total: f64 = avoided.iter().sum();
        if baseline_result.has_solution && a_total > 1e-9 {
            allocations.push(allocation(
                Rule::Avoided,
                avoided.iter().map(|a| c * a / a_total).collect(),
                None,
            ));
        } else {
            notes.push("the joint plan avoids no expected shortfall against the existing stockpiles, so the `avoided` division is not defined".into());
        }
    }
    // The game.
    let mut core = None;
    let mut over_imputations = None;
    let game = if exact && missing.is_empty() {
        Game::from_fn(n, |s| cost_of(s).unwrap_or(f64::NAN)).ok()
    } else {
        None
    };
    if let Some(game) = &game {
        allocations.push(allocation(Rule::Shapley, game.shapley(), None));
        let nu = game.nucleolus()?;
        over_imputations = Some(!nu.prenucleolus);
        if nu.prenucleolus {
            notes.push("the stand-alone costs sum to less than the joint cost, so no allocation is individually rational; the nucleolus shown is the prenucleolus".into());
        }
        allocations.push(allocation(Rule::Nucleolus, nu.allocation, None));
        let CoreCheck {
            nonempty,
            least_core_surplus,
            allocation: at,
        } = game.core_check()?;
        core = Some(CoreReport {
            nonempty,
            least_core_surplus,
            allocation: at,
        });
    } else if !exact && missing.is_empty() {
        let est = shapley_sampled(n, &orders, |s| cost_of(s).unwrap_or(f64::NAN));
        notes.push(format!(
            "{n} parties: the Shapley value is estimated from {} random orders (seed {}), with standard errors; the core and the nucleolus need all 2^{n} - 1 coalition values and are not computed",
            est.orders, settings.seed
        ));
        allocations.push(allocation(Rule::Shapley, est.value, Some(est.std_error)));
    }
    // Stability of each allocation against every solved coalition.
    for a in &mut allocations {
        let mut worst: Option<(u64, f64)> = None;
        let mut all_known = true;
        for s in 1..grand {
            if !exact && !values.contains_key(&s) {
                all_known = false;
                continue;
            }
            let Some(v) = cost_of(s) else {
                all_known = false;
                continue;
            };
            let excess = coalition_sum(&a.cost, s) - v;
            let tol = 1e-7 * v.abs().max(1.0);
            if excess > tol && worst.is_none_or(|(_, e)| excess > e) {
                worst = Some((s, excess));
            }
        }
        a.in_core = if worst.is_some() {
            Some(false)
        } else if all_known {
            Some(true)
        } else {
            None
        };
        a.objection = worst.map(|(s, excess)| CoalitionObjection {
            coalition: names(net, s),
            charged: cost_of(s).unwrap_or(0.0) + excess,
            alone: cost_of(s).unwrap_or(0.0),
        });
    }
    let headline = allocations
        .iter()
        .find(|a| a.rule == settings.rule)
        .map(|a| a.cost.clone());
    if headline.is_none() {
        notes.push(format!(
            "the `{}` division could not be computed; the table shows no allocated cost",
            settings.rule.as_str()
        ));
    }
    let shortfall_joint = party_shortfall(net, &joint_result);
    let parties = (0..n)
        .map(|i| {
            let p = &m.parties[i];
            let allocated = headline.as_ref().map(|h| h[i]);
            let savings = stand_alone[i].zip(allocated).map(|(a, b)| a - b);
            PartyShare {
                id: p.id.clone(),
                name: p.name.clone(),
                demand_t: demand[i],
                stand_alone: stand_alone[i],
                allocated,
                savings,
                savings_share: savings.zip(stand_alone[i]).map(|(s, a)| {
                    if a.abs() > 0.0 {
                        s / a
                    } else {
                        0.0
                    }
                }),
                shortfall_joint: joint_result.has_solution.then_some(shortfall_joint[i]),
                shortfall_alone: singles
                    .get(&(1u64 << i))
                    .filter(|r| r.has_solution)
                    .map(|r| {
                        let sub =
                            Network::new_allowing_unreached_demand(coalition_model(net, 1 << i));
                        sub.map(|sub| party_shortfall(&sub, r)[i])
                            .unwrap_or(f64::NAN)
                    }),
            }
        })
        .collect();
    let sum_alone: Option<f64> = stand_alone.iter().copied().sum();
    let cooperation_gain = sum_alone.zip(joint_cost).map(|(a, c)| a - c);
    let mut coalitions: Vec<CoalitionValue> = values
        .iter()
        .map(|(s, (status, cost, gap))| CoalitionValue {
            coalition: names(net, *s),
            mask: *s,
            status: *status,
            cost: *cost,
            mip_gap: *gap,
        })
        .collect();
    coalitions.sort_by_key(|c| c.mask);
    let stock = joint_result
        .depots
        .iter()
        .zip(&net.depot_party)
        .filter(|(d, _)| d.open && d.stock.values().any(|t| *t > 0.0))
        .map(|(d, p)| HeldStock {
            depot: d.id.clone(),
            party: p.map(|i| m.parties[i].id.clone()).unwrap_or_default(),
            stock: d.stock.clone(),
        })
        .collect();
    Ok(ShareReport {
        model: m.name.clone(),
        currency: m.currency.clone(),
        allowances: m
            .agreement
            .as_ref()
            .map(|a| a.allowances.clone())
            .unwrap_or_default(),
        sharing: m.agreement.as_ref().map(|a| a.sharing).unwrap_or_default(),
        fairness: m.agreement.as_ref().and_then(|a| a.fairness.clone()),
        rule: settings.rule,
        joint: JointPlan {
            status: joint_result.status,
            cost: joint_cost,
            mip_gap: joint_result.mip_gap,
            stock,
            releases: releases(net, &joint_result),
            max_shortfall_fraction: level,
            result: joint_result,
        },
        parties,
        cooperation_gain,
        cooperation_gain_share: cooperation_gain.zip(sum_alone).map(|(g, a)| {
            if a.abs() > 0.0 {
                g / a
            } else {
                0.0
            }
        }),
        allocations,
        core,
        nucleolus_over_imputations: over_imputations,
        coalitions,
        other_sharing: Some(OtherSharing {
            sharing: other_mode,
            status: other_result.status,
            cost: other_result.objective.filter(|_| other_result.has_solution),
        }),
        notes,
        runtime_s: started.elapsed().as_secs_f64(),
    })
}

pub(super) fn allocation(rule: Rule, cost: Vec<f64>, std_error: Option<Vec<f64>>) -> Allocation {
    Allocation {
        rule,
        cost,
        std_error,
        in_core: None,
        objection: None,
    }
}

/// The plan of the joint model, for `stockade evaluate`.
pub fn joint_plan(report: &ShareReport) -> Option<&Plan> {
    report.joint.result.plan.as_ref()
}
