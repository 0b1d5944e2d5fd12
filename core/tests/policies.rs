//! A tiny fixture and one-change variants, one per policy constraint, each optimum worked out by
//! hand in the comment above the test.
//!
//! Fixture: one material; demand d1 = 100 t/yr (hard: no shortfall allowed) in country A.
//! Three candidate sites, 1 module of 100 t/yr each, no input:
//!
//! | site | country (trusted) | open cost | route cost to d1 per t | lat, lon |
//! |------|-------------------|-----------|------------------------|----------|
//! | s1   | B (no)            | 10        | 1                      | 0, 0     |
//! | s2   | A (yes)           | 50        | 2                      | 0, 1     |
//! | s3   | C (yes)           | 80        | 3                      | 0, 10    |
//!
//! Without policies the optimum opens s1 alone: 10 + 100 x 1 = 110.

use serde_json::{json, Value};
use stockade::{Model, Settings, SolveResult, Status};

fn fixture() -> Value {
    json!({
        "name": "fixture",
        "materials": [{"id": "ndpr", "unit_price": 2.0}],
        "countries": [
            {"code": "A", "trusted": true},
            {"code": "B", "trusted": false},
            {"code": "C", "trusted": true}
        ],
        "sites": [
            {"id": "s1", "country": "B", "lat": 0.0, "lon": 0.0, "output": "ndpr", "module_capacity": 100.0, "max_modules": 1, "open_cost": 10.0},
            {"id": "s2", "country": "A", "lat": 0.0, "lon": 1.0, "output": "ndpr", "module_capacity": 100.0, "max_modules": 1, "open_cost": 50.0},
            {"id": "s3", "country": "C", "lat": 0.0, "lon": 10.0, "output": "ndpr", "module_capacity": 100.0, "max_modules": 1, "open_cost": 80.0}
        ],
        "demand": [{"id": "d1", "country": "A", "material": "ndpr", "demand": 100.0}],
        "routes": [
            {"from": "s1", "to": "d1", "unit_cost": 1.0},
            {"from": "s2", "to": "d1", "unit_cost": 2.0},
            {"from": "s3", "to": "d1", "unit_cost": 3.0}
        ]
    })
}

fn solve(model: Value) -> SolveResult {
    let model: Model = serde_json::from_value(model).expect("fixture parses");
    stockade::solve(model, &Settings::default()).expect("solve")
}

fn with_policies(policies: Value) -> Value {
    let mut m = fixture();
    m["policies"] = policies;
    m
}

fn assert_optimal(r: &SolveResult, expected: f64) {
    assert_eq!(r.status, Status::Optimal);
    let obj = r.objective.expect("objective");
    assert!(
        (obj - expected).abs() < 1e-6,
        "objective {obj}, expected {expected}"
    );
    // Invariant: demand met in full.
    let delivered: f64 = r.flows.iter().map(|f| f.base).sum();
    assert!((delivered - 100.0).abs() < 1e-6);
}

fn open_sites(r: &SolveResult) -> Vec<&str> {
    r.sites
        .iter()
        .filter(|s| s.open)
        .map(|s| s.id.as_str())
        .collect()
}

#[test]
fn no_policy_opens_the_cheapest_site() {
    let r = solve(fixture());
    assert_optimal(&r, 110.0);
    assert_eq!(open_sites(&r), ["s1"]);
    assert!(r.policies.is_empty());
}

/// site share <= 60%: one site alone holds 100%, so two must open; the cheapest pair is s1 + s2
/// (10 + 50), and all 100 t still flow from s1 (capacity, not flow, is shared): 60 + 100 = 160.
#[test]
fn site_share() {
    let r = solve(with_policies(json!({"site_share": 0.6})));
    assert_optimal(&r, 160.0);
    assert_eq!(open_sites(&r), ["s1", "s2"]);
    let p: Vec<_> = r
        .policies
        .iter()
        .filter(|p| p.family == "site_share")
        .collect();
    assert_eq!(p.len(), 3);
    let s1 = p.iter().find(|p| p.subject == "s1").expect("s1 row");
    assert!((s1.value - 0.5).abs() < 1e-9 && (s1.slack - 0.1).abs() < 1e-9);
}

/// country share of B <= 30% (others uncapped): with every site open B still holds 1/3 > 30%,
/// so s1 must stay closed; the cheapest plan is s2 alone: 50 + 100 x 2 = 250.
#[test]
fn country_share() {
    let r = solve(with_policies(
        json!({"country_share": {"cap": 1.0, "by_country": {"B": 0.3}}}),
    ));
    assert_optimal(&r, 250.0);
    assert_eq!(open_sites(&r), ["s2"]);
    let b = r
        .policies
        .iter()
        .find(|p| p.family == "country_share" && p.subject == "B")
        .expect("B row");
    assert_eq!(b.value, 0.0);
    assert!((b.slack - 0.3).abs() < 1e-9);
}

/// trusted capacity >= 50% of demand (50 t): s1 alone has none; s1 + s2 (60) with all flow from
/// s1 costs 160, below s2 alone (250).
#[test]
fn trusted_share() {
    let r = solve(with_policies(json!({"trusted_share": 0.5})));
    assert_optimal(&r, 160.0);
    let t = r
        .policies
        .iter()
        .find(|p| p.family == "trusted_share")
        .expect("row");
    // trusted capacity 100 t against demand 100 t: value 1.0, slack 0.5.
    assert!((t.value - 1.0).abs() < 1e-9 && (t.slack - 0.5).abs() < 1e-9);
}

/// Exactly 3 open sites: 10 + 50 + 80 + 100 x 1 = 240. Exactly 2: s1 + s2 = 160.
#[test]
fn open_sites_exactly_p() {
    let r = solve(with_policies(json!({"open_sites": {"min": 3, "max": 3}})));
    assert_optimal(&r, 240.0);
    let r = solve(with_policies(json!({"open_sites": {"min": 2, "max": 2}})));
    assert_optimal(&r, 160.0);
    assert!(r.policies.iter().all(|p| p.binding));
}

/// Open sites in at least 3 countries: every site, 240.
#[test]
fn min_countries() {
    let r = solve(with_policies(json!({"min_countries": 3})));
    assert_optimal(&r, 240.0);
}

/// Two sites open, none closer than 500 km: s1-s2 are 111 km apart (1 degree of longitude at the
/// equator), so the pair is s1 + s3 (10 + 80 + 100 = 190), not s1 + s2 (160).
#[test]
fn min_separation() {
    let r = solve(with_policies(
        json!({"open_sites": {"min": 2}, "min_separation_km": 500.0}),
    ));
    assert_optimal(&r, 190.0);
    assert_eq!(open_sites(&r), ["s1", "s3"]);
    let sep = r
        .policies
        .iter()
        .find(|p| p.family == "min_separation_km")
        .expect("row");
    // s1 (0,0) to s3 (0,10): 10 degrees of a great circle of radius 6371 km = 1111.95 km.
    assert!((sep.value - 1111.949).abs() < 0.01, "{}", sep.value);
}

/// Trusted capacity >= 100% of demand: s1 + s2 would cost 160 (investment 60). With the budget
/// capped at 55, only s2 alone fits: 250.
#[test]
fn budget() {
    let r = solve(with_policies(json!({"trusted_share": 1.0})));
    assert_optimal(&r, 160.0);
    let r = solve(with_policies(json!({"trusted_share": 1.0, "budget": 55.0})));
    assert_optimal(&r, 250.0);
    let b = r
        .policies
        .iter()
        .find(|p| p.family == "budget")
        .expect("row");
    assert!((b.value - 50.0).abs() < 1e-9 && (b.slack - 5.0).abs() < 1e-9);
}

/// Single sourcing. Sites s1 (capacity 150, open 10, 1/t) and s2 (capacity 150, open 50, 2/t);
/// demands d1 = d2 = 100. Split: both open, s1 full (150 t) and s2 50 t: 60 + 150 + 100 = 310.
/// Single-source: s1 cannot take both (200 > 150), so one each: 60 + 100 + 200 = 360.
#[test]
fn single_source() {
    let mut m = fixture();
    m["sites"] = json!([
        {"id": "s1", "country": "B", "output": "ndpr", "module_capacity": 150.0, "max_modules": 1, "open_cost": 10.0},
        {"id": "s2", "country": "A", "output": "ndpr", "module_capacity": 150.0, "max_modules": 1, "open_cost": 50.0}
    ]);
    m["demand"] = json!([
        {"id": "d1", "country": "A", "material": "ndpr", "demand": 100.0},
        {"id": "d2", "country": "A", "material": "ndpr", "demand": 100.0}
    ]);
    m["routes"] = json!([
        {"from": "s1", "to": "d1", "unit_cost": 1.0}, {"from": "s2", "to": "d1", "unit_cost": 2.0},
        {"from": "s1", "to": "d2", "unit_cost": 1.0}, {"from": "s2", "to": "d2", "unit_cost": 2.0}
    ]);
    let r = solve(m.clone());
    assert!((r.objective.expect("obj") - 310.0).abs() < 1e-6);
    m["demand"][0]["single_source"] = json!(true);
    m["demand"][1]["single_source"] = json!(true);
    let r = solve(m);
    assert!((r.objective.expect("obj") - 360.0).abs() < 1e-6);
    assert_eq!(r.assignments.len(), 2);
    assert_ne!(r.assignments["d1"], r.assignments["d2"]);
}

fn two_site_with_outage() -> Value {
    let mut m = fixture();
    m["sites"] = json!([m["sites"][0], m["sites"][1]]);
    m["routes"] = json!([m["routes"][0], m["routes"][1]]);
    m["demand"][0]["shortfall_penalty"] = json!(10.0);
    m["scenarios"] = json!([{"id": "s1_down", "probability": 0.5, "availability": {"s1": 0.0}}]);
    m
}

/// Scenarios: s1 is lost with probability 0.5; shortfall costs 10/t.
/// s1 alone: 10 + 0.5 x 100 + 0.5 x 1000 = 560; s2 alone: 50 + 200 = 250;
/// s1 + s2: 60 + 0.5 x 100 + 0.5 x 200 = 210 (the optimum).
#[test]
fn scenarios_and_shortfall() {
    let r = solve(two_site_with_outage());
    assert_eq!(r.status, Status::Optimal);
    assert!((r.objective.expect("obj") - 210.0).abs() < 1e-6);
    assert_eq!(r.scenarios.len(), 2);
    assert_eq!(r.scenarios[0].id, "base");
    assert!((r.scenarios[0].probability - 0.5).abs() < 1e-12);
}

/// A depot (capacity 200, holding 0.2/t-yr) can cover the outage: stock k t costs 0.2k, and each
/// released tonne its replacement price 2. With s1 alone:
/// 10 + 0.2k + 0.5 x 100 + 0.5 x (2k + 10 (100 - k)) = 560 - 3.8k, least at k = 100: 180 < 210.
#[test]
fn stockpile_covers_outage() {
    let mut m = two_site_with_outage();
    m["depots"] = json!([{"id": "depot", "country": "A", "capacity": 200.0, "holding_cost": 0.2}]);
    m["routes"]
        .as_array_mut()
        .expect("routes")
        .push(json!({"from": "depot", "to": "d1"}));
    let r = solve(m);
    assert!(
        (r.objective.expect("obj") - 180.0).abs() < 1e-6,
        "{:?}",
        r.objective
    );
    assert!((r.depots[0].stock["ndpr"] - 100.0).abs() < 1e-6);
    assert_eq!(open_sites(&r), ["s1"]);
}

/// Yield: ore (1/t) into a separation site with yield 0.5 (2/t of output, open 10), demand 50 t
/// of oxide: 100 t of ore. 10 + 100 x 1 + 50 x 2 = 210.
#[test]
fn yields_convert_input_to_output() {
    let m = json!({
        "materials": [{"id": "ore"}, {"id": "oxide"}],
        "countries": [{"code": "A"}],
        "suppliers": [{"id": "mine", "country": "A", "material": "ore", "capacity": 1000.0, "unit_cost": 1.0}],
        "sites": [{"id": "sep", "country": "A", "input": "ore", "output": "oxide", "yield": 0.5,
                   "module_capacity": 100.0, "max_modules": 1, "open_cost": 10.0, "unit_cost": 2.0}],
        "demand": [{"id": "d", "country": "A", "material": "oxide", "demand": 50.0}],
        "routes": [{"from": "mine", "to": "sep"}, {"from": "sep", "to": "d"}]
    });
    let r = solve(m);
    assert!((r.objective.expect("obj") - 210.0).abs() < 1e-6);
    let ore = r.flows.iter().find(|f| f.from == "mine").expect("ore flow");
    assert!((ore.base - 100.0).abs() < 1e-6);
}

/// Diagnosis. CN has an existing site of 100 t/yr (it stays open); US can add at most 2 modules of
/// 100. CN's share is at least 100 / 300 = 33.3%, so a 20% cap on CN cannot hold.
#[test]
fn infeasible_policy_is_diagnosed() {
    let m = json!({
        "materials": [{"id": "ndpr"}],
        "countries": [{"code": "CN"}, {"code": "US", "trusted": true}],
        "sites": [
            {"id": "cn", "country": "CN", "output": "ndpr", "module_capacity": 100.0, "existing_modules": 1, "max_modules": 1},
            {"id": "us", "country": "US", "output": "ndpr", "module_capacity": 100.0, "max_modules": 2, "open_cost": 5.0, "module_cost": 1.0}
        ],
        "demand": [{"id": "d", "country": "US", "material": "ndpr", "demand": 100.0}],
        "routes": [{"from": "cn", "to": "d"}, {"from": "us", "to": "d"}],
        "policies": {"country_share": {"cap": 1.0, "by_country": {"CN": 0.2}}}
    });
    let r = solve(m);
    assert_eq!(r.status, Status::Infeasible);
    let d = r.diagnosis.expect("diagnosis");
    let cn = d
        .violations
        .iter()
        .find(|v| v.subject == "CN")
        .expect("CN named");
    assert_eq!(cn.family, "country_share");
    assert!(
        (cn.least_achievable - 1.0 / 3.0).abs() < 1e-9,
        "{}",
        cn.least_achievable
    );
    assert!(
        cn.message.contains("20.0%") && cn.message.contains("33.3%"),
        "{}",
        cn.message
    );
    assert!(!d.violations.iter().any(|v| v.subject == "US"));
}

/// Hard demand that capacity cannot meet: 150 t wanted, 100 t possible.
#[test]
fn infeasible_demand_is_diagnosed() {
    let mut m = fixture();
    m["sites"] = json!([m["sites"][0]]);
    m["routes"] = json!([m["routes"][0]]);
    m["demand"][0]["demand"] = json!(150.0);
    let r = solve(m);
    assert_eq!(r.status, Status::Infeasible);
    let d = r.diagnosis.expect("diagnosis");
    assert_eq!(d.violations.len(), 1);
    assert_eq!(d.violations[0].family, "demand");
    assert!((d.violations[0].least_achievable - 100.0).abs() < 1e-6);
}
