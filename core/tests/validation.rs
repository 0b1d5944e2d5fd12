//! Bad input: every problem reported at once, each naming its JSON path and entity; nothing
//! panics, whatever the input.

use proptest::prelude::*;
use serde_json::{json, Value};
use stockade::{parse_model, Model, Problem};

fn good() -> Value {
    json!({
        "materials": [{"id": "ore"}, {"id": "oxide"}],
        "countries": [{"code": "A", "trusted": true}, {"code": "B"}],
        "suppliers": [{"id": "mine", "country": "A", "material": "ore", "capacity": 1000.0}],
        "sites": [{"id": "sep", "country": "B", "input": "ore", "output": "oxide", "yield": 0.5,
                   "module_capacity": 100.0, "max_modules": 2, "lat": 1.0, "lon": 2.0}],
        "depots": [{"id": "dep", "country": "A", "capacity": 10.0}],
        "demand": [{"id": "d", "country": "A", "material": "oxide", "demand": 50.0, "shortfall_penalty": 100.0}],
        "routes": [{"from": "mine", "to": "sep", "chokepoints": ["Malacca"]}, {"from": "sep", "to": "d"}, {"from": "dep", "to": "d"}],
        "scenarios": [{"id": "closure", "probability": 0.1, "closed_chokepoints": ["Malacca"]}],
        "policies": {"country_share": {"cap": 0.5}}
    })
}

fn problems(v: Value) -> Vec<Problem> {
    match parse_model(&v.to_string()) {
        Ok(m) => stockade::validate(&m),
        Err(e) => e.problems,
    }
}

fn has(ps: &[Problem], path: &str, needle: &str) -> bool {
    ps.iter()
        .any(|p| p.path == path && p.message.contains(needle))
}

#[test]
fn the_good_model_is_valid() {
    assert_eq!(problems(good()), vec![]);
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut m = good();
    m["sites"][0]["module_capacity"] = json!(-5.0);
    m["sites"][0]["yield"] = json!(1.5);
    m["suppliers"][0]["country"] = json!("ZZ");
    m["routes"][1]["to"] = json!("nowhere");
    m["policies"]["country_share"]["cap"] = json!(1.2);
    m["demand"][0]["shortfall_penalty"] = json!(-1.0);
    let ps = problems(m);
    assert!(
        has(&ps, "sites[0].module_capacity", "must be > 0, got -5"),
        "{ps:?}"
    );
    assert!(has(&ps, "sites[0].yield", "(0, 1]"));
    assert!(has(&ps, "suppliers[0].country", "unknown country `ZZ`"));
    assert!(has(&ps, "routes[1].to", "unknown node `nowhere`"));
    assert!(has(&ps, "policies.country_share.cap", "[0, 1]"));
    assert!(has(&ps, "demand[0].shortfall_penalty", ">= 0"));
    let site = ps
        .iter()
        .find(|p| p.path == "sites[0].module_capacity")
        .expect("site problem");
    assert_eq!(site.entity.as_deref(), Some("sep"));
    assert_eq!(
        site.to_string(),
        "sites[0].module_capacity (sep): must be > 0, got -5"
    );
}

#[test]
fn duplicate_ids_and_dangling_references() {
    let mut m = good();
    m["depots"][0]["id"] = json!("mine");
    m["sites"][0]["output"] = json!("unobtainium");
    m["scenarios"][0]["availability"] = json!({"ghost": 0.0});
    m["scenarios"][0]["embargoes"] = json!(["QQ"]);
    let ps = problems(m);
    assert!(
        has(&ps, "depots[0].id", "duplicate node id `mine`"),
        "{ps:?}"
    );
    assert!(has(
        &ps,
        "sites[0].output",
        "unknown material `unobtainium`"
    ));
    assert!(has(
        &ps,
        "scenarios[0].availability.ghost",
        "unknown node or route"
    ));
    assert!(has(
        &ps,
        "scenarios[0].embargoes[0]",
        "unknown country `QQ`"
    ));
}

#[test]
fn unreachable_demand_and_unsupplied_material() {
    let mut m = good();
    m["suppliers"] = json!([]);
    m["routes"] = json!([{"from": "sep", "to": "d"}]);
    let ps = problems(m);
    assert!(
        has(
            &ps,
            "sites[0].input",
            "no supplier, site or depot provides `ore`"
        ),
        "{ps:?}"
    );
    assert!(has(&ps, "demand[0]", "no chain of routes"));
}

#[test]
fn material_mismatch_on_a_route() {
    let mut m = good();
    m["routes"][0] = json!({"from": "mine", "to": "d"});
    let ps = problems(m);
    assert!(
        has(&ps, "routes[0].to", "puts out `ore` but `d` takes `oxide`"),
        "{ps:?}"
    );
}

#[test]
fn unknown_fields_and_wrong_types_name_their_path() {
    let mut m = good();
    m["sites"][0]["modul_capacity"] = json!(5);
    let ps = problems(m);
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].path, "sites[0].modul_capacity");
    assert!(
        ps[0].message.contains("unknown field `modul_capacity`"),
        "{}",
        ps[0].message
    );

    let mut m = good();
    m["demand"][0]["demand"] = json!("lots");
    let ps = problems(m);
    assert_eq!(ps[0].path, "demand[0].demand");
}

#[test]
fn probabilities_must_not_exceed_one() {
    let mut m = good();
    m["scenarios"] = json!([
        {"id": "a", "probability": 0.7},
        {"id": "b", "probability": 0.6}
    ]);
    assert!(has(&problems(m), "scenarios", "sum to 1.3"));
}

#[test]
fn non_finite_numbers_from_the_library_api() {
    let mut model: Model = serde_json::from_value(good()).expect("good");
    model.sites[0].module_capacity = f64::NAN;
    model.suppliers[0].capacity = f64::INFINITY;
    model.policies.site_share = Some(f64::NAN);
    let ps = stockade::validate(&model);
    assert!(has(&ps, "sites[0].module_capacity", "finite"), "{ps:?}");
    assert!(has(&ps, "suppliers[0].capacity", "finite"));
    assert!(has(&ps, "policies.site_share", "[0, 1]"));
    assert!(stockade::solve(model, &stockade::Settings::default()).is_err());
}

/// Paths into the good model where a number lives, to corrupt one at a time.
const NUMERIC_PATHS: &[&[&str]] = &[
    &["suppliers", "0", "capacity"],
    &["sites", "0", "module_capacity"],
    &["sites", "0", "yield"],
    &["sites", "0", "lat"],
    &["depots", "0", "capacity"],
    &["demand", "0", "demand"],
    &["demand", "0", "shortfall_penalty"],
    &["scenarios", "0", "probability"],
    &["policies", "country_share", "cap"],
];

fn set_path(v: &mut Value, path: &[&str], x: Value) {
    let mut cur = v;
    for key in path {
        cur = match key.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[*key],
        };
    }
    *cur = x;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any string: parsing and validation return, never panic.
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        if let Ok(m) = parse_model(&text) {
            let _ = stockade::validate(&m);
        }
    }

    /// Any number anywhere in a model: validation either accepts it (and the solve returns a
    /// status) or names the field; nothing panics.
    #[test]
    fn corrupted_numbers_are_caught_or_solved(which in 0..NUMERIC_PATHS.len(), x in prop_oneof![
        Just(f64::NAN), Just(f64::INFINITY), Just(-1.0), Just(0.0), Just(1e300), -1e6..1e6f64
    ]) {
        let path = NUMERIC_PATHS[which];
        let mut model: Model = serde_json::from_value(good()).expect("good");
        let mut v = serde_json::to_value(&model).expect("to json");
        set_path(&mut v, path, json!(0.0));
        model = serde_json::from_value(v).expect("still parses");
        // Put the raw f64 (possibly NaN, which JSON cannot carry) in through the library API.
        match path {
            ["suppliers", ..] => model.suppliers[0].capacity = x,
            ["sites", _, "module_capacity"] => model.sites[0].module_capacity = x,
            ["sites", _, "yield"] => model.sites[0].yield_ = x,
            ["sites", _, "lat"] => model.sites[0].lat = Some(x),
            ["depots", ..] => model.depots[0].capacity = x,
            ["demand", _, "demand"] => model.demand[0].demand = x,
            ["demand", _, "shortfall_penalty"] => model.demand[0].shortfall_penalty = Some(x),
            ["scenarios", ..] => model.scenarios[0].probability = x,
            _ => if let Some(cs) = model.policies.country_share.as_mut() { cs.cap = x },
        }
        let ps = stockade::validate(&model);
        if ps.is_empty() {
            let r = stockade::solve(model, &stockade::Settings::default());
            prop_assert!(r.is_ok());
        } else {
            let field = path.last().expect("path");
            prop_assert!(ps.iter().any(|p| p.path.contains(field)), "{:?} -> {:?}", path, ps);
        }
    }
}
