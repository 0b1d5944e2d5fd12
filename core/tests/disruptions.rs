//! Disruptions and risk against independent oracles: brute-force enumeration of every plan with a
//! hand-written second stage (greedy fill, exact for one demand node), binomial bands for the
//! sampler, cold re-solves for the warm-started evaluation, an exactly solvable true problem for
//! SAA.

use serde_json::{json, Value};
use stockade::evaluate::solve_cold;
use stockade::model::Model;
use stockade::scenario::ScenarioSet;
use stockade::{EvaluationSettings, Network, Plan, Settings, SolveControl, Status};

/// Three candidate sites (1 module each) serving one demand node of 100 t (penalty 20/t):
///
/// | site | capacity | open cost | unit cost (route) |
/// |------|----------|-----------|-------------------|
/// | a    | 100      | 300       | 1                 |
/// | b    | 60       | 100       | 3                 |
/// | c    | 80       | 200       | 2                 |
///
/// Scenarios: base 0.6, `a_down` 0.25 (a lost), `ab_down` 0.1 (a and b lost), `c_half` 0.05
/// (c at 50 %).
fn tiny() -> Value {
    json!({
        "materials": [{"id": "m"}],
        "countries": [{"code": "X"}],
        "sites": [
            {"id": "a", "country": "X", "output": "m", "module_capacity": 100.0, "max_modules": 1, "open_cost": 300.0},
            {"id": "b", "country": "X", "output": "m", "module_capacity": 60.0, "max_modules": 1, "open_cost": 100.0},
            {"id": "c", "country": "X", "output": "m", "module_capacity": 80.0, "max_modules": 1, "open_cost": 200.0}
        ],
        "demand": [{"id": "d", "country": "X", "material": "m", "demand": 100.0, "shortfall_penalty": 20.0}],
        "routes": [
            {"from": "a", "to": "d", "unit_cost": 1.0},
            {"from": "b", "to": "d", "unit_cost": 3.0},
            {"from": "c", "to": "d", "unit_cost": 2.0}
        ],
        "scenarios": [
            {"id": "a_down", "probability": 0.25, "availability": {"a": 0.0}},
            {"id": "ab_down", "probability": 0.1, "availability": {"a": 0.0, "b": 0.0}},
            {"id": "c_half", "probability": 0.05, "availability": {"c": 0.5}}
        ]
    })
}

const CAP: [f64; 3] = [100.0, 60.0, 80.0];
const OPEN: [f64; 3] = [300.0, 100.0, 200.0];
const UNIT: [f64; 3] = [1.0, 3.0, 2.0];
/// (probability, availability of a, b, c)
const SCENARIOS: [(f64, [f64; 3]); 4] = [
    (0.6, [1.0, 1.0, 1.0]),
    (0.25, [0.0, 1.0, 1.0]),
    (0.1, [0.0, 0.0, 1.0]),
    (0.05, [1.0, 1.0, 0.5]),
];

/// Second stage by hand: fill 100 t from the cheapest open capacity; what is left is short at 20/t.
/// Returns (cost, shortfall).
fn greedy(open: [bool; 3], avail: [f64; 3]) -> (f64, f64) {
    let mut order = [0usize, 1, 2];
    order.sort_by(|x, y| UNIT[*x].total_cmp(&UNIT[*y]));
    let mut left = 100.0f64;
    let mut cost = 0.0;
    for i in order {
        if open[i] && UNIT[i] < 20.0 {
            let take = left.min(CAP[i] * avail[i]);
            cost += take * UNIT[i];
            left -= take;
        }
    }
    (cost + 20.0 * left, left)
}

/// CVaR_beta of (probability, loss), written independently of the library: the mean of the worst
/// (1 - beta) probability mass.
fn tail_mean(mut outcomes: Vec<(f64, f64)>, beta: f64) -> f64 {
    outcomes.sort_by(|x, y| y.1.total_cmp(&x.1));
    let mut mass = 1.0 - beta;
    let total = mass;
    let mut sum = 0.0;
    for (p, l) in outcomes {
        let t = p.min(mass);
        sum += t * l;
        mass -= t;
    }
    sum / total
}

/// Best objective over all 8 plans for a given risk functional of (first stage, outcomes).
fn brute_force(objective: impl Fn(f64, Vec<(f64, f64, f64)>) -> f64) -> f64 {
    let mut best = f64::INFINITY;
    for mask in 0..8u32 {
        let open = [mask & 1 != 0, mask & 2 != 0, mask & 4 != 0];
        let first: f64 = (0..3).filter(|i| open[*i]).map(|i| OPEN[i]).sum();
        let outcomes = SCENARIOS
            .iter()
            .map(|(p, a)| {
                let (cost, short) = greedy(open, *a);
                (*p, cost, short)
            })
            .collect();
        best = best.min(objective(first, outcomes));
    }
    best
}

fn solve(model: Value) -> stockade::SolveResult {
    let model: Model = serde_json::from_value(model).expect("model");
    stockade::solve(model, &Settings::default()).expect("solve")
}

#[test]
fn expectation_matches_enumeration() {
    let expected =
        brute_force(|first, outs| first + outs.iter().map(|(p, c, _)| p * c).sum::<f64>());
    let r = solve(tiny());
    assert_eq!(r.status, Status::Optimal);
    assert!(
        (r.objective.expect("obj") - expected).abs() < 1e-6,
        "{:?} vs {expected}",
        r.objective
    );
}

#[test]
fn cvar_of_cost_matches_enumeration() {
    for (beta, weight) in [(0.8, 1.0), (0.9, 0.5), (0.5, 2.0)] {
        let expected = brute_force(|first, outs| {
            let mean: f64 = outs.iter().map(|(p, c, _)| p * c).sum();
            let tail = tail_mean(outs.iter().map(|(p, c, _)| (*p, *c)).collect(), beta);
            first + mean + weight * tail
        });
        let mut m = tiny();
        m["risk"] = json!({"measure": "cvar", "on": "cost", "beta": beta, "weight": weight});
        let r = solve(m);
        let obj = r.objective.expect("obj");
        assert!(
            (obj - expected).abs() < 1e-6,
            "beta {beta}: {obj} vs {expected}"
        );
        // The reported CVaR is recomputed from the scenario outcomes.
        let risk = r.risk.expect("risk report");
        let mean: f64 = r
            .scenarios
            .iter()
            .map(|s| s.probability * (s.operating_cost + s.shortfall_penalty))
            .sum();
        let first = r.costs.as_ref().map(|c| c.investment).expect("costs");
        assert!((first + mean + weight * risk.value - obj).abs() < 1e-6);
    }
}

#[test]
fn worst_case_and_cvar_of_shortfall_match_enumeration() {
    let expected = brute_force(|first, outs| {
        let mean: f64 = outs.iter().map(|(p, c, _)| p * c).sum();
        let worst = outs.iter().map(|(_, c, _)| *c).fold(f64::MIN, f64::max);
        first + mean + 0.3 * worst
    });
    let mut m = tiny();
    m["risk"] = json!({"measure": "worst_case", "weight": 0.3});
    assert!((solve(m).objective.expect("obj") - expected).abs() < 1e-6);

    let expected = brute_force(|first, outs| {
        let mean: f64 = outs.iter().map(|(p, c, _)| p * c).sum();
        let tail = tail_mean(outs.iter().map(|(p, _, s)| (*p, *s)).collect(), 0.9);
        first + mean + 5.0 * tail
    });
    let mut m = tiny();
    m["risk"] = json!({"measure": "cvar", "on": "shortfall", "beta": 0.9, "weight": 5.0});
    assert!((solve(m).objective.expect("obj") - expected).abs() < 1e-6);
}

/// CVaR as a constraint: among plans whose CVaR_0.9 of shortfall is at most 30 t, the cheapest
/// in expectation.
#[test]
fn cvar_limit_matches_enumeration() {
    let expected = brute_force(|first, outs| {
        let tail = tail_mean(outs.iter().map(|(p, _, s)| (*p, *s)).collect(), 0.9);
        if tail > 30.0 + 1e-9 {
            return f64::INFINITY;
        }
        first + outs.iter().map(|(p, c, _)| p * c).sum::<f64>()
    });
    let mut m = tiny();
    m["risk"] =
        json!({"measure": "cvar", "on": "shortfall", "beta": 0.9, "weight": 0.0, "limit": 30.0});
    let r = solve(m);
    assert!(
        (r.objective.expect("obj") - expected).abs() < 1e-6,
        "{:?} vs {expected}",
        r.objective
    );
}

/// N-1 over sites with every tonne protected: any single site may fail and 100 t must still be
/// met. By hand: a+b (160 without a: b 60 < 100, fails), a+c (without a: c 80 < 100, fails),
/// b+c (without b: 80 fails)... so every pair fails and all three must open: 600 + expected
/// second stage. Enumeration and constraint generation agree with the brute force.
#[test]
fn n_minus_k_generation_equals_enumeration() {
    let all_open_cost = 600.0
        + SCENARIOS
            .iter()
            .map(|(p, a)| p * greedy([true, true, true], *a).0)
            .sum::<f64>();
    for method in ["enumerate", "generate"] {
        let mut m = tiny();
        m["policies"] = json!({"survivability": {"k": 1, "targets": ["sites"], "method": method}});
        let r = solve(m);
        assert!(
            (r.objective.expect("obj") - all_open_cost).abs() < 1e-6,
            "{method}"
        );
        let sv = r.survivability.expect("report");
        assert_eq!(sv.contingencies, 3);
    }
    // A larger case: 10 sites, N-2 at 60 % of demand; generation must give enumeration's cost.
    let mut m = json!({
        "materials": [{"id": "m"}], "countries": [{"code": "X"}],
        "sites": [], "demand": [{"id": "d", "country": "X", "material": "m", "demand": 100.0, "shortfall_penalty": 50.0, "priority": 1}],
        "routes": []
    });
    for i in 0..10 {
        m["sites"].as_array_mut().expect("sites").push(json!({"id": format!("s{i}"), "country": "X", "output": "m",
            "module_capacity": 20.0 + 5.0 * i as f64, "max_modules": 2, "open_cost": 50.0 + 13.0 * ((i * 7) % 10) as f64, "module_cost": 10.0}));
        m["routes"]
            .as_array_mut()
            .expect("routes")
            .push(json!({"from": format!("s{i}"), "to": "d", "unit_cost": 1.0 + i as f64 / 3.0}));
    }
    let mut objs = Vec::new();
    for method in ["enumerate", "generate"] {
        let mut v = m.clone();
        v["policies"] = json!({"survivability": {"k": 2, "fraction": 0.6, "method": method}});
        let r = solve(v);
        assert_eq!(r.status, Status::Optimal);
        let sv = r.survivability.expect("report");
        assert_eq!(sv.contingencies, 10 + 45);
        if method == "generate" {
            assert!(
                sv.in_model < 55,
                "generation should need fewer than all contingencies"
            );
        }
        objs.push(r.objective.expect("obj"));
    }
    assert!((objs[0] - objs[1]).abs() < 1e-6 * objs[0].abs(), "{objs:?}");
}

fn hazard_model() -> Value {
    let mut m = tiny();
    m["scenarios"] = json!([]);
    m["countries"] = json!([{"code": "X"}, {"code": "Y"}]);
    m["sites"][2]["country"] = json!("Y");
    m["sites"][0]["region"] = json!("coast");
    m["sites"][1]["region"] = json!("coast");
    m["hazards"] = json!([
        {"id": "flood", "kind": "natural", "scope": {"type": "region", "region": "coast"}, "probability": 0.1, "availability": 0.0, "duration": 0.5},
        {"id": "hack", "kind": "cyber", "scope": {"type": "node", "id": "c"}, "probability": 0.3, "availability": 0.2, "duration": 1.0},
        {"id": "sanction", "kind": "political", "scope": {"type": "country", "country": "Y"}, "probability": 0.05, "availability": 0.0, "duration": 1.0}
    ]);
    m
}

fn network(v: Value) -> Network {
    Network::new(serde_json::from_value(v).expect("model")).expect("valid")
}

/// Each hazard's sampled frequency lies within 4 standard deviations of its probability; a
/// regional event hits every node of the region at once; the same seed gives the same set.
#[test]
fn sampling_frequencies_correlation_and_reproducibility() {
    let net = network(hazard_model());
    let n = 20_000usize;
    let set = ScenarioSet::sampled(&net, n, 42);
    for (h, p) in [(0usize, 0.1f64), (1, 0.3), (2, 0.05)] {
        let count = set.cases.iter().filter(|c| c.hazards.contains(&h)).count() as f64;
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (count - n as f64 * p).abs() < 4.0 * sd,
            "hazard {h}: {count}"
        );
    }
    for c in &set.cases {
        let flooded = c.hazards.contains(&0);
        // flood: availability 1 - 0.5 (1 - 0) = 0.5 for a and b together
        assert_eq!(c.site[0] < 1.0, flooded);
        assert_eq!(c.site[1] < 1.0, flooded);
        if flooded {
            assert!((c.site[0] - 0.5).abs() < 1e-12 && (c.site[1] - 0.5).abs() < 1e-12);
        }
        if c.hazards.contains(&2) {
            assert_eq!(c.site[2], 0.0, "the sanction takes c entirely");
        } else if c.hazards.contains(&1) {
            assert!((c.site[2] - 0.2).abs() < 1e-12);
        }
    }
    assert_eq!(
        ScenarioSet::sampled(&net, 500, 7),
        ScenarioSet::sampled(&net, 500, 7)
    );
    assert_ne!(
        ScenarioSet::sampled(&net, 500, 7),
        ScenarioSet::sampled(&net, 500, 8)
    );
}

fn plan_of(net: &Network) -> Plan {
    let set = ScenarioSet::explicit(net);
    let r = stockade::solve_siting(net, &set, &Settings::default(), &SolveControl::default())
        .expect("solve");
    r.plan.expect("plan")
}

/// Warm-started evaluation equals building and solving every scenario LP from scratch.
#[test]
fn warm_evaluation_equals_cold() {
    let net = network(hazard_model());
    let plan = plan_of(&net);
    let set = ScenarioSet::sampled(&net, 300, 3);
    let warm = stockade::evaluate(
        &net,
        &plan,
        &set,
        &EvaluationSettings::default(),
        &|_, _| {},
    )
    .expect("warm");
    assert!(warm.failed.is_empty());
    for (case, w) in set.cases.iter().zip(&warm.outcomes) {
        let (cold, ok) = solve_cold(&net, &plan, case).expect("cold");
        assert!(ok, "{} {:?}", case.id, cold);
        assert!(
            (cold.cost - w.cost).abs() <= 1e-7 * cold.cost.abs().max(1.0),
            "{}: {} vs {}",
            case.id,
            cold.cost,
            w.cost
        );
        assert!((cold.shortfall_t - w.shortfall_t).abs() <= 1e-7 * 100.0);
        // And the hand-written second stage agrees too.
        let open = ["a", "b", "c"].map(|id| plan.sites[id].open);
        let (cost, short) = greedy(open, [case.site[0], case.site[1], case.site[2]]);
        assert!((cost - w.cost).abs() < 1e-6 && (short - w.shortfall_t).abs() < 1e-6);
    }
    let cold = stockade::evaluate(
        &net,
        &plan,
        &set,
        &EvaluationSettings {
            warm_start: false,
            threads: Some(1),
        },
        &|_, _| {},
    )
    .expect("cold");
    assert!((cold.expected_cost - warm.expected_cost).abs() < 1e-7 * warm.expected_cost);
}

/// Hardening. Sites a (100 t, open 300, 1/t) and c (80 t, open 200, 2/t); demand 100 t,
/// penalty 20/t; a is flooded (availability 0) with probability 0.5; a levee at a restores 80 %.
/// By hand: c alone 200 + 160 + 400 = 760; a alone 300 + 0.5 x 100 + 0.5 x 2000 = 1350;
/// a + c 500 + 0.5 x 100 + 0.5 x (160 + 400) = 830; a with the levee at cost h:
/// 300 + h + 0.5 x 100 + 0.5 x (80 + 20 x 20) = 590 + h.
/// So h = 200: 760 (c alone); h = 30: 620 (levee); h = 5: 595 (levee).
#[test]
fn hardening_restores_capacity() {
    let mut m = tiny();
    m["sites"] = json!([m["sites"][0], m["sites"][2]]);
    m["routes"] = json!([m["routes"][0], m["routes"][2]]);
    m["hazards"] = json!([{"id": "flood", "kind": "natural", "scope": {"type": "node", "id": "a"}, "probability": 0.5, "availability": 0.0, "duration": 1.0}]);
    m["scenarios"] = json!([{"id": "flooded", "probability": 0.5, "availability": {"a": 0.0}, "hazards": ["flood"]}]);
    m["sites"][0]["hardening"] =
        json!([{"id": "levee", "cost": 30.0, "hazards": ["flood"], "restored": 0.8}]);
    for (cost, expected, levee) in [
        (200.0, 760.0, false),
        (30.0, 620.0, true),
        (5.0, 595.0, true),
    ] {
        m["sites"][0]["hardening"][0]["cost"] = json!(cost);
        let r = solve(m.clone());
        assert!(
            (r.objective.expect("obj") - expected).abs() < 1e-6,
            "h = {cost}: {:?}",
            r.objective
        );
        let plan = r.plan.expect("plan");
        assert_eq!(plan.sites["a"].hardening.is_some(), levee, "h = {cost}");
    }
}

/// SAA on an instance whose true problem can be solved exactly: three independent hazards give
/// 8 joint outcomes with known probabilities; the confidence intervals cover the true optimum.
#[test]
fn saa_intervals_cover_the_true_optimum() {
    let model = hazard_model();
    let net = network(model.clone());
    // The true problem: every combination of the hazards as an explicit scenario.
    let hz: Vec<(f64, &str)> = vec![(0.1, "flood"), (0.3, "hack"), (0.05, "sanction")];
    let mut exact = model.clone();
    let mut scenarios = Vec::new();
    for mask in 0..8u32 {
        let mut p = 1.0;
        let mut avail = [1.0f64; 3];
        for (k, (prob, _)) in hz.iter().enumerate() {
            if mask & (1 << k) != 0 {
                p *= prob;
                match k {
                    0 => {
                        avail[0] = avail[0].min(0.5);
                        avail[1] = avail[1].min(0.5);
                    }
                    1 => avail[2] = avail[2].min(0.2),
                    _ => avail[2] = 0.0,
                }
            } else {
                p *= 1.0 - prob;
            }
        }
        scenarios.push(json!({"id": format!("o{mask}"), "probability": p,
            "availability": {"a": avail[0], "b": avail[1], "c": avail[2]}}));
    }
    exact["scenarios"] = json!(scenarios);
    let truth = solve(exact).objective.expect("true optimum");
    let design = stockade::saa::SaaDesign {
        replications: 10,
        sample: 30,
        evaluation_sample: 2000,
        seed: 11,
    };
    let report = stockade::saa::saa(&net, design, &Settings::default()).expect("saa");
    assert!(
        report.lower_bound.low <= truth + 1e-6,
        "{:?} vs {truth}",
        report.lower_bound
    );
    assert!(
        report.upper_bound.high >= truth - 1e-6,
        "{:?} vs {truth}",
        report.upper_bound
    );
    assert!(report.gap.high >= 0.0);
}

#[test]
fn bad_hazards_name_their_field() {
    let mut m = hazard_model();
    m["hazards"][0]["probability"] = json!(1.5);
    m["hazards"][1]["scope"] = json!({"type": "node", "id": "ghost"});
    m["hazards"][2]["scope"] = json!({"type": "chokepoint", "name": "Hormuz"});
    let problems = stockade::validate(&serde_json::from_value(m).expect("parses"));
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert!(paths.contains(&"hazards[0].probability"), "{problems:?}");
    assert!(paths.contains(&"hazards[1].scope.id"));
    assert!(paths.contains(&"hazards[2].scope.name"));
    let mut m = hazard_model();
    m["hazards"][0]["scope"] = json!({"type": "volcano"});
    let err = stockade::parse_model(&m.to_string()).expect_err("unknown scope type");
    assert!(
        err.problems[0].path.starts_with("hazards[0].scope"),
        "{:?}",
        err.problems
    );
}

/// Raising the cancel flag stops an evaluation between scenarios: what was solved is reported,
/// marked cancelled, with its probabilities rescaled to sum to 1.
#[test]
fn evaluation_stops_when_cancelled() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let net = network(hazard_model());
    let plan = plan_of(&net);
    let set = ScenarioSet::sampled(&net, 400, 9);
    let cancel = AtomicBool::new(false);
    let settings = EvaluationSettings {
        threads: Some(1),
        warm_start: true,
    };
    let stop_after_50 = |done: usize, _: usize| {
        if done >= 50 {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let e = stockade::evaluate_with(&net, &plan, &set, &settings, &stop_after_50, Some(&cancel))
        .expect("evaluate");
    assert!(e.cancelled);
    assert_eq!(e.scenarios, 50);
    let mass: f64 = e.outcomes.iter().map(|o| o.probability).sum();
    assert!((mass - 1.0).abs() < 1e-9);
    let full = stockade::evaluate(&net, &plan, &set, &settings, &|_, _| {}).expect("evaluate");
    assert!(!full.cancelled);
    assert_eq!(full.scenarios, 400);
}
