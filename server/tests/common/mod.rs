//! Shared by the server's test suites: stores on SQLite and PostgreSQL, keys, requests driven
//! through the router with `oneshot`, benchmark models, and a tiny HTTP/1.1 client for the
//! real binary.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::Value;
use sqlx::Connection;
use stockade_server::auth::{self, Role};
use stockade_server::{app, AppState, Engine, ServerConfig, Store};
use tower::ServiceExt;

pub const CAP41_OPTIMUM: f64 = 1_040_444.375; // DEV-OPTIMA.md (OR-Library capopt)

pub fn benchmark(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/benchmarks/orlib-cap")
        .join(format!("{name}.txt"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// cap41 as a model (a quick MIP with a published optimum).
pub fn cap41() -> Value {
    let opts = stockade::import::CapOptions {
        capacity: None,
        single_source: false,
        failures: None,
    };
    let model = stockade::import::orlib_cap(&benchmark("cap41"), "cap41", &opts).unwrap();
    serde_json::to_value(&model).unwrap()
}

/// capa with capacity 8000: minutes to solve, for cancellation and crash tests.
pub fn capa() -> Value {
    let opts = stockade::import::CapOptions {
        capacity: Some(8000.0),
        single_source: false,
        failures: None,
    };
    let model = stockade::import::orlib_cap(&benchmark("capa"), "capa", &opts).unwrap();
    serde_json::to_value(&model).unwrap()
}

/// A long solve whose time goes into branch and bound (where HiGHS answers its interrupt
/// callback), not into one huge root LP as with capa: a seeded single-source capacitated
/// instance, 20 sites x 200 customers, capacities 1 % above total demand (bin-packing-tight).
/// HiGHS finds an incumbent in about 5 s and is far from proving optimality after 30 s.
pub fn hard() -> Value {
    let mut state: u64 = 11;
    let mut next = |lo: u64, hi: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        lo + (state >> 33) % (hi - lo + 1)
    };
    let (sites, customers) = (20, 200);
    let demand: Vec<u64> = (0..customers).map(|_| next(10, 50)).collect();
    let capacity = demand.iter().sum::<u64>() * 101 / 100 / sites + 1;
    let mut text = format!("{sites} {customers}\n");
    for _ in 0..sites {
        text.push_str(&format!("{capacity} 0.0\n"));
    }
    for d in &demand {
        let costs: Vec<String> = (0..sites)
            .map(|_| format!("{}.0", next(10, 60) * d))
            .collect();
        text.push_str(&format!("{d}\n{}\n", costs.join(" ")));
    }
    let opts = stockade::import::CapOptions {
        capacity: None,
        single_source: true,
        failures: None,
    };
    let model = stockade::import::orlib_cap(&text, "hard", &opts).unwrap();
    serde_json::to_value(&model).unwrap()
}

/// The README's two-site model: optimum by hand. Demand 1500 t; the country share cap (60 %)
/// holds on capacity, so each site opens one 1000 t module (50 % each): 20e6 + 5e6 + 15e6 + 5e6
/// = 45e6 fixed. Texas (50/t) ships its full 1000 t and kalgoorlie (400/t) the other 500 t:
/// 50 000 + 200 000. A second texas module would break the cap (2000 of 3000 t = 67 %) and
/// shortfall costs 1e6/t. Total 45 250 000.
pub fn tiny() -> Value {
    serde_json::json!({
        "materials": [{"id": "ndpr_oxide"}],
        "countries": [{"code": "US", "trusted": true}, {"code": "AU", "trusted": true}],
        "sites": [
            {"id": "texas", "country": "US", "output": "ndpr_oxide", "module_capacity": 1000,
             "max_modules": 3, "open_cost": 20e6, "module_cost": 5e6},
            {"id": "kalgoorlie", "country": "AU", "output": "ndpr_oxide", "module_capacity": 1000,
             "max_modules": 3, "open_cost": 15e6, "module_cost": 5e6}
        ],
        "demand": [{"id": "dod", "country": "US", "material": "ndpr_oxide", "demand": 1500,
                    "shortfall_penalty": 1e6}],
        "routes": [{"from": "texas", "to": "dod", "unit_cost": 50},
                   {"from": "kalgoorlie", "to": "dod", "unit_cost": 400}],
        "policies": {"country_share": {"cap": 0.6}}
    })
}

/// A fresh database on the PostgreSQL server named by STOCKADE_TEST_POSTGRES_URL, or None with a
/// printed notice when the variable is unset (scripts/test.sh always sets it).
pub async fn postgres_url() -> Option<String> {
    let Ok(base) = std::env::var("STOCKADE_TEST_POSTGRES_URL") else {
        eprintln!(
            "NOTICE: STOCKADE_TEST_POSTGRES_URL is unset; skipping the PostgreSQL case \
             (scripts/test.sh starts a server and sets it)"
        );
        return None;
    };
    let name = format!("stockade_t_{}", auth::random_hex(6));
    let mut conn = sqlx::PgConnection::connect(&base)
        .await
        .expect("connect to STOCKADE_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("CREATE DATABASE (the test user needs CREATEDB)");
    let _ = conn.close().await;
    let (prefix, rest) = base.rsplit_once('/').expect("URL with a database name");
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    Some(format!("{prefix}/{name}{query}"))
}

/// An SQLite URL in a fresh temporary directory (kept alive by the returned guard).
pub fn sqlite_url() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("stockade.db").display());
    (url, dir)
}

pub struct TestServer {
    pub state: AppState,
    pub _dir: Option<tempfile::TempDir>,
}

pub fn config() -> ServerConfig {
    ServerConfig {
        workers: 2,
        queue_capacity: 16,
        ..ServerConfig::default()
    }
}

pub async fn server_on(url: &str, config: ServerConfig) -> AppState {
    let store = Store::connect(url).await.unwrap();
    Engine::start(store, config).await.unwrap()
}

pub async fn sqlite_server(config: ServerConfig) -> TestServer {
    let (url, dir) = sqlite_url();
    TestServer {
        state: server_on(&url, config).await,
        _dir: Some(dir),
    }
}

pub async fn key(state: &AppState, tenant: &str, role: Role) -> String {
    auth::create_key(&state.store, tenant, role, None, ("test", None))
        .await
        .unwrap()
        .1
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

pub async fn call(
    state: &AppState,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

pub async fn get(state: &AppState, uri: &str, token: &str) -> Reply {
    call(state, Method::GET, uri, Some(token), None).await
}

pub async fn post(state: &AppState, uri: &str, token: &str, body: &Value) -> Reply {
    call(
        state,
        Method::POST,
        uri,
        Some(token),
        Some(&body.to_string()),
    )
    .await
}

pub async fn submit(state: &AppState, token: &str, model: Value, settings: Value) -> String {
    let r = post(
        state,
        "/v1/jobs",
        token,
        &serde_json::json!({"kind": "solve", "model": model, "settings": settings}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// Polls a job until `pred` holds on its view (or panics after `timeout`).
pub async fn wait_for(
    state: &AppState,
    token: &str,
    id: &str,
    timeout: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let r = get(state, &format!("/v1/jobs/{id}"), token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        if pred(&r.body) {
            return r.body;
        }
        assert!(
            start.elapsed() < timeout,
            "job {id} still {} after {timeout:?}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn is_final(v: &Value) -> bool {
    matches!(
        v["status"].as_str(),
        Some("succeeded" | "failed" | "cancelled")
    )
}

/// Splits a text/event-stream body into (event, id, data) triples.
pub fn parse_sse(text: &str) -> Vec<(String, Option<String>, String)> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut event = None;
            let mut id = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = Some(v.trim().to_string());
                } else if let Some(v) = line.strip_prefix("id:") {
                    id = Some(v.trim().to_string());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            event.map(|e| (e, id, data))
        })
        .collect()
}

// ---- a minimal HTTP/1.1 client for the real binary ----

pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpReply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn dechunk(mut raw: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = raw.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        raw = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// One request on a fresh connection (`Connection: close`), read to the end.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> HttpReply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or("");
    req.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    HttpReply {
        status,
        headers,
        body,
    }
}

/// A model body with `n` routes of one-letter ends (what a size-limit test counts), as text: a
/// million of them is about 22 MB, under the default 32 MiB body limit.
pub fn million_routes_body(n: usize) -> String {
    let mut s = String::with_capacity(n * 22 + 100);
    s.push_str(r#"{"materials":[{"id":"m"}],"countries":[{"code":"US"}],"routes":["#);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push_str(r#"{"from":"a","to":"b"}"#);
    }
    s.push_str("]}");
    s
}
