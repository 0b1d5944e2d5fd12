//! Robust siting on PySAL spopt's San Francisco data (issue 21): the loop once stopped here
//! `optimal` with its lower bound above its upper bound and a plan 17 % worse than the best.
//!
//! Oracle: full enumeration of every store set (C(16, p)), each priced by its worst single store
//! loss with a direct nearest-store reassignment, computed here from the CSV files themselves
//! (not through the importer or any LP). The robust solve runs under a time limit, so it must
//! either be `optimal` at the enumerated optimum or stop `time_limit` with bounds that bracket it;
//! on every iteration lower <= upper.

use std::collections::BTreeMap;

use stockade::import::{spopt_sf, SPOPT_SF_DEMAND, SPOPT_SF_DISTANCE};
use stockade::interdiction::WorstCaseOptions;
use stockade::robust::solve_robust;
use stockade::{Network, Settings, SolveControl, Status};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/benchmarks/spopt-sf"
);

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}")).expect("spopt-sf data in shared/benchmarks")
}

/// Population per tract and distance[store][tract], straight from the CSV files.
fn data() -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut pop: BTreeMap<String, f64> = BTreeMap::new();
    let demand = read(SPOPT_SF_DEMAND);
    let mut r = csv::Reader::from_reader(demand.as_bytes());
    let h = r.headers().expect("header").clone();
    let (n, p) = (
        h.iter().position(|c| c == "NAME").expect("NAME"),
        h.iter().position(|c| c == "POP2000").expect("POP2000"),
    );
    for rec in r.records() {
        let rec = rec.expect("record");
        pop.insert(rec[n].to_string(), rec[p].parse().expect("number"));
    }
    let tracts: Vec<String> = pop.keys().cloned().collect();
    let mut dist: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let distance = read(SPOPT_SF_DISTANCE);
    let mut r = csv::Reader::from_reader(distance.as_bytes());
    for rec in r.deserialize::<(f64, String, String, f64)>() {
        let (d, store, tract, _) = rec.expect("record");
        let t = tracts
            .binary_search(&tract)
            .expect("tract in the demand file");
        dist.entry(store)
            .or_insert_with(|| vec![f64::NAN; tracts.len()])[t] = d;
    }
    (
        pop.values().copied().collect(),
        dist.into_values().collect(),
    )
}

fn cost(pop: &[f64], dist: &[Vec<f64>], open: &[usize]) -> f64 {
    (0..pop.len())
        .map(|t| {
            pop[t]
                * open
                    .iter()
                    .map(|&s| dist[s][t])
                    .fold(f64::INFINITY, f64::min)
        })
        .sum()
}

/// The least worst-single-loss cost over every set of p stores.
fn enumerate(pop: &[f64], dist: &[Vec<f64>], p: usize) -> f64 {
    fn sets(n: usize, p: usize, start: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if cur.len() == p {
            out.push(cur.clone());
            return;
        }
        for s in start..n {
            cur.push(s);
            sets(n, p, s + 1, cur, out);
            cur.pop();
        }
    }
    let mut all = Vec::new();
    sets(dist.len(), p, 0, &mut Vec::new(), &mut all);
    all.iter()
        .map(|set| {
            (0..set.len())
                .map(|l| {
                    let left: Vec<usize> =
                        (0..set.len()).filter(|&i| i != l).map(|i| set[i]).collect();
                    cost(pop, dist, &left)
                })
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .fold(f64::INFINITY, f64::min)
}

fn check(p: u32) {
    let (pop, dist) = data();
    assert_eq!(dist.len(), 16);
    assert_eq!(pop.len(), 205);
    let best = enumerate(&pop, &dist, p as usize);
    let model =
        spopt_sf(&read(SPOPT_SF_DEMAND), &read(SPOPT_SF_DISTANCE), p, "sf").expect("import");
    let net = Network::new(model).expect("valid");
    let settings = Settings {
        time_limit_s: Some(40.0),
        ..Settings::default()
    };
    let losses = WorstCaseOptions {
        k: 1,
        targets: vec!["sites".into()],
        duration: 1.0,
        single_points_of_failure: false,
    };
    let r = solve_robust(&net, &losses, &settings, &SolveControl::default(), &|it| {
        eprintln!(
            "p = {p}, iteration {}: lower {:.6e} upper {:.6e} at {:.1} s",
            it.iteration, it.lower_bound, it.upper_bound, it.elapsed_s
        )
    })
    .expect("runs");
    for it in &r.iterations {
        assert!(
            it.lower_bound <= it.upper_bound * (1.0 + 1e-6),
            "p = {p}, iteration {}: lower {} above upper {}",
            it.iteration,
            it.lower_bound,
            it.upper_bound
        );
        assert!(
            it.lower_bound <= best * (1.0 + 1e-6),
            "p = {p}: lower bound above the optimum"
        );
    }
    let (lower, upper) = (r.lower_bound.expect("bound"), r.upper_bound.expect("bound"));
    assert!(
        lower <= best * (1.0 + 1e-6),
        "p = {p}: lower {lower} > optimum {best}"
    );
    assert!(
        upper >= best * (1.0 - 1e-6),
        "p = {p}: upper {upper} < optimum {best}"
    );
    match r.status {
        Status::Optimal => assert!(
            (upper - best).abs() <= 1e-6 * best,
            "p = {p}: optimal {upper} vs enumeration {best}"
        ),
        Status::TimeLimit => {}
        other => panic!("p = {p}: status {other:?}, message {:?}", r.message),
    }
}

#[test]
fn san_francisco_four_stores_against_enumeration() {
    check(4);
}

#[test]
fn san_francisco_three_stores_against_enumeration() {
    check(3);
}
