//! The importers and the MIP against published optima (OR-Library `capopt`/`pmedopt`, Guastaroba
//! & Speranza for Holmberg), read from shared/benchmarks/DEV-OPTIMA.md: the oracle lives outside
//! this code.

use std::path::PathBuf;

use stockade::import::{self, CapOptions};
use stockade::{Model, Settings, Status};

fn benchmarks() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/benchmarks")
}

/// `(instance, optimum)` rows of DEV-OPTIMA.md.
fn published_optima() -> Vec<(String, f64)> {
    let text = std::fs::read_to_string(benchmarks().join("DEV-OPTIMA.md")).expect("DEV-OPTIMA.md");
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            if cells.len() < 4 {
                return None;
            }
            let value: f64 = cells[2].parse().ok()?;
            Some((cells[1].to_string(), value))
        })
        .collect()
}

fn solve_to_optimality(model: Model, name: &str, expected: f64) {
    let result = stockade::solve(model, &Settings::default()).expect("solve");
    assert_eq!(result.status, Status::Optimal, "{name}");
    let obj = result.objective.expect("objective");
    let rel = (obj - expected).abs() / expected.abs();
    assert!(
        rel <= 1e-6,
        "{name}: got {obj}, published {expected} (relative error {rel:e})"
    );
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn orlib_cap_multi_source_matches_published_optima() {
    let names = published_optima()
        .into_iter()
        .filter(|(n, _)| n.starts_with("cap"));
    let mut count = 0;
    for (name, expected) in names {
        let text = read(benchmarks().join(format!("orlib-cap/{name}.txt")));
        let model = import::orlib_cap(&text, &name, &CapOptions::default()).expect("import");
        solve_to_optimality(model, &name, expected);
        count += 1;
    }
    assert_eq!(count, 13, "cap41-cap74 in DEV-OPTIMA.md");
}

#[test]
fn holmberg_single_source_matches_published_optima() {
    let mut count = 0;
    for (name, expected) in published_optima()
        .into_iter()
        .filter(|(n, _)| n.starts_with('p') && !n.starts_with("pmed"))
    {
        let text = read(benchmarks().join(format!("holmberg-sscflp/{name}")));
        let model = import::holmberg(&text, &name).expect("import");
        solve_to_optimality(model, &name, expected);
        count += 1;
    }
    assert_eq!(count, 20, "p1-p20 in DEV-OPTIMA.md");
}

#[test]
fn pmed_matches_published_optima() {
    let mut count = 0;
    for (name, expected) in published_optima()
        .into_iter()
        .filter(|(n, _)| n.starts_with("pmed"))
    {
        let text = read(benchmarks().join(format!("orlib-pmed/{name}.txt")));
        let model = import::orlib_pmed(&text, &name).expect("import");
        solve_to_optimality(model, &name, expected);
        count += 1;
    }
    assert_eq!(count, 10, "pmed1-pmed10 in DEV-OPTIMA.md");
}

/// The two-stage stoch-cflp model at S = 50: optimum 950296.60375 per its README (HiGHS 1.16
/// through Pyomo, linopy, PuLP and raw highspy, all agreeing).
#[test]
fn stoch_cflp_s50_matches_reference() {
    let dir = benchmarks();
    let text = read(dir.join("orlib-cap/cap71.txt"));
    let opts = CapOptions {
        failures: Some(read(dir.join("stoch-cflp/scenarios-cap71-S50.txt"))),
        ..CapOptions::default()
    };
    let model = import::orlib_cap(&text, "cap71", &opts).expect("import");
    assert_eq!(model.scenarios.len(), 50);
    let result = stockade::solve(model, &Settings::default()).expect("solve");
    assert_eq!(result.status, Status::Optimal);
    assert_eq!(
        (result.model_size.columns, result.model_size.rows),
        (42_516 + 16, 43_300 + 16)
    );
    let obj = result.objective.expect("objective");
    assert!(
        (obj - 950_296.603_75).abs() / 950_296.603_75 <= 1e-6,
        "got {obj}"
    );
}

/// Every line of a scenario file is a scenario, the empty last line of S = 1000 included.
#[test]
fn stoch_cflp_scenario_counts() {
    let dir = benchmarks();
    let text = read(dir.join("orlib-cap/cap71.txt"));
    for s in [10, 50, 200, 1000] {
        let opts = CapOptions {
            failures: Some(read(
                dir.join(format!("stoch-cflp/scenarios-cap71-S{s}.txt")),
            )),
            ..CapOptions::default()
        };
        let model = import::orlib_cap(&text, "cap71", &opts).expect("import");
        assert_eq!(model.scenarios.len(), s);
    }
}

/// A solve stopped by its time limit returns its incumbent, the bound and the gap. Holmberg p58
/// (30 x 200, single-source) takes HiGHS minutes to prove (benchmarks README: 208 s), but a
/// feasible assignment comes within a second.
#[test]
fn time_limited_solve_returns_incumbent() {
    let text = read(benchmarks().join("holmberg-sscflp/p58"));
    let model = import::holmberg(&text, "p58").expect("import");
    let total_demand: f64 = model.demand.iter().map(|d| d.demand).sum();
    let settings = Settings {
        time_limit_s: Some(2.0),
        ..Settings::default()
    };
    let result = stockade::solve(model, &settings).expect("solve");
    assert_eq!(result.status, Status::TimeLimit);
    assert!(result.has_solution, "an incumbent after 2 s");
    let (obj, bound) = (
        result.objective.expect("objective"),
        result.best_bound.expect("bound"),
    );
    assert!(obj >= bound, "incumbent {obj} below the bound {bound}");
    let gap = result.mip_gap.expect("gap");
    assert!(gap > 0.0 && (gap - (obj - bound) / obj).abs() < 1e-9);
    // The incumbent is a plan: every customer assigned to one open facility, with the open
    // capacity covering all demand and nothing short (demand is hard in this model).
    assert_eq!(result.assignments.len(), 200);
    let open: Vec<&str> = result
        .sites
        .iter()
        .filter(|s| s.open)
        .map(|s| s.id.as_str())
        .collect();
    assert!(result
        .assignments
        .values()
        .all(|s| open.contains(&s.as_str())));
    let open_capacity: f64 = result
        .sites
        .iter()
        .filter(|s| s.open)
        .map(|s| s.capacity)
        .sum();
    assert!(open_capacity >= total_demand, "{open_capacity}");
    assert!(result.shortfall.is_empty());
}
