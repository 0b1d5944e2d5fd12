//! Inputs built to exhaust the service are refused early with a clear 400/413/422 naming the
//! field at fault: deeply nested JSON, bodies over the size limit, models past the node, route
//! and scenario limits (also on `/v1/validate`, which used not to check sizes). The memory of the
//! largest refusal (a million routes) is measured on the real binary in `binary.rs`.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};
use stockade_server::auth::Role;
use stockade_server::{ModelLimits, ServerConfig};

fn check(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.body["error"]["code"], code, "{}", r.text);
    assert!(
        !r.body["error"]["message"].as_str().unwrap().is_empty(),
        "{}",
        r.text
    );
}

fn small_limits() -> ServerConfig {
    ServerConfig {
        max_body_bytes: 256 * 1024,
        limits: ModelLimits {
            max_nodes: 50,
            max_routes: 200,
            max_scenarios: 5,
            max_sampled_scenarios: 100,
        },
        ..config()
    }
}

/// `tiny()` with `n` extra routes (all between its two real nodes: the count is what matters).
fn with_routes(n: usize) -> Value {
    let mut model = tiny();
    let routes = model["routes"].as_array_mut().unwrap();
    for i in 0..n {
        routes.push(json!({"from": "texas", "to": "dod", "id": format!("r{i}")}));
    }
    model
}

fn with_scenarios(n: usize) -> Value {
    let mut model = tiny();
    model["scenarios"] = (0..n)
        .map(|i| json!({"id": format!("s{i}"), "probability": 0.001, "availability": {"texas": 0.5}}))
        .collect();
    model
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_json_is_a_400_not_a_stack_overflow() {
    let server = sqlite_server(config()).await;
    let state = &server.state;
    let planner = key(state, "acme", Role::Planner).await;
    // 100 000 levels: a recursive parser without a limit would overflow its stack. serde_json
    // stops at 128 levels.
    let deep = "[".repeat(100_000);
    for route in ["/v1/jobs", "/v1/solve", "/v1/validate", "/v1/keys"] {
        let r = call(state, Method::POST, route, Some(&planner), Some(&deep)).await;
        check(&r, StatusCode::BAD_REQUEST, "bad_request");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("recursion limit"),
            "{}",
            r.text
        );
    }
    // Nested inside an otherwise well-formed job, closed properly: still refused at parse time.
    let nested = format!(
        r#"{{"kind": "solve", "model": {{"name": {}1{}}}}}"#,
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let r = call(
        state,
        Method::POST,
        "/v1/jobs",
        Some(&planner),
        Some(&nested),
    )
    .await;
    check(&r, StatusCode::BAD_REQUEST, "bad_request");
    // 100 levels is within the limit and gets to the model check: 422 at the field.
    let shallow = format!(
        r#"{{"kind": "solve", "model": {{"name": {}1{}}}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    let r = call(
        state,
        Method::POST,
        "/v1/jobs",
        Some(&planner),
        Some(&shallow),
    )
    .await;
    check(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    assert_eq!(r.body["error"]["details"][0]["path"], "model.name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_size_limit_are_413() {
    let server = sqlite_server(small_limits()).await;
    let state = &server.state;
    let planner = key(state, "acme", Role::Planner).await;
    // 300 kB of a valid-looking model (one long description) against a 256 kB limit.
    let mut model = tiny();
    model["description"] = json!("x".repeat(300 * 1024));
    for (route, body) in [
        ("/v1/jobs", json!({"kind": "solve", "model": model.clone()})),
        ("/v1/solve", json!({"model": model.clone()})),
        ("/v1/validate", model.clone()),
    ] {
        let r = post(state, route, &planner, &body).await;
        check(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("262144"),
            "names the limit: {}",
            r.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_and_scenarios_past_the_limits_are_422_with_their_paths() {
    let server = sqlite_server(small_limits()).await;
    let state = &server.state;
    let planner = key(state, "acme", Role::Planner).await;
    // tiny has 2 routes: 199 more is 201 > 200.
    let many_routes = with_routes(199);
    let many_scenarios = with_scenarios(6);
    for (model, path, count) in [
        (&many_routes, "routes", "201 routes"),
        (&many_scenarios, "scenarios", "6 scenarios"),
    ] {
        for (route, body, prefix) in [
            (
                "/v1/jobs",
                json!({"kind": "solve", "model": model}),
                "model.",
            ),
            ("/v1/solve", json!({"model": model}), "model."),
            ("/v1/validate", model.clone(), ""),
        ] {
            let r = post(state, route, &planner, &body).await;
            check(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
            let details = r.body["error"]["details"].as_array().unwrap();
            assert_eq!(details.len(), 1, "{}", r.text);
            assert_eq!(details[0]["path"], format!("{prefix}{path}"), "{}", r.text);
            let message = details[0]["message"].as_str().unwrap();
            assert!(message.starts_with(count), "{message}");
            assert!(message.contains("this server's limit"), "{message}");
        }
    }
    // At the limits exactly: accepted (validation has its say: the extra routes duplicate one).
    let r = post(state, "/v1/validate", &planner, &with_scenarios(5)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // The size check comes before validation: a model past the limit and invalid too is told
    // only about its size (nothing else was looked at).
    let mut both = with_routes(199);
    both["demand"][0]["demand"] = json!(-1);
    let r = post(state, "/v1/validate", &planner, &both).await;
    check(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    assert_eq!(r.body["error"]["details"].as_array().unwrap().len(), 1);
    // Sampling more scenarios than allowed for an evaluate job.
    let r = post(
        state,
        "/v1/jobs",
        &planner,
        &json!({"kind": "evaluate", "model": tiny(), "plan": {}, "scenarios": 101}),
    )
    .await;
    check(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_routes_are_refused_by_count_under_the_default_limits() {
    // Default limits: 1 000 000 routes, 32 MiB body. 1 000 001 short routes fit in ~23 MB.
    let server = sqlite_server(config()).await;
    let state = &server.state;
    let viewer = key(state, "acme", Role::Viewer).await;
    let body = million_routes_body(1_000_001);
    assert!(body.len() < 32 * 1024 * 1024, "{} bytes", body.len());
    let started = std::time::Instant::now();
    let r = call(
        state,
        Method::POST,
        "/v1/validate",
        Some(&viewer),
        Some(&body),
    )
    .await;
    check(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    assert_eq!(r.body["error"]["details"][0]["path"], "routes");
    assert!(r.body["error"]["details"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("1000001 routes exceed this server's limit of 1000000"));
    // Refused after the JSON parse, before the model is built: a few seconds in a debug build.
    assert!(
        started.elapsed().as_secs_f64() < 20.0,
        "{:?}",
        started.elapsed()
    );
}
