//! Worst case against independent oracles: the k-interdiction MIP (a dual formulation) against
//! brute-force enumeration of every loss set with the fixed-plan evaluation LPs (the primal, built
//! by other code); a p-median special case against a direct nearest-site computation; robust
//! siting and fortification against enumeration of every plan or protection set.

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use stockade::evaluate::solve_cold;
use stockade::interdiction::{worst_case, WorstCaseOptions};
use stockade::model::Model;
use stockade::plan::SiteDecision;
use stockade::robust::{fortify, solve_robust, ProtectionLimit};
use stockade::scenario::{intact, loss_case, Element, ScenarioSet};
use stockade::{EvaluationSettings, Network, Plan, Settings, SolveControl, Status};

fn network(v: Value) -> Network {
    let model: Model = serde_json::from_value(v).expect("model json");
    Network::new(model).expect("valid model")
}

fn targets(kinds: &[&str]) -> Vec<String> {
    kinds.iter().map(|s| s.to_string()).collect()
}

fn losses(k: u32, kinds: &[String], duration: f64) -> WorstCaseOptions {
    WorstCaseOptions {
        k,
        targets: kinds.to_vec(),
        duration,
        single_points_of_failure: false,
    }
}

/// Brute force: the largest second-stage cost over every loss of 1..=k target elements (and the
/// intact network), each from the plan's evaluation LP.
fn enumerate_worst(net: &Network, plan: &Plan, k: u32, kinds: &[String], duration: f64) -> f64 {
    let mut cases = ScenarioSet::contingencies(net, k, kinds);
    // A loss for part of the year leaves 1 - duration of the element's capacity.
    for case in &mut cases {
        for a in case
            .supplier
            .iter_mut()
            .chain(&mut case.site)
            .chain(&mut case.depot)
            .chain(&mut case.route)
        {
            if *a == 0.0 {
                *a = 1.0 - duration;
            }
        }
    }
    cases.push(intact(net, "base", 1.0));
    let p = 1.0 / cases.len() as f64;
    cases.iter_mut().for_each(|c| c.probability = p);
    let set = ScenarioSet { cases };
    let eval = stockade::evaluate(net, plan, &set, &EvaluationSettings::default(), &|_, _| {})
        .expect("evaluation");
    assert!(eval.failed.is_empty(), "every loss LP solves");
    eval.outcomes
        .iter()
        .map(|o| o.cost)
        .fold(f64::NEG_INFINITY, f64::max)
}

/// A random two-tier chain: suppliers of ore -> processing sites (yield < 1) -> demand of oxide,
/// plus a depot of oxide; some routes capacitated, some demand hard (no penalty).
fn random_instance(seed: u64) -> (Network, Plan) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let ns = rng.gen_range(1..=3);
    let np = rng.gen_range(1..=3);
    let nd = rng.gen_range(1..=2);
    let depot = rng.gen_bool(0.5);
    let mut suppliers = Vec::new();
    let mut sites = Vec::new();
    let mut demand = Vec::new();
    let mut routes = Vec::new();
    let mut plan = Plan::default();
    let round = |lo: f64, hi: f64, rng: &mut ChaCha8Rng| rng.gen_range(lo..hi).round();
    for i in 0..ns {
        suppliers.push(
            json!({"id": format!("s{i}"), "country": "X", "material": "ore",
            "capacity": round(20.0, 100.0, &mut rng), "unit_cost": round(0.0, 5.0, &mut rng)}),
        );
    }
    for i in 0..np {
        let modules: u32 = rng.gen_range(0..=2);
        let yield_ = [0.5, 0.8, 1.0][rng.gen_range(0..3)];
        sites.push(
            json!({"id": format!("p{i}"), "country": "X", "input": "ore", "output": "oxide",
            "yield": yield_,
            "module_capacity": round(10.0, 40.0, &mut rng), "max_modules": 2,
            "unit_cost": round(0.0, 5.0, &mut rng)}),
        );
        plan.sites.insert(
            format!("p{i}"),
            SiteDecision {
                open: modules > 0,
                modules,
                hardening: None,
            },
        );
    }
    for j in 0..nd {
        let mut d = json!({"id": format!("d{j}"), "country": "X", "material": "oxide",
            "demand": round(20.0, 80.0, &mut rng)});
        if rng.gen_bool(0.8) {
            d["shortfall_penalty"] = json!(round(50.0, 200.0, &mut rng));
        }
        demand.push(d);
    }
    // A route with a random unit cost, capacitated with probability `capacitated`.
    let route = |from: String, to: String, capacitated: f64, rng: &mut ChaCha8Rng| {
        let mut r = json!({"from": from, "to": to, "unit_cost": round(0.0, 10.0, rng)});
        if rng.gen_bool(capacitated) {
            r["capacity"] = json!(round(10.0, 80.0, rng));
        }
        r
    };
    for i in 0..ns {
        for p in 0..np {
            routes.push(route(format!("s{i}"), format!("p{p}"), 0.4, &mut rng));
        }
    }
    for p in 0..np {
        for j in 0..nd {
            routes.push(route(format!("p{p}"), format!("d{j}"), 0.3, &mut rng));
        }
    }
    let mut depots = Vec::new();
    if depot {
        let stock = round(0.0, 30.0, &mut rng);
        depots.push(json!({"id": "dep", "country": "X", "capacity": 100.0}));
        for j in 0..nd {
            routes.push(json!({"from": "dep", "to": format!("d{j}"), "unit_cost": 1.0}));
        }
        plan.depots.insert(
            "dep".into(),
            stockade::plan::DepotDecision {
                open: true,
                stock: [("oxide".to_string(), stock)].into_iter().collect(),
            },
        );
    }
    let net = network(json!({
        "materials": [{"id": "ore"}, {"id": "oxide", "unit_price": 30.0}],
        "countries": [{"code": "X"}],
        "suppliers": suppliers, "sites": sites, "depots": depots, "demand": demand, "routes": routes
    }));
    (net, plan)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// The interdiction MIP's worst loss equals the largest cost over every loss set, for losses
    /// of the whole year or of half of it. Loss sets of 3 are drawn from the nodes only, to keep
    /// enumeration small.
    #[test]
    fn interdiction_equals_enumeration(seed in any::<u64>(), k in 1u32..=3, half in any::<bool>()) {
        let duration = if half { 0.5 } else { 1.0 };
        let (net, plan) = random_instance(seed);
        let kinds = if k == 3 {
            targets(&["sites", "suppliers", "depots"])
        } else {
            targets(&["sites", "suppliers", "depots", "routes"])
        };
        let options = losses(k, &kinds, duration);
        let found = worst_case(&net, &plan, &options, &[], &Settings::default(), &SolveControl::default())
            .expect("worst case");
        prop_assert_eq!(found.status, Status::Optimal);
        let oracle = enumerate_worst(&net, &plan, k, &kinds, duration);
        let tol = 1e-6 * oracle.abs().max(1.0);
        prop_assert!((found.cost - oracle).abs() <= tol, "MIP worst {} vs enumeration {}", found.cost, oracle);
        let mip = found.mip_value.expect("incumbent");
        prop_assert!((mip - oracle).abs() <= tol, "MIP value {} vs enumeration {}", mip, oracle);
        prop_assert!(found.lost.len() <= k as usize);
    }
}

/// Single points of failure: every element lost alone, ranked, equals one cold LP per element.
#[test]
fn single_points_of_failure_match_cold_lps() {
    let (net, plan) = random_instance(7);
    let options = WorstCaseOptions {
        k: 1,
        ..WorstCaseOptions::default()
    };
    let found = worst_case(
        &net,
        &plan,
        &options,
        &[],
        &Settings::default(),
        &SolveControl::default(),
    )
    .expect("worst case");
    let spof = &found.single_points_of_failure;
    assert!(!spof.is_empty());
    for w in spof.windows(2) {
        assert!(w[0].cost >= w[1].cost - 1e-9, "ranked by cost");
    }
    for s in spof {
        let e = stockade::interdiction::candidate_elements(&net, &options.targets)
            .expect("present")
            .into_iter()
            .find(|e| stockade::interdiction::ElementRef::of(&net, *e) == s.element)
            .expect("present");
        let (cold, ok) = solve_cold(&net, &plan, &loss_case(&net, &[e])).expect("present");
        assert!(ok);
        assert!((cold.cost - s.cost).abs() <= 1e-6 * cold.cost.max(1.0));
    }
    // k = 1: the worst loss is the top of the ranking.
    assert!((spof[0].cost - found.cost).abs() <= 1e-6 * found.cost.max(1.0));
}

/// p-median (exactly p = 3 of 5 sites, uncapacitated, no fixed costs): sites and customers on a
/// line, cost per t = distance. Customers (position, weight):
/// c0 (0, 10), c1 (2, 20), c2 (5, 15), c3 (9, 10), c4 (10, 25), c5 (14, 5).
/// Candidate sites at 0, 3, 6, 10, 13. Losing an open site sends each of its customers to the
/// nearest remaining open site: the worst such loss is computed directly below.
#[test]
fn p_median_loss_reassigns_to_nearest_open_site() {
    let customers: [(f64, f64); 6] = [
        (0.0, 10.0),
        (2.0, 20.0),
        (5.0, 15.0),
        (9.0, 10.0),
        (10.0, 25.0),
        (14.0, 5.0),
    ];
    let sites: [f64; 5] = [0.0, 3.0, 6.0, 10.0, 13.0];
    let total: f64 = customers.iter().map(|c| c.1).sum();
    let model = json!({
        "materials": [{"id": "m"}],
        "countries": [{"code": "X"}],
        "sites": sites.iter().enumerate().map(|(i, _)| json!({"id": format!("f{i}"), "country": "X",
            "output": "m", "module_capacity": total, "max_modules": 1})).collect::<Vec<_>>(),
        "demand": customers.iter().enumerate().map(|(j, c)| json!({"id": format!("c{j}"),
            "country": "X", "material": "m", "demand": c.1, "shortfall_penalty": 1e4}))
            .collect::<Vec<_>>(),
        "routes": sites.iter().enumerate().flat_map(|(i, x)| customers.iter().enumerate()
            .map(move |(j, c)| json!({"from": format!("f{i}"), "to": format!("c{j}"),
                "unit_cost": (x - c.0).abs()}))).collect::<Vec<_>>(),
        "policies": {"open_sites": {"min": 3, "max": 3}}
    });
    let net = network(model);
    let solved = stockade::solve_siting(
        &net,
        &ScenarioSet::explicit(&net),
        &Settings::default(),
        &SolveControl::default(),
    )
    .expect("p-median solve");
    let plan = solved.plan.expect("plan");
    let open: Vec<usize> = (0..sites.len())
        .filter(|i| plan.sites[&format!("f{i}")].open)
        .collect();
    assert_eq!(open.len(), 3);
    // Direct computation: assignment cost with a set of open sites.
    let cost_with = |open: &[usize]| -> f64 {
        customers
            .iter()
            .map(|(y, w)| {
                w * open
                    .iter()
                    .map(|i| (sites[*i] - y).abs())
                    .fold(f64::INFINITY, f64::min)
            })
            .sum()
    };
    // The p-median optimum by enumeration of every 3 of 5 sites.
    let mut best = f64::INFINITY;
    for a in 0..5 {
        for b in a + 1..5 {
            for c in b + 1..5 {
                best = best.min(cost_with(&[a, b, c]));
            }
        }
    }
    assert!(
        (cost_with(&open) - best).abs() < 1e-6,
        "solve finds a p-median optimum"
    );
    let options = WorstCaseOptions {
        single_points_of_failure: true,
        ..losses(1, &targets(&["sites"]), 1.0)
    };
    let found = worst_case(
        &net,
        &plan,
        &options,
        &[],
        &Settings::default(),
        &SolveControl::default(),
    )
    .expect("worst case");
    let mut direct = Vec::new();
    for lost in &open {
        let rest: Vec<usize> = open.iter().copied().filter(|i| i != lost).collect();
        direct.push((format!("f{lost}"), cost_with(&rest)));
    }
    let worst = direct.iter().map(|d| d.1).fold(f64::NEG_INFINITY, f64::max);
    assert!(
        (found.cost - worst).abs() < 1e-6,
        "{} vs {}",
        found.cost,
        worst
    );
    assert!((found.base_cost - cost_with(&open)).abs() < 1e-6);
    assert_eq!(found.shortfall_t, 0.0);
    for (id, cost) in &direct {
        let s = found
            .single_points_of_failure
            .iter()
            .find(|s| &s.element.id == id)
            .expect("every open site ranked");
        assert!((s.cost - cost).abs() < 1e-6, "{id}: {} vs {cost}", s.cost);
    }
}

/// Hard demand (no penalty) that a loss leaves unmet: the worst case is priced at the evaluation's
/// hard penalty (10 x the largest penalty = 10 x 50 = 500 per t) and named in the notes.
/// One site `a` (100 t) serves hard demand `h` (60 t, route cost 1) and penalised demand `p`
/// (40 t, 50/t, route cost 1). Losing `a`: 60 x 500 + 40 x 50 = 32 000. Intact: 100 x 1 = 100.
#[test]
fn hard_demand_is_priced_and_reported() {
    let net = network(json!({
        "materials": [{"id": "m"}],
        "countries": [{"code": "X"}],
        "sites": [{"id": "a", "country": "X", "output": "m", "module_capacity": 100.0, "max_modules": 1}],
        "demand": [
            {"id": "h", "country": "X", "material": "m", "demand": 60.0},
            {"id": "p", "country": "X", "material": "m", "demand": 40.0, "shortfall_penalty": 50.0}
        ],
        "routes": [{"from": "a", "to": "h", "unit_cost": 1.0}, {"from": "a", "to": "p", "unit_cost": 1.0}]
    }));
    let mut plan = Plan::default();
    plan.sites.insert(
        "a".into(),
        SiteDecision {
            open: true,
            modules: 1,
            hardening: None,
        },
    );
    let found = worst_case(
        &net,
        &plan,
        &WorstCaseOptions::default(),
        &[],
        &Settings::default(),
        &SolveControl::default(),
    )
    .expect("worst case");
    assert_eq!(found.status, Status::Optimal);
    assert!((found.cost - 32_000.0).abs() < 1e-6, "{}", found.cost);
    assert!((found.base_cost - 100.0).abs() < 1e-6);
    assert_eq!(found.lost[0].id, "a");
    assert!(found.shortfall.iter().any(|s| s.demand == "h" && s.hard));
    assert!(found.notes.iter().any(|n| n.contains("hard demand h")));
}

/// A plan that names an unknown site is an input error naming the path, not a panic.
#[test]
fn bad_plan_and_targets_are_input_errors() {
    let (net, mut plan) = random_instance(3);
    plan.sites.insert(
        "nowhere".into(),
        SiteDecision {
            open: true,
            modules: 1,
            hardening: None,
        },
    );
    let err = worst_case(
        &net,
        &plan,
        &WorstCaseOptions::default(),
        &[],
        &Settings::default(),
        &SolveControl::default(),
    )
    .expect_err("an input error");
    assert!(err.to_string().contains("plan.sites.nowhere"), "{err}");
    let (net, plan) = random_instance(3);
    let options = WorstCaseOptions {
        targets: targets(&["sites", "mines"]),
        ..WorstCaseOptions::default()
    };
    let err = worst_case(
        &net,
        &plan,
        &options,
        &[],
        &Settings::default(),
        &SolveControl::default(),
    )
    .expect_err("an input error");
    assert!(err.to_string().contains("--targets"), "{err}");
    assert!(err.to_string().contains("mines"), "{err}");
}

/// Largest second-stage cost over the intact network and every loss of 1..=k of `elements`.
fn worst_over(net: &Network, plan: &Plan, k: usize, elements: &[Element], duration: f64) -> f64 {
    let mut sets: Vec<Vec<Element>> = vec![Vec::new()];
    for size in 1..=k {
        let mut next = Vec::new();
        for s in sets.iter().filter(|s| s.len() == size - 1) {
            let start = s.last().map_or(0, |l| {
                elements.iter().position(|e| e == l).expect("present") + 1
            });
            for e in &elements[start..] {
                let mut t = s.clone();
                t.push(*e);
                next.push(t);
            }
        }
        sets.extend(next);
    }
    let p = 1.0 / sets.len() as f64;
    let cases = sets
        .iter()
        .map(|s| {
            let mut c = if s.is_empty() {
                intact(net, "base", p)
            } else {
                loss_case(net, s)
            };
            for e in s {
                match e {
                    Element::Supplier(i) => c.supplier[*i] = 1.0 - duration,
                    Element::Site(i) => c.site[*i] = 1.0 - duration,
                    Element::Depot(i) => c.depot[*i] = 1.0 - duration,
                    Element::Route(i) => c.route[*i] = 1.0 - duration,
                }
            }
            c.probability = p;
            c
        })
        .collect();
    let eval = stockade::evaluate(
        net,
        plan,
        &ScenarioSet { cases },
        &EvaluationSettings::default(),
        &|_, _| {},
    )
    .expect("evaluation");
    assert!(eval.failed.is_empty(), "failed: {:?}", eval.failed);
    eval.outcomes
        .iter()
        .map(|o| o.cost)
        .fold(f64::NEG_INFINITY, f64::max)
}

/// Every subset of `items` of size <= q.
fn subsets<T: Copy>(items: &[T], q: usize) -> Vec<Vec<T>> {
    let mut out = vec![Vec::new()];
    for mask in 1u32..(1 << items.len()) {
        if mask.count_ones() as usize <= q {
            out.push(
                (0..items.len())
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| items[i])
                    .collect(),
            );
        }
    }
    out
}

/// Robust siting equals enumeration of every plan: three candidate sites of up to two modules,
/// each plan's min-max cost = open and module costs (by hand) + its worst loss of up to k
/// sites or suppliers (enumerated LPs); the robust loop's cost is the least of them.
#[test]
fn robust_siting_equals_enumeration_of_plans() {
    for (seed, k, duration) in [(11u64, 1u32, 1.0), (12, 1, 0.5), (13, 2, 1.0)] {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let open_cost: Vec<f64> = (0..3)
            .map(|_| rng.gen_range(50.0..400.0f64).round())
            .collect();
        let module_cost: Vec<f64> = (0..3)
            .map(|_| rng.gen_range(20.0..200.0f64).round())
            .collect();
        let capacity: Vec<f64> = (0..3)
            .map(|_| rng.gen_range(15.0..40.0f64).round())
            .collect();
        let net = network(json!({
            "materials": [{"id": "ore"}, {"id": "oxide"}],
            "countries": [{"code": "X"}],
            "suppliers": [
                {"id": "s0", "country": "X", "material": "ore", "capacity": 70.0, "unit_cost": 1.0},
                {"id": "s1", "country": "X", "material": "ore", "capacity": 50.0, "unit_cost": 3.0}
            ],
            "sites": (0..3).map(|i| json!({"id": format!("p{i}"), "country": "X", "input": "ore",
                "output": "oxide", "yield": 0.8, "module_capacity": capacity[i], "max_modules": 2,
                "open_cost": open_cost[i], "module_cost": module_cost[i], "unit_cost": 2.0}))
                .collect::<Vec<_>>(),
            "demand": [
                {"id": "d0", "country": "X", "material": "oxide", "demand": 40.0, "shortfall_penalty": 60.0},
                {"id": "d1", "country": "X", "material": "oxide", "demand": 20.0, "shortfall_penalty": 25.0}
            ],
            "routes": [
                {"from": "s0", "to": "p0", "unit_cost": 1.0}, {"from": "s0", "to": "p1", "unit_cost": 2.0},
                {"from": "s1", "to": "p1", "unit_cost": 1.0}, {"from": "s1", "to": "p2", "unit_cost": 1.0},
                {"from": "p0", "to": "d0", "unit_cost": 1.0}, {"from": "p1", "to": "d0", "unit_cost": 2.0},
                {"from": "p1", "to": "d1", "unit_cost": 1.0}, {"from": "p2", "to": "d1", "unit_cost": 2.0},
                {"from": "p2", "to": "d0", "unit_cost": 4.0}
            ]
        }));
        let kinds = targets(&["sites", "suppliers"]);
        let elements = stockade::interdiction::candidate_elements(&net, &kinds).expect("present");
        let mut best = f64::INFINITY;
        for plan_code in 0..27u32 {
            let modules: Vec<u32> = (0..3).map(|i| (plan_code / 3u32.pow(i)) % 3).collect();
            let mut plan = Plan::default();
            let mut first = 0.0;
            for i in 0..3 {
                plan.sites.insert(
                    format!("p{i}"),
                    SiteDecision {
                        open: modules[i] > 0,
                        modules: modules[i],
                        hardening: None,
                    },
                );
                if modules[i] > 0 {
                    first += open_cost[i] + module_cost[i] * f64::from(modules[i]);
                }
            }
            best = best.min(first + worst_over(&net, &plan, k as usize, &elements, duration));
        }
        let robust = solve_robust(
            &net,
            &losses(k, &kinds, duration),
            &Settings::default(),
            &SolveControl::default(),
            &|_| {},
        )
        .expect("robust");
        assert_eq!(robust.status, Status::Optimal, "seed {seed}");
        let upper = robust.upper_bound.expect("present");
        assert!(
            (upper - best).abs() <= 1e-6 * best,
            "seed {seed}: robust {upper} vs enumeration {best}"
        );
        let wc = robust.worst_case.as_ref().expect("present");
        let achieved = robust.first_stage_cost.expect("present") + wc.cost;
        assert!(
            (achieved - best).abs() <= 1e-6 * best,
            "the plan achieves it: {achieved}"
        );
        assert!(robust.lower_bound.expect("present") <= upper + 1e-6 * best);
        for it in &robust.iterations {
            assert!(it.lower_bound <= it.upper_bound + 1e-6 * best);
        }
    }
}

/// Fortification equals enumeration of every protection set: protect at most Q (or within a
/// budget) of the nodes so that the worst loss of up to k unprotected nodes costs least.
#[test]
fn fortification_equals_enumeration_of_protection_sets() {
    for (seed, k, limit) in [
        (21u64, 1u32, ProtectionLimit::Count(1)),
        (22, 2, ProtectionLimit::Count(2)),
        (23, 2, ProtectionLimit::Budget(5.0)),
        (24, 1, ProtectionLimit::Count(2)),
    ] {
        let (net, plan) = random_instance(seed);
        let kinds = targets(&["sites", "suppliers", "depots"]);
        let elements = stockade::interdiction::candidate_elements(&net, &kinds).expect("present");
        // Protection cost of element i: 1 + i % 4 (set below in the model for the budget case).
        let cost = |i: usize| 1.0 + (i % 4) as f64;
        let mut model = net.model.clone();
        for (i, e) in elements.iter().enumerate() {
            match e {
                Element::Site(j) => model.sites[*j].protection_cost = Some(cost(i)),
                Element::Supplier(j) => model.suppliers[*j].protection_cost = Some(cost(i)),
                Element::Depot(j) => model.depots[*j].protection_cost = Some(cost(i)),
                Element::Route(_) => {}
            }
        }
        let net = Network::new(model).expect("present");
        let indices: Vec<usize> = (0..elements.len()).collect();
        let choices: Vec<Vec<usize>> = match limit {
            ProtectionLimit::Count(q) => subsets(&indices, q as usize),
            ProtectionLimit::Budget(b) => subsets(&indices, indices.len())
                .into_iter()
                .filter(|s| s.iter().map(|i| cost(*i)).sum::<f64>() <= b + 1e-9)
                .collect(),
        };
        let mut best = f64::INFINITY;
        for protect in &choices {
            let open: Vec<Element> = indices
                .iter()
                .filter(|i| !protect.contains(i))
                .map(|i| elements[*i])
                .collect();
            best = best.min(worst_over(&net, &plan, k as usize, &open, 1.0));
        }
        let unprotected = worst_over(&net, &plan, k as usize, &elements, 1.0);
        let result = fortify(
            &net,
            &plan,
            &losses(k, &kinds, 1.0),
            limit,
            &Settings::default(),
            &SolveControl::default(),
            &|_| {},
        )
        .expect("fortify");
        assert_eq!(result.status, Status::Optimal, "seed {seed}");
        let tol = 1e-6 * best.max(1.0);
        let upper = result.upper_bound.expect("present");
        assert!(
            (upper - best).abs() <= tol,
            "seed {seed}: fortify {upper} vs enumeration {best}"
        );
        let wc = result.worst_case.as_ref().expect("present");
        assert!(
            (wc.cost - best).abs() <= tol,
            "seed {seed}: protected worst {}",
            wc.cost
        );
        assert!((result.unprotected_worst - unprotected).abs() <= tol);
        match limit {
            ProtectionLimit::Count(q) => assert!(result.protected.len() <= q as usize),
            ProtectionLimit::Budget(b) => assert!(result.protection_cost <= b + 1e-9),
        }
    }
}

/// A spent time limit is an outcome, not an error: both loops end `time_limit`.
#[test]
fn loops_stop_at_the_time_limit() {
    let (net, plan) = random_instance(5);
    let settings = Settings {
        time_limit_s: Some(0.0),
        ..Settings::default()
    };
    let kinds = targets(&["sites", "suppliers"]);
    let robust = solve_robust(
        &net,
        &losses(1, &kinds, 1.0),
        &settings,
        &SolveControl::default(),
        &|_| {},
    )
    .expect("robust");
    assert_eq!(robust.status, Status::TimeLimit);
    let f = fortify(
        &net,
        &plan,
        &losses(1, &kinds, 1.0),
        ProtectionLimit::Count(1),
        &settings,
        &SolveControl::default(),
        &|_| {},
    )
    .expect("fortify");
    assert_eq!(f.status, Status::TimeLimit);
}

/// A negative protection cost is an input error naming the JSON path and the entity.
#[test]
fn negative_protection_cost_names_its_path() {
    let model: Model = serde_json::from_value(json!({
        "materials": [{"id": "m"}],
        "countries": [{"code": "X"}],
        "sites": [{"id": "a", "country": "X", "output": "m", "module_capacity": 1.0,
            "max_modules": 1, "protection_cost": -5.0}],
        "demand": [{"id": "d", "country": "X", "material": "m", "demand": 1.0}],
        "routes": [{"from": "a", "to": "d", "protection_cost": -1.0}]
    }))
    .expect("model json");
    let err = Network::new(model).expect_err("an input error");
    let text = err.to_string();
    assert!(
        text.contains("sites[0].protection_cost (a): must be >= 0"),
        "{text}"
    );
    assert!(text.contains("routes[0].protection_cost (a->d)"), "{text}");
}

/// A small random instance for robust siting with routes among the targets: two suppliers,
/// three candidate sites (open and module costs, up to `max_modules` each), two demands (one hard
/// with probability 0.3), a random set of routes (every site keeps a way in and out), some of
/// them capacitated. Returns the network and, per site, (open cost, module cost, max modules).
fn random_robust_instance(seed: u64) -> (Network, Vec<(f64, f64, u32)>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let round = |lo: f64, hi: f64, rng: &mut ChaCha8Rng| rng.gen_range(lo..hi).round();
    let suppliers: Vec<Value> = (0..2)
        .map(|i| {
            json!({"id": format!("s{i}"), "country": "X", "material": "ore",
                   "capacity": round(30.0, 90.0, &mut rng), "unit_cost": round(0.0, 4.0, &mut rng)})
        })
        .collect();
    let mut costs = Vec::new();
    let sites: Vec<Value> = (0..3)
        .map(|i| {
            let max: u32 = rng.gen_range(1..=2);
            let (open, module) = (round(20.0, 300.0, &mut rng), round(10.0, 150.0, &mut rng));
            costs.push((open, module, max));
            let yield_ = [0.8, 1.0][rng.gen_range(0..2)];
            json!({"id": format!("p{i}"), "country": "X", "input": "ore", "output": "oxide",
                   "yield": yield_,
                   "module_capacity": round(15.0, 40.0, &mut rng), "max_modules": max,
                   "open_cost": open, "module_cost": module, "unit_cost": round(0.0, 3.0, &mut rng)})
        })
        .collect();
    let demand: Vec<Value> = (0..2)
        .map(|j| {
            let mut d = json!({"id": format!("d{j}"), "country": "X", "material": "oxide",
                               "demand": round(10.0, 40.0, &mut rng)});
            if !rng.gen_bool(0.3) {
                d["shortfall_penalty"] = json!(round(20.0, 120.0, &mut rng));
            }
            d
        })
        .collect();
    let mut routes = Vec::new();
    let mut route = |from: String, to: String, always: bool, rng: &mut ChaCha8Rng| {
        if always || rng.gen_bool(0.6) {
            let mut r = json!({"from": from, "to": to, "unit_cost": round(0.0, 6.0, rng)});
            if rng.gen_bool(0.3) {
                r["capacity"] = json!(round(10.0, 50.0, rng));
            }
            routes.push(r);
        }
    };
    for p in 0..3 {
        for s in 0..2 {
            route(format!("s{s}"), format!("p{p}"), s == p % 2, &mut rng);
        }
        for d in 0..2 {
            route(format!("p{p}"), format!("d{d}"), d == p % 2, &mut rng);
        }
    }
    let net = network(json!({
        "materials": [{"id": "ore"}, {"id": "oxide"}],
        "countries": [{"code": "X"}],
        "suppliers": suppliers, "sites": sites, "demand": demand, "routes": routes
    }));
    (net, costs)
}

/// On every iteration of a loop: lower <= upper, and both bracket the enumerated optimum `best`.
fn bracket(
    iterations: &[stockade::robust::LoopIteration],
    best: f64,
    tol: f64,
) -> Result<(), TestCaseError> {
    for it in iterations {
        let (lower, upper) = (it.lower_bound, it.upper_bound);
        prop_assert!(
            lower <= upper + tol,
            "iteration {}: lower {lower} above upper {upper}",
            it.iteration
        );
        prop_assert!(
            lower <= best + tol,
            "iteration {}: lower {lower} above optimum {best}",
            it.iteration
        );
        prop_assert!(
            upper >= best - tol,
            "iteration {}: upper {upper} below optimum {best}",
            it.iteration
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

    /// Robust siting on random instances, with sites, suppliers and routes as targets and k = 1
    /// or 2, equals the enumeration of every plan (first-stage cost by hand plus its worst loss
    /// over every loss set, from the evaluation LPs); on every iteration lower <= upper, and both
    /// bracket the enumerated optimum.
    #[test]
    fn robust_siting_with_routes_equals_enumeration(
        seed in any::<u64>(),
        k in 1u32..=2,
        kinds in prop::sample::select(vec![
            vec!["sites"], vec!["routes"], vec!["suppliers", "routes"],
            vec!["sites", "suppliers", "routes"],
        ]),
    ) {
        let (net, costs) = random_robust_instance(seed);
        let kinds = targets(&kinds);
        let elements = stockade::interdiction::candidate_elements(&net, &kinds).expect("present");
        let mut best = f64::INFINITY;
        let plans: u32 = costs.iter().map(|c| c.2 + 1).product();
        for code in 0..plans {
            let (mut plan, mut first, mut rest) = (Plan::default(), 0.0, code);
            for (i, &(open, module, max)) in costs.iter().enumerate() {
                let modules = rest % (max + 1);
                rest /= max + 1;
                plan.sites.insert(
                    format!("p{i}"),
                    SiteDecision { open: modules > 0, modules, hardening: None },
                );
                if modules > 0 {
                    first += open + module * f64::from(modules);
                }
            }
            best = best.min(first + worst_over(&net, &plan, k as usize, &elements, 1.0));
        }
        let robust = solve_robust(
            &net,
            &losses(k, &kinds, 1.0),
            &Settings::default(),
            &SolveControl::default(),
            &|_| {},
        )
        .expect("robust");
        let tol = 1e-6 * best.max(1.0);
        bracket(&robust.iterations, best, tol)?;
        prop_assert_eq!(robust.status, Status::Optimal, "message {:?}", robust.message);
        // Optimal within the gap the loop proves: its stopping tolerance (1e-6) or, when it
        // stops on a repeated attack, the master's MIP gap plus the attack's open bound.
        let gap = robust.gap.expect("present");
        prop_assert!(gap <= 1e-5, "optimal with a gap of {}", gap);
        let within = gap * best + tol;
        let upper = robust.upper_bound.expect("present");
        prop_assert!((upper - best).abs() <= within, "robust {} vs enumeration {}", upper, best);
        let achieved = robust.first_stage_cost.expect("present")
            + robust.worst_case.as_ref().expect("present").cost;
        prop_assert!((achieved - best).abs() <= within, "the plan achieves it: {}", achieved);
    }

    /// Fortification of a random plan with routes among the targets (protect at most one
    /// element, k = 1 or 2) equals enumeration of every protection set; lower <= upper on every
    /// iteration.
    #[test]
    fn fortification_with_routes_equals_enumeration(seed in any::<u64>(), k in 1u32..=2) {
        let (net, costs) = random_robust_instance(seed);
        let mut plan = Plan::default();
        for (i, c) in costs.iter().enumerate() {
            plan.sites.insert(
                format!("p{i}"),
                SiteDecision { open: true, modules: c.2, hardening: None },
            );
        }
        let kinds = targets(&["sites", "suppliers", "routes"]);
        let elements = stockade::interdiction::candidate_elements(&net, &kinds).expect("present");
        let mut best = f64::INFINITY;
        for protect in subsets(&(0..elements.len()).collect::<Vec<_>>(), 1) {
            let open: Vec<Element> = (0..elements.len())
                .filter(|i| !protect.contains(i))
                .map(|i| elements[i])
                .collect();
            best = best.min(worst_over(&net, &plan, k as usize, &open, 1.0));
        }
        let result = fortify(
            &net,
            &plan,
            &losses(k, &kinds, 1.0),
            ProtectionLimit::Count(1),
            &Settings::default(),
            &SolveControl::default(),
            &|_| {},
        )
        .expect("fortify");
        let tol = 1e-6 * best.max(1.0);
        bracket(&result.iterations, best, tol)?;
        prop_assert_eq!(result.status, Status::Optimal, "message {:?}", result.message);
        let upper = result.upper_bound.expect("present");
        prop_assert!((upper - best).abs() <= tol, "fortify {} vs enumeration {}", upper, best);
    }
}
