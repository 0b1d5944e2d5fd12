//! Joint stockpiles and cost sharing on a three-party instance worked out by hand, coalition
//! models written out independently, validation of party definitions, and pooled <= national.
//!
//! The fixture (tests/fixtures/three-allies.json): one material; a market that always supplies
//! at cost 0 except in a crisis (probability 0.1) when it supplies nothing; shortfall costs 1000
//! per t, so 100 per t in expectation -- more than any holding cost, so every coalition stocks
//! its whole demand. Release and transport cost nothing. Depots (open cost F, holding h per t,
//! capacity K): A (1000, 5, 250), B (600, 8, 1000), C (300, 20, 1000). Demand: A 100, B 200,
//! C 150. A coalition pays F for each depot it opens plus h per t stocked:
//!
//! - v(A)   = 1000 + 5 x 100 = 1500 (its own depot is all it has)
//! - v(B)   = 600 + 8 x 200 = 2200
//! - v(C)   = 300 + 20 x 150 = 3300 (stocking beats 100 x 150 = 15000 of expected penalty)
//! - v(AB)  = 300 t: depot B alone 600 + 2400 = 3000; A alone cannot hold 300 (250 + 50 short:
//!   7250); both 1600 + 1250 + 400 = 3250. So 3000.
//! - v(AC)  = 250 t: depot A alone 1000 + 1250 = 2250; C alone 300 + 5000; both 2550. So 2250.
//! - v(BC)  = 350 t: depot B alone 600 + 2800 = 3400; C alone 7300; both 3700. So 3400.
//! - v(ABC) = 450 t: B alone 600 + 3600 = 4200; A+B 1600 + 1250 + 1600 = 4450; B+C 4500; C alone
//!   9300; all three 4750; A alone too small. So 4200.
//!
//! Cooperation gain: 1500 + 2200 + 3300 - 4200 = 2800.
//!
//! Shapley (weights 1/3 for |S| = 0 or 2, 1/6 for |S| = 1):
//! - A: 1500/3 + (3000-2200)/6 + (2250-3300)/6 + (4200-3400)/3 = 500 + 133.33 - 175 + 266.67 = 725
//! - B: 2200/3 + (3000-1500)/6 + (3400-3300)/6 + (4200-2250)/3 = 733.33 + 250 + 16.67 + 650 = 1650
//! - C: 3300/3 + (2250-1500)/6 + (3400-2200)/6 + (4200-3000)/3 = 1100 + 125 + 200 + 400 = 1825
//!
//! Core: the pairs give x_C >= 4200 - 3000 = 1200, x_B >= 4200 - 2250 = 1950,
//! x_A >= 4200 - 3400 = 800 (sum 3950 <= 4200: non-empty). Shapley gives A 725 < 800: {B, C}
//! pays 1650 + 1825 = 3475 > 3400, and {A, C} worse, 725 + 1825 = 2550 > 2250 (by 300, the
//! largest excess; {A, B} pays 2375 < 3000): the Shapley value is outside the core. Writing
//! x = (800 + a, 1950 + b, 1200 + c) with a + b + c = 250, the pair surpluses are a (BC), b (AC),
//! c (AB) and the singletons' 700 - a, 250 - b, 2100 - c: the smallest surplus is largest at
//! a = b = c = 250/3, so the least-core surplus is 83.33 and the nucleolus is
//! (883.33, 2033.33, 1283.33).

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{json, Value};
use stockade::share::{coalition_model, share, Rule, ShareReport, ShareSettings};
use stockade::{Model, Network, Settings, Status};

fn fixture() -> Value {
    let text = include_str!("fixtures/three-allies.json");
    serde_json::from_str(text).expect("fixture is JSON")
}

fn model(v: &Value) -> Model {
    stockade::parse_model(&v.to_string()).expect("model parses")
}

fn run(v: &Value, rule: Rule) -> ShareReport {
    let net = Network::new(model(v)).expect("valid");
    let settings = ShareSettings {
        rule,
        workers: Some(2),
        ..ShareSettings::default()
    };
    share(&net, &settings, &|_, _| {}).expect("share runs")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

fn assert_costs(got: &[f64], want: &[f64]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(close(*g, *w), "party {i}: got {g}, want {w} ({got:?})");
    }
}

fn allocation(r: &ShareReport, rule: Rule) -> &stockade::share::Allocation {
    r.allocations
        .iter()
        .find(|a| a.rule == rule)
        .expect("rule computed")
}

#[test]
fn three_allies_match_the_hand_computation() {
    let r = run(&fixture(), Rule::Shapley);
    let want = [
        (0b001, 1500.0),
        (0b010, 2200.0),
        (0b100, 3300.0),
        (0b011, 3000.0),
        (0b101, 2250.0),
        (0b110, 3400.0),
        (0b111, 4200.0),
    ];
    assert_eq!(r.coalitions.len(), 7);
    for (mask, v) in want {
        let c = r.coalitions.iter().find(|c| c.mask == mask).unwrap();
        assert_eq!(c.status, Status::Optimal);
        assert!(
            close(c.cost.unwrap(), v),
            "v({:?}) = {:?}",
            c.coalition,
            c.cost
        );
    }
    assert!(close(r.joint.cost.unwrap(), 4200.0));
    assert!(close(r.cooperation_gain.unwrap(), 2800.0));
    // The joint plan holds all 450 t at depot B.
    let b = &r.joint.stock[0];
    assert_eq!((b.depot.as_str(), b.party.as_str()), ("depot-B", "B"));
    assert!(close(b.stock["ndpr"], 450.0), "{:?}", r.joint.stock);
    assert_eq!(r.joint.stock.len(), 1);
    // In the crisis (p = 0.1) A draws 100 t and C 150 t from B's depot: 10 and 15 t/yr expected.
    let drawn: f64 = r
        .joint
        .releases
        .iter()
        .filter(|x| x.from == "B")
        .map(|x| x.expected_t)
        .sum();
    assert!(close(drawn, 25.0), "{:?}", r.joint.releases);

    let shapley = allocation(&r, Rule::Shapley);
    assert_costs(&shapley.cost, &[725.0, 1650.0, 1825.0]);
    assert_eq!(shapley.in_core, Some(false));
    let obj = shapley.objection.as_ref().unwrap();
    assert_eq!(obj.coalition, vec!["A".to_string(), "C".to_string()]);
    assert!(close(obj.charged, 2550.0) && close(obj.alone, 2250.0));

    let core = r.core.as_ref().unwrap();
    assert!(core.nonempty);
    assert!(close(core.least_core_surplus, 250.0 / 3.0));
    let nu = allocation(&r, Rule::Nucleolus);
    assert_costs(
        &nu.cost,
        &[
            800.0 + 250.0 / 3.0,
            1950.0 + 250.0 / 3.0,
            1200.0 + 250.0 / 3.0,
        ],
    );
    assert_eq!(nu.in_core, Some(true));
    assert_eq!(r.nucleolus_over_imputations, Some(true));
    // Proportional to demand 100 : 200 : 150 of 4200.
    assert_costs(
        &allocation(&r, Rule::Proportional).cost,
        &[
            4200.0 * 100.0 / 450.0,
            4200.0 * 200.0 / 450.0,
            4200.0 * 150.0 / 450.0,
        ],
    );
    // Without new stock every party is short of all its demand in the crisis; the joint plan
    // avoids all of it, so `avoided` divides like demand here.
    assert_costs(
        &allocation(&r, Rule::Avoided).cost,
        &allocation(&r, Rule::Proportional).cost,
    );
    // Headline: Shapley, and each party's savings against standing alone.
    let a = &r.parties[0];
    assert!(close(a.stand_alone.unwrap(), 1500.0) && close(a.savings.unwrap(), 775.0));
    // National: each party on its own depot, 7000 in all.
    let other = r.other_sharing.as_ref().unwrap();
    assert!(close(other.cost.unwrap(), 7000.0));
}

/// Under `national`, the joint plan is the three stand-alone plans side by side (7000); an
/// allowance lets A draw on B's depot:
/// - max_tonnes 100: A's whole demand sits at B (8 x 100 = 800 instead of A's 1500): 6300;
/// - max_fraction 0.5: A may draw a <= 0.5 x (200 + a), so up to 200 t: again 6300;
/// - max_fraction 0.25: a <= 66.7 t; A's remaining 33.3 t would still need A's depot (1000 +
///   167 + 533 > 1500), and raising B's stock to 400 t to free 100 t costs 1600 > 1500: 7000.
#[test]
fn national_agreement_and_allowances() {
    let mut v = fixture();
    v["agreement"] = json!({"sharing": "national"});
    let joint = |v: &Value| {
        let net = Network::new(model(v)).unwrap();
        let (r, _) = stockade::share::solve_joint(
            &net,
            &Settings::default(),
            &stockade::SolveControl::default(),
        )
        .unwrap();
        r.objective.unwrap()
    };
    assert!(close(joint(&v), 7000.0));
    v["agreement"]["allowances"] = json!([{"from": "B", "to": "A", "max_tonnes": 100}]);
    assert!(close(joint(&v), 6300.0));
    v["agreement"]["allowances"] = json!([{"from": "B", "to": "A", "max_fraction": 0.5}]);
    assert!(close(joint(&v), 6300.0));
    v["agreement"]["allowances"] = json!([{"from": "B", "to": "A", "max_fraction": 0.25}]);
    assert!(close(joint(&v), 7000.0));
    // Under `pooled` an allowance caps the pair: B's depot may give A at most 40 t. Options:
    // B alone, A 60 t short: 600 + 8 x 390 + 100 x 60 = 9720; B and C, A's other 60 t at C:
    // 900 + 8 x 390 + 20 x 60 = 5220; A and B, A's depot full (it is the cheaper one to hold
    // in) and serving A: 1600 + 5 x 250 + 8 x 200 = 4450; all three 4750. So 4450.
    v["agreement"] =
        json!({"sharing": "pooled", "allowances": [{"from": "B", "to": "A", "max_tonnes": 40}]});
    assert!(close(joint(&v), 4450.0), "{}", joint(&v));
}

/// The fairness bound: with a shortfall penalty of 150 per t (15 in expectation) stocking at
/// C's depot (20 per t) does not pay, so C alone (no sharing) is short of all 150 t in the crisis:
/// expected shortfall fraction 0.1 at cost 0.1 x 150 x 150 = 2250. A bound of 0.05 makes it stock
/// s >= 75 t: 300 + 20 x 75 + 0.1 x 75 x 150 = 2925. Min-max alone: the smallest largest
/// fraction is 0 (stock all 150 t), then the cheapest such plan: 300 + 3000 = 3300.
#[test]
fn fairness_bound_and_min_max() {
    let mut v = fixture();
    let demand = v["demand"].as_array_mut().unwrap();
    demand.retain(|d| d["id"] == "need-C");
    demand[0]["shortfall_penalty"] = json!(150);
    v["depots"]
        .as_array_mut()
        .unwrap()
        .retain(|d| d["id"] == "depot-C");
    v["routes"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["to"] == "need-C" && (r["from"] == "market" || r["from"] == "depot-C"));
    let joint = |v: &Value| {
        let net = Network::new(model(v)).unwrap();
        stockade::share::solve_joint(&net, &Settings::default(), &Default::default()).unwrap()
    };
    let (r, level) = joint(&v);
    assert!(close(r.objective.unwrap(), 2250.0) && level.is_none());
    v["agreement"]["fairness"] = json!({"max_shortfall_fraction": 0.05});
    assert!(close(joint(&v).0.objective.unwrap(), 2925.0));
    v["agreement"]["fairness"] = json!({"min_max": true});
    let (r, level) = joint(&v);
    assert!(close(level.unwrap(), 0.0));
    assert!(close(r.objective.unwrap(), 3300.0), "{:?}", r.objective);
}

/// Every coalition value equals solving, with the plain siting solve, that coalition's model
/// written out here by the rule the module documents (drop the other parties' depots, demand and
/// their routes; scale the shared market's capacity by the coalition's share of demand).
#[test]
fn every_coalition_value_equals_its_own_model_solved_separately() {
    let base = fixture();
    let r = run(&base, Rule::Proportional);
    let demand = [("A", 100.0), ("B", 200.0), ("C", 150.0)];
    for c in &r.coalitions {
        let keep: Vec<&str> = c.coalition.iter().map(String::as_str).collect();
        let mut v = base.clone();
        let ours: f64 = demand
            .iter()
            .filter(|(p, _)| keep.contains(p))
            .map(|(_, d)| d)
            .sum();
        let kept = |id: &str| owner(id).is_none_or(|p| keep.contains(&p));
        for list in ["depots", "demand"] {
            v[list]
                .as_array_mut()
                .unwrap()
                .retain(|n| kept(n["id"].as_str().unwrap()));
        }
        v["routes"]
            .as_array_mut()
            .unwrap()
            .retain(|r| kept(r["from"].as_str().unwrap()) && kept(r["to"].as_str().unwrap()));
        v["suppliers"][0]["capacity"] = json!(1_000_000.0 * ours / 450.0);
        let alone = stockade::solve(model(&v), &Settings::default()).unwrap();
        assert_eq!(alone.status, Status::Optimal);
        assert!(
            close(alone.objective.unwrap(), c.cost.unwrap()),
            "{:?}: {:?} vs {:?}",
            c.coalition,
            alone.objective,
            c.cost
        );
        // And the library's own coalition model is that model.
        let net = Network::new(model(&base)).unwrap();
        let lib = coalition_model(&net, c.mask);
        assert_eq!(lib.depots.len(), v["depots"].as_array().unwrap().len());
        assert_eq!(lib.routes.len(), v["routes"].as_array().unwrap().len());
    }
}

/// The party owning a node of the fixture: `depot-X` and `need-X` belong to X.
fn owner(id: &str) -> Option<&str> {
    id.strip_prefix("depot-")
        .or_else(|| id.strip_prefix("need-"))
}

/// A party that can only be served through depots, and has none of its own: alone it is short
/// of its whole demand in every scenario, v({A}) = 100 t x 1000 = 100,000 (its model has no
/// route to its demand, which stand-alone analysis must accept). Jointly B's depot serves it, in
/// the base scenario too (release is free here): v(N) is still 4200 (450 t at B).
#[test]
fn a_party_unreachable_alone_pays_its_whole_shortfall() {
    let mut v = fixture();
    v["depots"]
        .as_array_mut()
        .unwrap()
        .retain(|d| d["id"] != "depot-A");
    v["routes"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["from"] != "depot-A" && !(r["from"] == "market" && r["to"] == "need-A"));
    let r = run(&v, Rule::Shapley);
    let alone = r.coalitions.iter().find(|c| c.mask == 1).unwrap();
    assert!(close(alone.cost.unwrap(), 100_000.0), "{alone:?}");
    assert!(close(r.joint.cost.unwrap(), 4200.0));
    assert!(close(r.parties[0].shortfall_alone.unwrap(), 1.0));
}

/// A time limit no solve can meet: every status says so, the divisions that need missing values
/// are left out with a note, and nothing panics.
#[test]
fn a_time_limit_is_reported_not_hidden() {
    let net = Network::new(model(&fixture())).unwrap();
    let settings = ShareSettings {
        solver: Settings {
            time_limit_s: Some(0.0),
            ..Settings::default()
        },
        workers: Some(1),
        ..ShareSettings::default()
    };
    let r = share(&net, &settings, &|_, _| {}).unwrap();
    assert_eq!(r.joint.status, Status::TimeLimit);
    assert!(r.joint.cost.is_none() && r.cooperation_gain.is_none());
    assert!(r.core.is_none());
    assert!(r.allocations.is_empty());
    assert!(r.coalitions.iter().all(|c| c.status == Status::TimeLimit));
    assert!(
        r.notes
            .iter()
            .any(|n| n.starts_with("no value for 7 coalition(s)")),
        "{:?}",
        r.notes
    );
    assert!(r.parties.iter().all(|p| p.shortfall_joint.is_none()));
    let text = stockade::report::render_share(&r);
    assert!(text.contains("1. THE JOINT PLAN (time_limit)"), "{text}");
}

fn problems(v: &Value) -> Vec<String> {
    stockade::validate(&model(v))
        .into_iter()
        .map(|p| p.to_string())
        .collect()
}

#[test]
fn bad_party_definitions_get_clear_messages() {
    let mut v = fixture();
    v["depots"][1]["party"] = json!("Z");
    v["parties"][2]["countries"] = json!(["CC", "AA"]);
    v["agreement"]["allowances"] = json!([
        {"from": "A", "to": "Q", "max_fraction": 1.5},
        {"from": "B", "to": "C"},
        {"from": "C", "to": "C", "max_tonnes": -1}
    ]);
    v["countries"][3]["party"] = json!("NOPE");
    let p = problems(&v);
    let has = |s: &str| p.iter().any(|x| x.contains(s));
    assert!(
        has("depots[1].party (depot-B): unknown party `Z`"),
        "{p:#?}"
    );
    assert!(
        has("parties[2].countries[1] (C): country `AA` is already claimed by party `A`"),
        "{p:#?}"
    );
    assert!(
        has("agreement.allowances[0].to (A->Q): unknown party `Q`"),
        "{p:#?}"
    );
    assert!(
        has("agreement.allowances[0].max_fraction (A->Q): must be within [0, 1], got 1.5"),
        "{p:#?}"
    );
    assert!(has(
        "agreement.allowances[1] (B->C): give max_tonnes, max_fraction or both"
    ));
    assert!(has("agreement.allowances[2].to (C->C)"));
    assert!(has(
        "agreement.allowances[2].max_tonnes (C->C): must be >= 0, got -1"
    ));
    assert!(
        has("countries[3].party (ZZ): unknown party `NOPE`"),
        "{p:#?}"
    );

    // A demand node in no party's country, with no party of its own.
    let mut v = fixture();
    v["demand"][0]["country"] = json!("ZZ");
    let p = problems(&v);
    assert!(
        p.iter()
            .any(|x| x.starts_with("demand[0].party (need-A): belongs to no party")),
        "{p:#?}"
    );
    // Fairness outside [0, 1]; an agreement without parties.
    let mut v = fixture();
    v["agreement"]["fairness"] = json!({"max_shortfall_fraction": -0.1});
    assert!(problems(&v)
        .iter()
        .any(|x| x.starts_with("agreement.fairness.max_shortfall_fraction")));
    let mut v = fixture();
    v.as_object_mut().unwrap().remove("parties");
    assert!(problems(&v)
        .iter()
        .any(|x| x.starts_with("agreement: an agreement needs `parties`")));
    // A misspelt key is refused with its path.
    let mut v = fixture();
    v["agreement"]["shareing"] = json!("pooled");
    let err = stockade::parse_model(&v.to_string()).unwrap_err();
    assert!(err.to_string().contains("agreement"), "{err}");
}

/// A small random allied instance: 2 or 3 parties, each with a depot and a demand node; a
/// market with random capacity; two disruption scenarios.
fn random_instance(
    parties: usize,
    demand: Vec<f64>,
    holding: Vec<f64>,
    open: Vec<f64>,
    market: f64,
    p: (f64, f64),
) -> Value {
    let ids = ["A", "B", "C"];
    let mut v = json!({
        "materials": [{"id": "m", "unit_price": 3}],
        "countries": [{"code": "ZZ"}],
        "parties": [], "depots": [], "demand": [],
        "suppliers": [{"id": "market", "country": "ZZ", "material": "m", "capacity": market, "unit_cost": 1}],
        "routes": [],
        "scenarios": [
            {"id": "cut", "probability": p.0, "availability": {"market": 0}},
            {"id": "squeeze", "probability": p.1, "availability": {"market": 0.3}}
        ]
    });
    for (i, id) in ids.iter().enumerate().take(parties) {
        let c = format!("C{id}");
        v["countries"]
            .as_array_mut()
            .unwrap()
            .push(json!({"code": c}));
        v["parties"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": id, "countries": [c]}));
        v["depots"].as_array_mut().unwrap().push(json!({
            "id": format!("d{id}"), "country": c, "capacity": 500,
            "open_cost": open[i], "holding_cost": holding[i]
        }));
        v["demand"].as_array_mut().unwrap().push(json!({
            "id": format!("n{id}"), "country": c, "material": "m",
            "demand": demand[i], "shortfall_penalty": 400
        }));
        v["routes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"from": "market", "to": format!("n{id}"), "unit_cost": 1}));
    }
    for a in ids.iter().take(parties) {
        for b in ids.iter().take(parties) {
            v["routes"].as_array_mut().unwrap().push(json!({
                "from": format!("d{a}"), "to": format!("n{b}"),
                "unit_cost": if a == b { 0.5 } else { 2.0 }
            }));
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, .. ProptestConfig::default() })]

    /// Pooled never costs more than national on the same instance: national only forbids
    /// releases that pooled allows. And the Shapley value always divides the joint cost.
    #[test]
    fn pooled_never_costs_more_than_national(
        parties in 2usize..=3,
        demand in proptest::collection::vec(10.0f64..200.0, 3),
        holding in proptest::collection::vec(1.0f64..60.0, 3),
        open in proptest::collection::vec(0.0f64..3000.0, 3),
        market in 50.0f64..600.0,
        p in (0.01f64..0.3, 0.01f64..0.3),
    ) {
        let mut v = random_instance(parties, demand, holding, open, market, p);
        let cost = |v: &Value| {
            let net = Network::new(model(v)).unwrap();
            let (r, _) = stockade::share::solve_joint(&net, &Settings::default(), &Default::default()).unwrap();
            prop_assert_eq!(r.status, Status::Optimal);
            Ok(r.objective.unwrap())
        };
        v["agreement"] = json!({"sharing": "pooled"});
        let pooled = cost(&v)?;
        v["agreement"] = json!({"sharing": "national"});
        let national = cost(&v)?;
        prop_assert!(pooled <= national + 1e-6 * national.abs().max(1.0), "pooled {} > national {}", pooled, national);
    }

    /// With the market shared in proportion to demand, two disjoint coalitions' plans together
    /// are a plan for their union, so v is subadditive: v(S u T) <= v(S) + v(T). Checked over
    /// every disjoint pair, on pooled instances.
    #[test]
    fn coalition_values_are_subadditive(
        demand in proptest::collection::vec(10.0f64..200.0, 3),
        holding in proptest::collection::vec(1.0f64..60.0, 3),
        open in proptest::collection::vec(0.0f64..3000.0, 3),
        market in 50.0f64..600.0,
        p in (0.01f64..0.3, 0.01f64..0.3),
    ) {
        let v = random_instance(3, demand, holding, open, market, p);
        let r = run(&v, Rule::Shapley);
        let value = |s: u64| r.coalitions.iter().find(|c| c.mask == s).and_then(|c| c.cost).unwrap_or(0.0);
        for s in 1u64..8 {
            for t in 1u64..8 {
                if s & t == 0 {
                    let (a, b, u) = (value(s), value(t), value(s | t));
                    prop_assert!(u <= a + b + 1e-6 * (a + b).abs().max(1.0), "v({:b}) = {} > v({:b}) + v({:b}) = {}", s | t, u, s, t, a + b);
                }
            }
        }
        let total: f64 = r.allocations.iter().find(|a| a.rule == Rule::Shapley).unwrap().cost.iter().sum();
        prop_assert!((total - r.joint.cost.unwrap()).abs() <= 1e-6 * total.abs().max(1.0));
    }
}
