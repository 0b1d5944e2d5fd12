//! Model build and solve measured apart: OR-Library cap instances (published optima) and the
//! seeded synthetic generator at several sizes. Instance generation and validation stay outside
//! the timed closures; HiGHS runs on one thread.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use stockade::import::{orlib_cap, CapOptions};
use stockade::solver::{solve_mip, SolveControl};
use stockade::{BuildOptions, Network, ScenarioSet, Settings, SitingProblem};
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

criterion_group!(benches, build, solve);
criterion_main!(benches);
