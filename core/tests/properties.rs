//! Properties of the siting MIP on small random models (a few suppliers, sites and demands, one
//! disruption scenario). Each is a consequence of the mathematics, not of what the code printed:
//!
//! 1. A model that validation accepts solves, or ends with an honest non-optimal status
//!    (infeasible, ...); `solve` never returns an error from inside for it.
//! 2. The objective is linear in the cost data: multiplying every cost (supplier, processing,
//!    opening, module, route, holding and shortfall penalty) by k > 0 multiplies every plan's cost
//!    by k, so the optimum by k and the optimal plan stays optimal.
//! 3. Adding capacity enlarges the feasible set (every plan of the smaller model is a plan of the
//!    larger one at the same cost), so the optimal cost never rises.
//! 4. Adding a policy constraint (a budget, a cap on open sites) shrinks the feasible set, so the
//!    optimal cost never falls (or the model becomes infeasible).
//!
//! The MIP gap is set to 1e-9 so "optimal" is optimal to that tolerance; comparisons allow
//! 1e-6 relative. 32 cases per property: about 2 s in a debug build.

use proptest::prelude::*;
use serde_json::{json, Value};
use stockade::{Settings, Status};

/// Raw data of a small random model.
#[derive(Debug, Clone)]
struct Small {
    suppliers: Vec<(f64, f64)>,       // capacity, unit cost
    sites: Vec<(f64, u32, f64, f64)>, // module capacity, max modules, open cost, unit cost
    demands: Vec<(f64, f64)>,         // demand, shortfall penalty
    route_costs: Vec<f64>,            // one per route, cycled
    disruption: (f64, f64),           // probability, availability of supplier 0
    depot: Option<(f64, f64, f64)>,   // capacity, open cost, holding cost
}

fn small() -> impl Strategy<Value = Small> {
    (
        prop::collection::vec((10.0f64..200.0, 1.0f64..50.0), 1..3),
        prop::collection::vec(
            (10.0f64..120.0, 1u32..3, 0.0f64..2000.0, 1.0f64..30.0),
            1..4,
        ),
        prop::collection::vec((5.0f64..150.0, 100.0f64..1000.0), 1..4),
        prop::collection::vec(0.0f64..20.0, 1..8),
        (0.05f64..0.5, 0.0f64..0.9),
        prop::option::of((10.0f64..200.0, 0.0f64..500.0, 0.5f64..20.0)),
    )
        .prop_map(
            |(suppliers, sites, demands, route_costs, disruption, depot)| Small {
                suppliers,
                sites,
                demands,
                route_costs,
                disruption,
                depot,
            },
        )
}

/// The model JSON, every cost multiplied by `k`.
fn model_json(s: &Small, k: f64) -> Value {
    let suppliers: Vec<Value> = s
        .suppliers
        .iter()
        .enumerate()
        .map(|(i, &(cap, cost))| {
            json!({"id": format!("s{i}"), "country": "AA", "material": "ore",
                   "capacity": cap, "unit_cost": cost * k})
        })
        .collect();
    let sites: Vec<Value> = s
        .sites
        .iter()
        .enumerate()
        .map(|(i, &(mc, max, open, unit))| {
            json!({"id": format!("p{i}"), "country": if i % 2 == 0 { "AA" } else { "BB" },
                   "input": "ore", "output": "ox", "yield": 0.9, "module_capacity": mc,
                   "existing_modules": 0, "max_modules": max, "open_cost": open * k,
                   "module_cost": open * 0.5 * k, "unit_cost": unit * k})
        })
        .collect();
    let demand: Vec<Value> = s
        .demands
        .iter()
        .enumerate()
        .map(|(i, &(d, pen))| {
            json!({"id": format!("d{i}"), "country": "BB", "material": "ox", "demand": d,
                   "shortfall_penalty": pen * k})
        })
        .collect();
    let mut routes = Vec::new();
    let mut cost = s.route_costs.iter().cycle();
    let mut next = || *cost.next().expect("non-empty") * k;
    for i in 0..s.suppliers.len() {
        for j in 0..s.sites.len() {
            routes
                .push(json!({"from": format!("s{i}"), "to": format!("p{j}"), "unit_cost": next()}));
        }
    }
    for j in 0..s.sites.len() {
        for d in 0..s.demands.len() {
            routes
                .push(json!({"from": format!("p{j}"), "to": format!("d{d}"), "unit_cost": next()}));
        }
    }
    let mut depots = Vec::new();
    if let Some((cap, open, hold)) = s.depot {
        depots.push(json!({"id": "depot", "country": "BB", "capacity": cap,
                           "open_cost": open * k, "holding_cost": hold * k}));
        for d in 0..s.demands.len() {
            routes.push(json!({"from": "depot", "to": format!("d{d}"), "unit_cost": next()}));
        }
    }
    json!({
        "name": "property",
        "materials": [{"id": "ore", "unit_price": 0}, {"id": "ox", "unit_price": 0}],
        "countries": [{"code": "AA", "trusted": true}, {"code": "BB", "trusted": true}],
        "suppliers": suppliers,
        "sites": sites,
        "depots": depots,
        "demand": demand,
        "routes": routes,
        "scenarios": [{"id": "cut", "probability": s.disruption.0,
                       "availability": {"s0": s.disruption.1}}]
    })
}

fn settings() -> Settings {
    Settings {
        mip_gap: 1e-9,
        threads: Some(1),
        time_limit_s: Some(30.0),
        ..Settings::default()
    }
}

/// Status and objective of a model that must pass validation.
fn solve(model: &Value) -> (Status, Option<f64>) {
    let model = stockade::parse_model(&model.to_string()).expect("the generator writes valid JSON");
    let problems = stockade::validate(&model);
    assert!(problems.is_empty(), "generated model refused: {problems:?}");
    let result = stockade::solve(model, &settings())
        .unwrap_or_else(|e| panic!("a validated model gave an error instead of a status: {e}"));
    if result.status == Status::Optimal {
        let z = result
            .objective
            .expect("an optimal result has an objective");
        assert!(z.is_finite() && z >= -1e-9, "objective {z}");
    }
    (result.status, result.objective)
}

fn optimal(model: &Value) -> f64 {
    match solve(model) {
        (Status::Optimal, Some(z)) => z,
        other => panic!(
            "expected optimal (shortfall penalties make every model feasible), got {other:?}"
        ),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Property 1, with random policies that may make the model infeasible: a status, never an
    /// error. Without policies, shortfall penalties make every model feasible, hence optimal.
    #[test]
    fn validated_models_solve_or_say_why(s in small(), budget in prop::option::of(0.0f64..3000.0),
                                         max_open in prop::option::of(0u32..3),
                                         site_share in prop::option::of(0.2f64..1.0)) {
        let mut model = model_json(&s, 1.0);
        let mut policies = serde_json::Map::new();
        if let Some(b) = budget { policies.insert("budget".into(), json!(b)); }
        if let Some(m) = max_open { policies.insert("open_sites".into(), json!({"max": m})); }
        if let Some(x) = site_share { policies.insert("site_share".into(), json!(x)); }
        let constrained = !policies.is_empty();
        model["policies"] = Value::Object(policies);
        let (status, objective) = solve(&model);
        prop_assert!(matches!(status, Status::Optimal | Status::Infeasible),
                     "status {status:?} on a model of a few nodes");
        if !constrained {
            prop_assert_eq!(status, Status::Optimal);
        }
        if status == Status::Infeasible {
            prop_assert!(objective.is_none(), "an infeasible result claims objective {objective:?}");
        }
    }

    /// Property 2: costs by k, objective by k.
    #[test]
    fn scaling_costs_scales_the_objective(s in small(), k in prop::sample::select(vec![0.01, 0.5, 3.0, 1000.0])) {
        let base = optimal(&model_json(&s, 1.0));
        let scaled = optimal(&model_json(&s, k));
        prop_assert!(close(scaled, k * base), "k = {k}: {scaled} vs {k} x {base} = {}", k * base);
    }

    /// Property 3: more supplier capacity, a larger module or more modules never cost more.
    #[test]
    fn adding_capacity_never_raises_the_cost(s in small(), which in 0usize..3, extra in 1.0f64..100.0) {
        let base = optimal(&model_json(&s, 1.0));
        let mut bigger = s.clone();
        match which {
            0 => bigger.suppliers[0].0 += extra,
            1 => bigger.sites[0].0 += extra,
            _ => bigger.sites[0].1 += 1,
        }
        let more = optimal(&model_json(&bigger, 1.0));
        prop_assert!(more <= base + 1e-6 * base.abs().max(1.0), "{more} > {base} after adding capacity");
    }

    /// Property 4: a budget or a cap on open sites never lowers the cost.
    #[test]
    fn adding_a_policy_never_lowers_the_cost(s in small(), budget in 0.0f64..3000.0, max_open in 0u32..3,
                                             which in 0usize..2) {
        let model = model_json(&s, 1.0);
        let base = optimal(&model);
        let mut constrained = model.clone();
        constrained["policies"] = if which == 0 { json!({"budget": budget}) } else { json!({"open_sites": {"max": max_open}}) };
        match solve(&constrained) {
            (Status::Optimal, Some(z)) => prop_assert!(z >= base - 1e-6 * base.abs().max(1.0),
                                                       "{z} < {base} after adding a policy"),
            (Status::Infeasible, _) => {}
            other => prop_assert!(false, "unexpected {other:?}"),
        }
    }
}
