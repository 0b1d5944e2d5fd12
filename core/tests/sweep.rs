//! Sweeps and the cost-resilience frontier against independent oracles: every variant solved
//! alone (the model changed through the Rust structs, not the sweep's JSON paths), and brute-force
//! enumeration of every plan of a three-site instance with a hand-written second stage.

use serde_json::{json, Value};
use stockade::frontier::{frontier, FrontierSettings, Resilience};
use stockade::model::Model;
use stockade::sweep::{sweep, Parameter, SweepSettings};
use stockade::{Settings, Status};

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
        "countries": [{"code": "X"}, {"code": "Y"}],
        "sites": [
            {"id": "a", "country": "X", "output": "m", "module_capacity": 100.0, "max_modules": 1, "open_cost": 300.0},
            {"id": "b", "country": "Y", "output": "m", "module_capacity": 60.0, "max_modules": 1, "open_cost": 100.0},
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
const UNIT: [f64; 3] = [1.0, 3.0, 2.0];
/// (probability, availability of a, b, c)
const SCENARIOS: [(f64, [f64; 3]); 4] = [
    (0.6, [1.0, 1.0, 1.0]),
    (0.25, [0.0, 1.0, 1.0]),
    (0.1, [0.0, 0.0, 1.0]),
    (0.05, [1.0, 1.0, 0.5]),
];

/// Second stage by hand: fill 100 t from the cheapest open capacity; what is left is short at
/// 20/t. The penalty exceeds every unit cost, so this is also the least shortfall of the plan.
/// Returns (cost, shortfall).
fn greedy(open: [bool; 3], avail: [f64; 3]) -> (f64, f64) {
    let mut order = [0usize, 1, 2];
    order.sort_by(|x, y| UNIT[*x].total_cmp(&UNIT[*y]));
    let mut left = 100.0f64;
    let mut cost = 0.0;
    for i in order {
        if open[i] {
            let take = left.min(CAP[i] * avail[i]);
            cost += take * UNIT[i];
            left -= take;
        }
    }
    (cost + 20.0 * left, left)
}

/// CVaR_beta of (probability, loss), written apart from the library: the mean of the worst
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

/// Every plan of the tiny instance: (open, expected cost, expected shortfall, CVaR_0.9 of
/// shortfall), with site b's open cost `open_b`.
fn plans(open_b: f64) -> Vec<([bool; 3], f64, f64, f64)> {
    let open_cost = [300.0, open_b, 200.0];
    (0..8u32)
        .map(|mask| {
            let open = [mask & 1 != 0, mask & 2 != 0, mask & 4 != 0];
            let first: f64 = (0..3).filter(|i| open[*i]).map(|i| open_cost[i]).sum();
            let outs: Vec<(f64, f64, f64)> = SCENARIOS
                .iter()
                .map(|(p, a)| {
                    let (c, s) = greedy(open, *a);
                    (*p, c, s)
                })
                .collect();
            let cost = first + outs.iter().map(|(p, c, _)| p * c).sum::<f64>();
            let es = outs.iter().map(|(p, _, s)| p * s).sum::<f64>();
            let cv = tail_mean(outs.iter().map(|(p, _, s)| (*p, *s)).collect(), 0.9);
            (open, cost, es, cv)
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

fn quiet() -> &'static (dyn Fn(usize, usize) + Sync) {
    &|_, _| {}
}

#[test]
fn sweep_of_an_open_cost_matches_enumeration() {
    // Site b's open cost from 0 to 400: the optimum is the cheapest of the 8 plans at each value.
    let parameters = [Parameter::parse("sites[b].open_cost=0:400:50").expect("parameter")];
    for warm_start in [false, true] {
        let settings = SweepSettings {
            workers: Some(2),
            warm_start,
            ..SweepSettings::default()
        };
        let report = sweep(&tiny(), &parameters, &settings, None, quiet()).expect("sweep");
        assert_eq!(report.variants.len(), 9);
        for v in &report.variants {
            let open_b = v.values["sites[b].open_cost"];
            let best = plans(open_b)
                .iter()
                .map(|p| p.1)
                .fold(f64::INFINITY, f64::min);
            assert_eq!(v.status, Status::Optimal);
            let got = v.objective.expect("objective");
            assert!(close(got, best), "open_b {open_b}: {got} vs {best}");
            let k = v.kpis.as_ref().expect("kpis");
            // The KPI agrees with the brute-force shortfall of the plan the sweep chose.
            let plan = v.plan.as_ref().expect("plan");
            let open = ["a", "b", "c"].map(|s| plan.sites[s].open);
            let es = plans(open_b)
                .iter()
                .find(|p| p.0 == open)
                .map(|p| p.2)
                .expect("plan");
            assert!(close(k.expected_shortfall_t, es));
        }
    }
}

#[test]
fn sweep_equals_each_variant_solved_alone() {
    // A 4 x 2 grid on the real rare-earths model: the largest country share and the JOGMEC depot
    // capacity. Each variant is also built by changing the Rust model directly and solved alone.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models/rare-earths.json"
    ))
    .expect("model");
    let base: Value = serde_json::from_str(&text).expect("json");
    let parameters = [
        Parameter::parse("policies.country_share.cap=0.45,0.4,0.3,0.25").expect("p"),
        Parameter::parse("depots[jp_jogmec].capacity=0,2000").expect("p"),
    ];
    let report = sweep(
        &base,
        &parameters,
        &SweepSettings {
            workers: Some(2),
            ..SweepSettings::default()
        },
        None,
        quiet(),
    )
    .expect("sweep");
    assert_eq!(report.variants.len(), 8);
    let mut statuses = Vec::new();
    for v in &report.variants {
        let mut model: Model = stockade::parse_model(&text).expect("model");
        let cap = v.values["policies.country_share.cap"];
        let depot = v.values["depots[jp_jogmec].capacity"];
        model.policies.country_share.as_mut().expect("cap").cap = cap;
        model
            .depots
            .iter_mut()
            .find(|d| d.id == "jp_jogmec")
            .expect("depot")
            .capacity = depot;
        let alone = stockade::solve(model, &Settings::default()).expect("solve");
        assert_eq!(v.status, alone.status, "cap {cap} depot {depot}");
        match (v.objective, alone.objective) {
            (Some(a), Some(b)) => assert!(close(a, b), "cap {cap} depot {depot}: {a} vs {b}"),
            (None, None) => {}
            other => panic!("cap {cap} depot {depot}: {other:?}"),
        }
        if let Some(k) = &v.kpis {
            assert!(k.largest_country_share <= cap + 1e-6);
        }
        statuses.push(v.status);
    }
    // The grid reaches past what the model allows: a 25 % cap cannot hold.
    assert!(statuses.contains(&Status::Optimal) && statuses.contains(&Status::Infeasible));
}

#[test]
fn bad_paths_and_values_name_the_path() {
    let bad = |arg: &str| {
        let p = Parameter::parse(arg).expect("parses");
        let err =
            sweep(&tiny(), &[p], &SweepSettings::default(), None, quiet()).expect_err("bad input");
        match err {
            stockade::StockadeError::Input(e) => e.problems[0].clone(),
            other => panic!("{other}"),
        }
    };
    let p = bad("sites[zz].open_cost=1");
    assert_eq!(p.path, "sites[zz].open_cost");
    assert!(p.message.contains("ids: a, b, c"), "{}", p.message);
    let p = bad("sites[a].module_capacity=-5");
    assert!(p.path.contains("module_capacity"), "{p}");
    assert!(p.message.contains("sites[a].module_capacity = -5"), "{p}");
    let p = bad("sites[a].country=1");
    assert!(p.message.contains("a string"), "{p}");
    assert!(Parameter::parse("sites[a].open_cost").is_err());
    assert!(Parameter::parse("sites[a].open_cost=1:2:0").is_err());
}

/// Least cost among the 8 plans whose measure is within `level`.
fn least_cost_within(level: f64, measure: impl Fn(&([bool; 3], f64, f64, f64)) -> f64) -> f64 {
    plans(100.0)
        .iter()
        .filter(|p| measure(p) <= level + 1e-6)
        .map(|p| p.1)
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn frontier_points_are_optimal_for_their_level_and_monotone() {
    let model: Model = serde_json::from_value(tiny()).expect("model");
    for (resilience, measure) in [
        (
            Resilience::ExpectedShortfall,
            (|p: &([bool; 3], f64, f64, f64)| p.2) as fn(&([bool; 3], f64, f64, f64)) -> f64,
        ),
        (Resilience::CvarShortfall, |p| p.3),
    ] {
        let settings = FrontierSettings {
            resilience,
            points: 6,
            beta: 0.9,
            sweep: SweepSettings {
                workers: Some(2),
                ..SweepSettings::default()
            },
        };
        let report = frontier(&model, &settings, None, quiet()).expect("frontier");
        // Ends by enumeration: the cost-optimal plan's level and the least level of any plan.
        let all = plans(100.0);
        let cheapest = all.iter().min_by(|x, y| x.1.total_cmp(&y.1)).expect("plan");
        let least = all.iter().map(&measure).fold(f64::INFINITY, f64::min);
        assert!(close(
            report.cost_optimal_level.expect("high"),
            measure(cheapest)
        ));
        assert!(close(report.best_level.expect("low"), least));
        let mut last = f64::NEG_INFINITY;
        for p in &report.points {
            assert_eq!(p.status, Status::Optimal, "{resilience:?} {}", p.level);
            let cost = p.cost.expect("cost");
            let oracle = least_cost_within(p.level, measure);
            assert!(
                close(cost, oracle),
                "{resilience:?} level {}: {cost} vs {oracle}",
                p.level
            );
            assert!(p.resilience.expect("achieved") <= p.level + 1e-6);
            assert!(cost >= last - 1e-6, "cost falls as the level tightens");
            last = cost;
        }
        // Re-solving each level on its own, from scratch, gives the same cost.
        for p in &report.points {
            let mut m = model.clone();
            m.risk = Some(stockade::model::Risk {
                measure: if resilience == Resilience::CvarShortfall {
                    stockade::model::RiskMeasure::Cvar
                } else {
                    stockade::model::RiskMeasure::Expectation
                },
                on: stockade::model::RiskOn::Shortfall,
                beta: 0.9,
                weight: 0.0,
                limit: Some(p.level + 1e-6),
            });
            let alone = stockade::solve(m, &Settings::default()).expect("solve");
            assert!(close(alone.objective.expect("obj"), p.cost.expect("cost")));
        }
        // A non-dominated knee strictly inside the frontier, when there is one.
        if let Some(k) = report.knee {
            assert!(!report.points[k].dominated);
            assert!(k > 0 && k + 1 < report.points.len());
        }
        // Non-dominated points are those no other point beats on both axes.
        for (i, p) in report.points.iter().enumerate() {
            let beaten = report.points.iter().enumerate().any(|(j, q)| {
                j != i
                    && q.cost.expect("c") <= p.cost.expect("c") + 1e-6
                    && q.resilience.expect("r") <= p.resilience.expect("r") + 1e-6
                    && (q.cost.expect("c") < p.cost.expect("c") - 1e-6
                        || q.resilience.expect("r") < p.resilience.expect("r") - 1e-6
                        || j < i)
            });
            assert_eq!(p.dominated, beaten, "{resilience:?} point {i}");
        }
    }
}

#[test]
fn nk_frontier_matches_the_hand_count() {
    // Surviving any one site loss with all 100 t met: {a, c} loses a and keeps 80, {a, b} keeps 60,
    // {b, c} keeps 60; only all three sites (keeping at least 140) survive. No plan survives two
    // losses (a and b lost leaves 80).
    let model: Model = serde_json::from_value(tiny()).expect("model");
    let settings = FrontierSettings {
        resilience: Resilience::Nk,
        points: 3,
        ..FrontierSettings::default()
    };
    let report = frontier(&model, &settings, None, quiet()).expect("frontier");
    let all = plans(100.0);
    let cheapest = all.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let all_open = all
        .iter()
        .find(|p| p.0 == [true, true, true])
        .expect("plan")
        .1;
    assert!(close(report.points[0].cost.expect("k=0"), cheapest));
    assert!(close(report.points[1].cost.expect("k=1"), all_open));
    assert_eq!(report.points[2].status, Status::Infeasible);
    assert_eq!(report.best_level, Some(1.0));
    assert!(!report.points[0].dominated && !report.points[1].dominated);
}

#[test]
fn frontier_refuses_a_model_with_its_own_risk() {
    let mut v = tiny();
    v["risk"] = json!({"measure": "cvar", "weight": 1.0});
    let model: Model = serde_json::from_value(v).expect("model");
    let err = frontier(&model, &FrontierSettings::default(), None, quiet()).expect_err("risk");
    assert!(err.to_string().contains("risk"));
}

#[test]
fn saa_from_replications_in_any_order_equals_saa() {
    // The split the Ray backend relies on: replications solved apart (here in reverse order)
    // and combined give exactly the report of the one-call procedure.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models/rare-earths.json"
    ))
    .expect("model");
    let net = stockade::Network::new(stockade::parse_model(&text).expect("model")).expect("net");
    let design = stockade::saa::SaaDesign {
        replications: 3,
        sample: 8,
        evaluation_sample: 60,
        seed: 11,
    };
    let settings = Settings::default();
    let whole = stockade::saa::saa(&net, design, &settings).expect("saa");
    let mut parts: Vec<_> = (0..3)
        .rev()
        .map(|r| stockade::saa::saa_replication(&net, &design, r, &settings).expect("rep"))
        .collect();
    let combined = stockade::saa::saa_from_replications(&net, design, &parts).expect("combined");
    assert_eq!(whole, combined);
    parts.pop();
    let err = stockade::saa::saa_from_replications(&net, design, &parts).expect_err("missing");
    assert!(err.to_string().contains("replications"), "{err}");
}

#[test]
fn share_from_coalition_values_solved_apart_equals_share() {
    // The split the Ray backend relies on: coalition values solved one by one (in reverse order)
    // and combined give the report of the one-call analysis; the Shapley value is the one
    // hand-computed in core/tests/share.rs (725, 1650, 1825).
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/three-allies.json"
    ))
    .expect("fixture");
    let net = stockade::Network::new(stockade::parse_model(&text).expect("model")).expect("net");
    let settings = stockade::share::ShareSettings::default();
    let whole = stockade::share::share(&net, &settings, &|_, _| {}).expect("share");
    let masks = stockade::share::coalitions_needed(&net, &settings).expect("masks");
    assert_eq!(masks.len(), 7);
    let mut solved: Vec<_> = masks
        .iter()
        .rev()
        .map(|&s| {
            let v = stockade::share::coalition_value(&net, s, &settings.solver).expect("value");
            (s, v)
        })
        .collect();
    let mut combined =
        stockade::share::share_from_values(&net, &settings, solved.clone(), &|_, _| {})
            .expect("combined");
    // Equal but for the clocks.
    combined.runtime_s = whole.runtime_s;
    combined.joint.result.runtime_s = whole.joint.result.runtime_s;
    combined.joint.result.build_s = whole.joint.result.build_s;
    assert_eq!(combined, whole);
    let shapley = whole
        .allocations
        .iter()
        .find(|a| a.rule == stockade::share::Rule::Shapley)
        .expect("shapley");
    for (got, want) in shapley.cost.iter().zip([725.0, 1650.0, 1825.0]) {
        assert!(close(*got, want), "{:?}", shapley.cost);
    }
    solved.pop();
    let err = stockade::share::share_from_values(&net, &settings, solved, &|_, _| {})
        .expect_err("a coalition missing");
    assert!(err.to_string().contains("coalition"), "{err}");
}
