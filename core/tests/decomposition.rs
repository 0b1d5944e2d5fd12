//! Benders decomposition against oracles that do not come from it: the stoch-cflp reference
//! optima (shared/benchmarks/stoch-cflp/README.md, HiGHS on the extensive form, five tools
//! agreeing), the OR-Library published optima (DEV-OPTIMA.md), and the extensive form's own
//! optimum on models with depots, yields, hardening and policies.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use stockade::import::{self, CapOptions};
use stockade::model::{Risk, RiskMeasure, RiskOn};
use stockade::scenario::ScenarioSet;
use stockade::solver::{Method, Progress};
use stockade::{solve_siting, Model, Network, Settings, SolveControl, SolveResult, Status};

fn benchmarks() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/benchmarks")
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cap(name: &str, failures: Option<&str>) -> Model {
    let opts = CapOptions {
        failures: failures.map(|f| read(benchmarks().join(f))),
        ..CapOptions::default()
    };
    import::orlib_cap(
        &read(benchmarks().join(format!("orlib-cap/{name}.txt"))),
        name,
        &opts,
    )
    .expect("import")
}

fn benders() -> Settings {
    Settings {
        method: Method::Benders,
        ..Settings::default()
    }
}

fn solve(model: Model, settings: &Settings, control: &SolveControl) -> SolveResult {
    let net = Network::new(model).expect("valid");
    let set = ScenarioSet::explicit(&net);
    solve_siting(&net, &set, settings, control).expect("solve")
}

fn assert_close(got: Option<f64>, expected: f64, what: &str) {
    let got = got.unwrap_or_else(|| panic!("{what}: no objective"));
    let rel = (got - expected).abs() / expected.abs();
    assert!(
        rel <= 1e-6,
        "{what}: got {got}, expected {expected} (relative {rel:e})"
    );
}

/// The reference optima of stoch-cflp (its README: HiGHS 1.16 on the extensive form, one thread,
/// gap 1e-6; Pyomo, linopy, PuLP and raw highspy agree).
#[test]
fn benders_reaches_the_stoch_cflp_reference_optima() {
    for (s, optimum) in [(50, 950296.60375), (200, 946449.4611875)] {
        let model = cap(
            "cap71",
            Some(&format!("stoch-cflp/scenarios-cap71-S{s}.txt")),
        );
        let result = solve(model, &benders(), &SolveControl::default());
        assert_eq!(result.status, Status::Optimal, "S = {s}");
        assert_eq!(result.method, Method::Benders);
        assert_close(result.objective, optimum, &format!("stoch-cflp S = {s}"));
        let d = result.decomposition.expect("decomposition report");
        assert_eq!(d.scenarios, s);
        assert!(d.distinct_scenarios <= s && d.cuts > 0);
        // The plan read back is the extensive form's: its cost breakdown adds up.
        let c = result.costs.expect("costs");
        let total =
            c.investment + c.stockpile + c.expected_operating + c.expected_shortfall_penalty;
        assert_close(Some(total), optimum, &format!("cost breakdown at S = {s}"));
    }
}

/// Published OR-Library optima of single-scenario instances with hard demand (every one
/// DEV-OPTIMA lists): the decomposition must find feasibility cuts (too little capacity open) as
/// well as optimality cuts, here with the facility-location strengthening of the cuts.
#[test]
fn benders_reaches_published_cap_optima() {
    for (name, optimum) in [
        ("cap41", 1040444.375),
        ("cap42", 1098000.450),
        ("cap43", 1153000.450),
        ("cap44", 1235500.450),
        ("cap51", 1025208.225),
        ("cap61", 932615.750),
        ("cap62", 977799.400),
        ("cap63", 1014062.050),
        ("cap64", 1045650.250),
        ("cap71", 932615.750),
        ("cap72", 977799.400),
        ("cap73", 1010641.450),
        ("cap74", 1034976.975),
    ] {
        let result = solve(cap(name, None), &benders(), &SolveControl::default());
        assert_eq!(result.status, Status::Optimal, "{name}");
        assert_close(result.objective, optimum, name);
    }
}

/// On every iteration the lower bound stays at or below the true optimum and the upper bound at
/// or above it: with scenarios (stoch-cflp) and on one scenario with hard demand (cap64).
#[test]
fn bounds_bracket_the_optimum_on_every_iteration() {
    bracket(
        cap("cap71", Some("stoch-cflp/scenarios-cap71-S50.txt")),
        950296.60375,
    );
    bracket(cap("cap64", None), 1045650.250);
}

fn bracket(model: Model, optimum: f64) {
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = seen.clone();
    let control = SolveControl {
        cancel: None,
        progress: Some(Box::new(move |p: &Progress| {
            sink.lock().expect("progress log").push(*p);
        })),
    };
    let result = solve(model, &benders(), &control);
    assert_eq!(result.status, Status::Optimal);
    let seen = seen.lock().expect("progress log");
    assert!(seen.len() >= 2, "progress on every iteration");
    for p in seen.iter() {
        assert!(p.iteration.is_some() && p.cuts.is_some());
        if let Some(lb) = p.best_bound {
            assert!(
                lb <= optimum * (1.0 + 1e-9),
                "lower bound {lb} above the optimum"
            );
        }
        if let Some(ub) = p.incumbent {
            assert!(
                ub >= optimum * (1.0 - 1e-9),
                "upper bound {ub} below the optimum"
            );
        }
    }
}

/// The real example with sampled hazard scenarios (depots, stock, yields, hardening, the country
/// and trusted-share policies): Benders and the extensive form agree on the optimum.
#[test]
fn benders_equals_extensive_on_the_rare_earths_model() {
    let text = read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/rare-earths.json"));
    let model = stockade::parse_model(&text).expect("parse");
    // The second variant adds a policy with columns of its own (the country cover of
    // `min_countries`), which sit after the scenarios in the extensive form.
    let mut spread = model.clone();
    spread.policies.min_countries = Some(3);
    for (seed, model) in [(1, model), (2, spread)] {
        let net = Network::new(model).expect("valid");
        let set = ScenarioSet::sampled(&net, 40, seed);
        let extensive = Settings {
            method: Method::Extensive,
            ..Settings::default()
        };
        let a = solve_siting(&net, &set, &extensive, &SolveControl::default()).expect("extensive");
        let b = solve_siting(&net, &set, &benders(), &SolveControl::default()).expect("benders");
        assert_eq!(a.status, Status::Optimal);
        assert_eq!(b.status, Status::Optimal);
        assert_eq!(a.method, Method::Extensive);
        assert_close(
            b.objective,
            a.objective.expect("extensive optimum"),
            &format!("seed {seed}"),
        );
    }
}

/// A time limit ends the run with a plan and an honest gap: the plan costs at least the published
/// optimum and the bound is at most it.
#[test]
fn time_limited_benders_returns_a_plan_with_a_valid_gap() {
    let optimum = 793439.562; // OR-Library capopt, cap131
    let settings = Settings {
        time_limit_s: Some(0.3),
        ..benders()
    };
    let result = solve(cap("cap131", None), &settings, &SolveControl::default());
    assert_eq!(result.status, Status::TimeLimit);
    assert!(result.has_solution, "a plan at the time limit");
    let obj = result.objective.expect("objective");
    let bound = result.best_bound.expect("bound");
    assert!(
        obj >= optimum * (1.0 - 1e-9),
        "plan {obj} below the optimum"
    );
    assert!(
        bound <= optimum * (1.0 + 1e-9),
        "bound {bound} above the optimum"
    );
    let gap = result.mip_gap.expect("gap");
    assert!((gap - (obj - bound) / obj).abs() <= 1e-9, "gap {gap}");
    assert!(result.plan.is_some());
}

/// `auto` takes Benders from 100 scenarios on, the extensive form below, and Benders for large
/// capacitated facility location (capa: 100,000 flows) but not for small (cap131) or
/// uncapacitated (pmed11: 90,000 flows, every site able to serve all) location; a model Benders
/// cannot take (a CVaR term ties the scenarios) gets the extensive form from `auto` and a clear
/// error from `benders`.
#[test]
fn auto_chooses_by_size_and_model() {
    let small = cap("cap71", Some("stoch-cflp/scenarios-cap71-S50.txt"));
    let r = solve(small, &Settings::default(), &SolveControl::default());
    assert_eq!(r.method, Method::Extensive);
    assert!(r.decomposition.is_none());

    let large = cap("cap71", Some("stoch-cflp/scenarios-cap71-S200.txt"));
    let r = solve(
        large.clone(),
        &Settings::default(),
        &SolveControl::default(),
    );
    assert_eq!(r.method, Method::Benders);
    assert_close(r.objective, 946449.4611875, "auto at S = 200");

    let chooses = |model: Model| {
        let net = Network::new(model).expect("valid");
        let set = ScenarioSet::explicit(&net);
        stockade::solve::benders::chooses_benders(Method::Auto, &net, &set).expect("auto")
    };
    let capa = import::orlib_cap(
        &read(benchmarks().join("orlib-cap/capa.txt")),
        "capa",
        &CapOptions {
            capacity: Some(14000.0),
            ..CapOptions::default()
        },
    )
    .expect("import");
    assert!(chooses(capa), "capa");
    assert!(!chooses(cap("cap131", None)), "cap131");
    let pmed11 = import::orlib_pmed(&read(benchmarks().join("orlib-pmed/pmed11.txt")), "pmed11")
        .expect("import");
    assert!(!chooses(pmed11), "pmed11");

    let mut risky = large;
    risky.risk = Some(Risk {
        measure: RiskMeasure::Cvar,
        on: RiskOn::Cost,
        beta: 0.9,
        weight: 0.5,
        limit: None,
    });
    let net = Network::new(risky).expect("valid");
    let set = ScenarioSet::explicit(&net);
    let err = solve_siting(&net, &set, &benders(), &SolveControl::default())
        .expect_err("benders refuses CVaR");
    assert!(err.to_string().contains("risk measure"), "{err}");
}
