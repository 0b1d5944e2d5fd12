//! Model build and solve measured apart: OR-Library cap instances (published optima) and the
//! seeded synthetic generator at several sizes. Instance generation and validation stay outside
//! the timed closures; HiGHS runs on one thread.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use stockade::import::{orlib_cap, CapOptions};
use stockade::solver::{solve_mip, SolveControl};
use stockade::{BuildOptions, EvaluationSettings, Network, ScenarioSet, Settings, SitingProblem};
use stockade_benches::{synthetic, Size};

fn cap(name: &str, failures: Option<&str>) -> Network {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/benchmarks");
    let text =
        std::fs::read_to_string(dir.join(format!("orlib-cap/{name}.txt"))).expect("cap file");
    let opts = CapOptions {
        failures: failures.map(|f| std::fs::read_to_string(dir.join(f)).expect("scenario file")),
        ..CapOptions::default()
    };
    Network::new(orlib_cap(&text, name, &opts).expect("import")).expect("valid")
}

fn one_thread() -> Settings {
    Settings {
        threads: Some(1),
        ..Settings::default()
    }
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    let mut cases: Vec<(String, Network)> = vec![
        ("cap41".into(), cap("cap41", None)),
        ("cap131".into(), cap("cap131", None)),
        (
            "stoch-cap71-S200".into(),
            cap("cap71", Some("stoch-cflp/scenarios-cap71-S200.txt")),
        ),
        (
            "stoch-cap71-S1000".into(),
            cap("cap71", Some("stoch-cflp/scenarios-cap71-S1000.txt")),
        ),
    ];
    for (sites, demand, scenarios) in [(20, 50, 10), (50, 200, 10), (100, 200, 50)] {
        let size = Size {
            sites,
            demand,
            scenarios,
        };
        let net = Network::new(synthetic(size, 7)).expect("valid");
        cases.push((format!("synthetic-{sites}x{demand}x{scenarios}"), net));
    }
    for (name, net) in &cases {
        group.bench_with_input(BenchmarkId::from_parameter(name), net, |b, net| {
            b.iter(|| {
                let scenarios = ScenarioSet::explicit(net);
                let problem = SitingProblem::build(net, &scenarios, &BuildOptions::default());
                problem.mip.size()
            })
        });
    }
    group.finish();
}

fn solve(c: &mut Criterion) {
    let mut group = c.benchmark_group("solve");
    group.sample_size(10);
    let mut cases: Vec<(String, Network)> = vec![
        ("cap41".into(), cap("cap41", None)),
        ("cap131".into(), cap("cap131", None)),
    ];
    let size = Size {
        sites: 20,
        demand: 50,
        scenarios: 10,
    };
    cases.push((
        "synthetic-20x50x10".into(),
        Network::new(synthetic(size, 7)).expect("valid"),
    ));
    let settings = one_thread();
    for (name, net) in &cases {
        let scenarios = ScenarioSet::explicit(net);
        let problem = SitingProblem::build(net, &scenarios, &BuildOptions::default());
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| solve_mip(&problem.mip, &settings, &SolveControl::default()).expect("solve"))
        });
    }
    group.finish();
}

/// A synthetic model of `sites` sites and `demand` demand nodes (seed 7) and its plan (gap 1e-3,
/// one thread), solved outside any timing.
fn planned(sites: usize, demand: usize) -> (Network, stockade::Plan) {
    let size = Size {
        sites,
        demand,
        scenarios: 0,
    };
    let net = Network::new(synthetic(size, 7)).expect("valid");
    let settings = Settings {
        time_limit_s: Some(60.0),
        mip_gap: 1e-3,
        ..one_thread()
    };
    let base = ScenarioSet::explicit(&net);
    let plan = stockade::solve_siting(&net, &base, &settings, &SolveControl::default())
        .expect("solve")
        .plan
        .expect("plan");
    (net, plan)
}

/// Plan evaluation on a 100-site, 200-demand-node model: the warm-started path (one HiGHS
/// instance per worker, bounds changed between scenarios) against building and solving every
/// scenario LP from scratch, in scenarios per second, one worker each.
fn evaluate(c: &mut Criterion) {
    let (net, plan) = planned(100, 200);
    let mut group = c.benchmark_group("evaluate-100x200");
    group.sample_size(10);
    for (name, warm, count) in [("warm", true, 200usize), ("cold", false, 20)] {
        let set = ScenarioSet::sampled(&net, count, 3);
        let eval = EvaluationSettings {
            threads: Some(1),
            warm_start: warm,
        };
        group.throughput(criterion::Throughput::Elements(count as u64));
        group.bench_function(name, |b| {
            b.iter(|| stockade::evaluate(&net, &plan, &set, &eval, &|_, _| {}).expect("evaluate"))
        });
    }
    group.finish();
}

/// The k-interdiction MIP of a fixed plan on a 30-site, 100-demand-node model (3,030 elements:
/// every site and route), build and solve apart, k = 1, 2, 3; the plan is solved once, outside
/// the timing. Brute force would need 3,030 / 4.6e6 / 4.6e9 LPs.
fn interdiction(c: &mut Criterion) {
    use stockade::interdiction::{candidate_elements, InterdictionProblem};
    let (net, plan) = planned(30, 100);
    let kinds = vec!["sites".to_string(), "routes".to_string()];
    let candidates = candidate_elements(&net, &kinds).expect("targets");
    let mut group = c.benchmark_group("interdiction-30x100");
    group.sample_size(10);
    for k in 1..=3u32 {
        group.bench_function(BenchmarkId::new("build", k), |b| {
            b.iter(|| {
                InterdictionProblem::build(&net, &plan, k, 1.0, &candidates)
                    .mip
                    .size()
            })
        });
        // The integrality tolerance the library's `interdict` uses (big-M dual bounds).
        let solve_settings = Settings {
            mip_feasibility_tolerance: Some(1e-9),
            ..one_thread()
        };
        let problem = InterdictionProblem::build(&net, &plan, k, 1.0, &candidates);
        group.bench_function(BenchmarkId::new("solve", k), |b| {
            b.iter(|| {
                solve_mip(&problem.mip, &solve_settings, &SolveControl::default()).expect("solve")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, build, solve, evaluate, interdiction);
criterion_main!(benches);
