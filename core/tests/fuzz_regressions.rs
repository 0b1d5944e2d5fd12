//! Inputs found by fuzzing (scripts/fuzz.sh) or built from what it showed, kept as regression
//! tests: each must be refused with a message, or imported within a bounded time, never panic.
//! The fuzz targets are in fuzz/fuzz_targets/.

use std::time::Instant;

use stockade::import::{holmberg, orlib_cap, orlib_pmed, CapOptions};

/// orlib_pmed target, slow unit: a 12-byte header declaring 5000 vertices used to allocate a
/// 5000 x 5000 distance matrix (200 MB) and run Floyd-Warshall over it for every input (438
/// executions/s in the fuzzer). A chain of 400 edges among the 5000 made it O(400^2 x 5000).
/// Now the matrix covers only the vertices on an edge, and a file may declare at most 1000
/// vertices (OR-Library's largest instance has 900).
#[test]
fn pmed_cost_follows_the_edges_not_the_header() {
    let started = Instant::now();
    let err = orlib_pmed("5000 0 1\n", "big").expect_err("5000 vertices is over the limit");
    assert!(err.to_string().contains("1000"), "{err}");
    let model = orlib_pmed("1000 0 1\n", "empty").expect("an edgeless graph is a graph");
    // Every vertex a site and a customer, each reaching only itself (distance 0).
    assert_eq!(model.sites.len(), 1000);
    assert_eq!(model.routes.len(), 1000);
    let mut text = String::from("1000 400 3\n");
    for v in 1..=400 {
        text.push_str(&format!("{v} {} 1\n", v + 1));
    }
    let model = orlib_pmed(&text, "chain").expect("a chain imports");
    // 401 vertices on the chain reach each other (401^2 routes), the other 599 only themselves.
    assert_eq!(model.routes.len(), 401 * 401 + 599);
    // The distance along the chain from v1 to v401 is 400 edges of cost 1.
    let far = model
        .routes
        .iter()
        .find(|r| r.from == "v1" && r.to == "d401")
        .expect("route v1 -> d401");
    assert_eq!(far.unit_cost, 400.0);
    let elapsed = started.elapsed().as_secs_f64();
    assert!(elapsed < 10.0, "{elapsed:.1} s in a debug build");
}

/// A negative edge in an undirected graph is a negative cycle: refused, not turned into
/// distances of -1e300.
#[test]
fn pmed_refuses_negative_edge_costs() {
    let err = orlib_pmed("3 2 1\n1 2 5\n2 3 -1\n", "neg").expect_err("a negative edge is refused");
    let text = err.to_string();
    assert!(text.contains("edge cost must be >= 0, got -1"), "{text}");
}

/// Truncated and garbled headers of each importer: an error naming what was expected.
#[test]
fn truncated_importer_inputs_are_errors_not_panics() {
    for text in ["", "2", "2 3", "x y", "99999999999999999999 1", "-1 2"] {
        assert!(orlib_pmed(text, "t").is_err(), "pmed {text:?}");
        assert!(holmberg(text, "t").is_err(), "holmberg {text:?}");
        assert!(
            orlib_cap(text, "t", &CapOptions::default()).is_err(),
            "cap {text:?}"
        );
    }
}
