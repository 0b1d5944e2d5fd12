//! The joint stockpile: the model of a coalition of parties, its solve, its value, and what each
//! party falls short of and releases to others in it.

use super::*;

/// The model coalition `mask` plans alone with (see the module documentation): the other
/// parties' depots and demand removed with their routes; shared suppliers, sites and routes
/// between shared nodes scaled to the coalition's share of demand; references to removed nodes
/// dropped from scenarios and hazards; allowances kept among the coalition's parties only.
pub fn coalition_model(net: &Network, mask: u64) -> Model {
    let m = &net.model;
    let mut out = m.clone();
    let in_s = |p: Option<usize>| p.is_some_and(|i| mask & (1 << i) != 0);
    let total: f64 = m.demand.iter().map(|d| d.demand).sum();
    let ours: f64 = m
        .demand
        .iter()
        .zip(&net.demand_party)
        .filter(|(_, p)| in_s(**p))
        .map(|(d, _)| d.demand)
        .sum();
    let alpha = if total > 0.0 {
        (ours / total).max(1e-6)
    } else {
        1.0
    };
    let full = mask == (1u64 << m.parties.len()) - 1;
    if full {
        return out;
    }
    let mut removed: BTreeSet<String> = BTreeSet::new();
    out.depots = m
        .depots
        .iter()
        .zip(&net.depot_party)
        .filter_map(|(d, p)| {
            if in_s(*p) {
                Some(d.clone())
            } else {
                removed.insert(d.id.clone());
                None
            }
        })
        .collect();
    out.demand = m
        .demand
        .iter()
        .zip(&net.demand_party)
        .filter_map(|(d, p)| {
            if in_s(*p) {
                Some(d.clone())
            } else {
                removed.insert(d.id.clone());
                None
            }
        })
        .collect();
    for s in &mut out.suppliers {
        s.capacity *= alpha;
    }
    for s in &mut out.sites {
        s.module_capacity *= alpha;
    }
    let shared: BTreeSet<&str> = m
        .suppliers
        .iter()
        .map(|s| s.id.as_str())
        .chain(m.sites.iter().map(|s| s.id.as_str()))
        .collect();
    let mut removed_routes = BTreeSet::new();
    out.routes = m
        .routes
        .iter()
        .filter_map(|r| {
            if removed.contains(&r.from) || removed.contains(&r.to) {
                removed_routes.insert(r.key());
                return None;
            }
            let mut r = r.clone();
            if shared.contains(r.from.as_str()) && shared.contains(r.to.as_str()) {
                r.capacity = r.capacity.map(|c| c * alpha);
            }
            Some(r)
        })
        .collect();
    if let Some(b) = out.policies.budget.as_mut() {
        *b *= alpha;
    }
    if let Some(a) = out.agreement.as_mut() {
        let keep = |id: &str| {
            m.parties
                .iter()
                .position(|p| p.id == id)
                .is_some_and(|i| mask & (1 << i) != 0)
        };
        a.allowances.retain(|al| keep(&al.from) && keep(&al.to));
    }
    // Hazards and scenarios must only name what is left.
    let chokepoints: BTreeSet<&String> = out.routes.iter().flat_map(|r| &r.chokepoints).collect();
    let regions: BTreeSet<&String> = out
        .suppliers
        .iter()
        .map(|n| &n.region)
        .chain(out.sites.iter().map(|n| &n.region))
        .chain(out.depots.iter().map(|n| &n.region))
        .collect();
    let gone = |id: &String| removed.contains(id) || removed_routes.contains(id);
    let dropped_hazards: BTreeSet<String> = m
        .hazards
        .iter()
        .filter(|h| match &h.scope {
            HazardScope::Node { id } => gone(id),
            HazardScope::Region { region, .. } => !regions.contains(region),
            HazardScope::Chokepoint { name } => !chokepoints.contains(name),
            HazardScope::Country { .. } | HazardScope::Embargo { .. } => false,
        })
        .map(|h| h.id.clone())
        .collect();
    out.hazards.retain(|h| !dropped_hazards.contains(&h.id));
    for s in &mut out.sites {
        for h in &mut s.hardening {
            h.hazards.retain(|x| !dropped_hazards.contains(x));
        }
    }
    for sc in &mut out.scenarios {
        sc.availability.retain(|k, _| !gone(k));
        sc.closed_chokepoints.retain(|c| chokepoints.contains(c));
        sc.hazards.retain(|x| !dropped_hazards.contains(x));
    }
    out
}

/// Party ids of a coalition.
pub(super) fn names(net: &Network, mask: u64) -> Vec<String> {
    crate::analysis::game::members(mask, net.model.parties.len())
        .into_iter()
        .map(|i| net.model.parties[i].id.clone())
        .collect()
}

/// Solves the joint model of a validated network: the siting MIP with the agreement, and with
/// min-max fairness lexicographically (first the smallest largest expected shortfall fraction,
/// then the cheapest plan that achieves it). Returns the result and the min-max level.
pub fn solve_joint(
    net: &Network,
    settings: &Settings,
    control: &SolveControl,
) -> Result<JointOutcome, StockadeError> {
    let scenarios = ScenarioSet::explicit(net);
    let fairness = net
        .model
        .agreement
        .as_ref()
        .and_then(|a| a.fairness.clone())
        .unwrap_or_default();
    if !fairness.min_max || net.model.parties.is_empty() {
        return Ok((solve_siting(net, &scenarios, settings, control)?, None));
    }
    let contingencies = net
        .model
        .policies
        .survivability
        .as_ref()
        .map(|sv| ScenarioSet::contingencies(net, sv.k, &sv.targets))
        .unwrap_or_default();
    let options = BuildOptions {
        contingencies: &contingencies,
        min_max_phase_one: true,
        ..BuildOptions::default()
    };
    let phase_one = SitingProblem::build(net, &scenarios, &options);
    let run = solve_mip(&phase_one.mip, settings, control)?;
    let Some(level) = run.objective.filter(|_| run.has_solution) else {
        // No plan at all: the second phase says why (infeasible, with its diagnosis).
        return Ok((solve_siting(net, &scenarios, settings, control)?, None));
    };
    // Phase two: the level as a bound, with room for the first phase's tolerances.
    let level = level.max(0.0);
    let bound = level * (1.0 + 1e-6) + 1e-7;
    let mut model = net.model.clone();
    if let Some(a) = model.agreement.as_mut() {
        a.fairness = Some(Fairness {
            max_shortfall_fraction: Some(
                fairness
                    .max_shortfall_fraction
                    .map_or(bound, |b| b.min(bound)),
            ),
            min_max: false,
        });
    }
    let net2 = Network::new_allowing_unreached_demand(model)?;
    let scenarios2 = ScenarioSet::explicit(&net2);
    Ok((
        solve_siting(&net2, &scenarios2, settings, control)?,
        Some(level),
    ))
}

/// v(S) of one coalition (a bit mask over `parties`): its model, validated, solved jointly;
/// with the fairness level of the min-max phase, when there is one.
pub fn coalition_value(
    net: &Network,
    mask: u64,
    settings: &Settings,
) -> Result<JointOutcome, StockadeError> {
    let model = coalition_model(net, mask);
    let sub = Network::new_allowing_unreached_demand(model).map_err(|e| {
        let who = names(net, mask).join(", ");
        StockadeError::Input(InputError {
            problems: e
                .problems
                .into_iter()
                .map(|p| Problem {
                    message: format!(
                        "in the model of coalition {{{who}}} planning alone: {}",
                        p.message
                    ),
                    ..p
                })
                .collect(),
        })
    })?;
    solve_joint(&sub, settings, &SolveControl::default())
}

/// Expected shortfall fraction of every party in a result.
pub(super) fn party_shortfall(net: &Network, result: &SolveResult) -> Vec<f64> {
    let m = &net.model;
    let prob: HashMap<&str, f64> = result
        .scenarios
        .iter()
        .map(|s| (s.id.as_str(), s.probability))
        .collect();
    let party_of: HashMap<&str, Option<usize>> = m
        .demand
        .iter()
        .zip(&net.demand_party)
        .map(|(d, p)| (d.id.as_str(), *p))
        .collect();
    let mut short = vec![0.0; m.parties.len()];
    for s in &result.shortfall {
        if let (Some(Some(i)), Some(p)) = (
            party_of.get(s.demand.as_str()),
            prob.get(s.scenario.as_str()),
        ) {
            short[*i] += p * s.shortfall_t;
        }
    }
    let demand = party_demand(net);
    short
        .iter()
        .zip(&demand)
        .map(|(s, d)| if *d > 0.0 { s / d } else { 0.0 })
        .collect()
}

pub(super) fn party_demand(net: &Network) -> Vec<f64> {
    let mut out = vec![0.0; net.model.parties.len()];
    for (d, p) in net.model.demand.iter().zip(&net.demand_party) {
        if let Some(i) = p {
            out[*i] += d.demand;
        }
    }
    out
}

/// Expected releases between parties in the joint plan, from its scenario flows.
pub(super) fn releases(net: &Network, problem_flows: &SolveResult) -> Vec<Release> {
    let m = &net.model;
    let mut by: BTreeMap<(usize, usize, String), f64> = BTreeMap::new();
    for f in &problem_flows.flows {
        let Some(e) = net.route(&f.route) else {
            continue;
        };
        if let (Some(a), Some(b)) = net.release_parties(e) {
            if a != b {
                *by.entry((a, b, f.material.clone())).or_default() += f.expected;
            }
        }
    }
    by.into_iter()
        .map(|((a, b, material), expected)| Release {
            from: m.parties[a].id.clone(),
            to: m.parties[b].id.clone(),
            material,
            expected_t: expected,
        })
        .collect()
}
