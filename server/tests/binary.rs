//! The real `stockade serve` on a loopback port: a job end to end over HTTP with its events, a
//! graceful SIGTERM, and crash safety (kill -9 mid-solve, restart, the jobs finish).
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db_url: &str, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stockade"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", db_url])
        .args(extra)
        .env("STOCKADE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    // Keep draining, so a later line cannot meet a closed pipe.
    std::thread::spawn(move || for _ in reader.lines() {});
    let addr = line
        .trim()
        .strip_prefix("stockade listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Server { child, addr }
}

fn create_key(db_url: &str, tenant: &str, role: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_stockade"))
        .args([
            "keys",
            "create",
            "--tenant",
            tenant,
            "--role",
            role,
            "--json",
            "--database-url",
            db_url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["token"].as_str().unwrap().to_string()
}

fn submit_http(addr: &str, token: &str, model: Value, settings: Value) -> String {
    let body = json!({"kind": "solve", "model": model, "settings": settings}).to_string();
    let r = http(addr, "POST", "/v1/jobs", Some(token), Some(&body));
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/jobs/{id}").as_str())
    );
    id
}

fn poll(
    addr: &str,
    token: &str,
    id: &str,
    timeout: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let r = http(addr, "GET", &format!("/v1/jobs/{id}"), Some(token), None);
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        if pred(&v) {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "job {id} still {v} after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_job_over_real_http_then_graceful_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let token = create_key(&db, "acme", "planner");
    let mut server = start(&db, &["--workers", "1"]);
    let addr = server.addr.clone();
    assert_eq!(http(&addr, "GET", "/healthz", None, None).status, 200);
    assert_eq!(http(&addr, "GET", "/v1/jobs", None, None).status, 401);

    let id = submit_http(&addr, &token, cap41(), json!({"threads": 1}));
    // The event stream over a real socket: it ends after `finished`.
    let events = http(
        &addr,
        "GET",
        &format!("/v1/jobs/{id}/events"),
        Some(&token),
        None,
    );
    assert_eq!(events.status, 200);
    let kinds: Vec<String> = parse_sse(&events.body).into_iter().map(|e| e.0).collect();
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("queued"),
        "{kinds:?}"
    );
    assert_eq!(
        kinds.get(1).map(String::as_str),
        Some("started"),
        "{kinds:?}"
    );
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("finished"),
        "{kinds:?}"
    );
    let done = poll(&addr, &token, &id, Duration::from_secs(60), is_final);
    assert_eq!(done["status"], "succeeded");
    let result = http(
        &addr,
        "GET",
        &format!("/v1/jobs/{id}/result"),
        Some(&token),
        None,
    );
    assert_eq!(result.status, 200);
    let objective = result.json()["objective"].as_f64().unwrap();
    // cap41's published optimum (DEV-OPTIMA.md).
    assert!(
        (objective - CAP41_OPTIMUM).abs() / CAP41_OPTIMUM < 1e-6,
        "{objective}"
    );

    // SIGTERM: the server drains and exits 0.
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn kill_9_mid_solve_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("crash.db").display());
    let token = create_key(&db, "acme", "planner");
    let server = start(&db, &["--workers", "1"]);
    let addr = server.addr.clone();
    // A long solve (capa, 6 s limit) and a quick one queued behind it on the single worker.
    let long = submit_http(
        &addr,
        &token,
        hard(),
        json!({"time_limit_s": 6.0, "threads": 1}),
    );
    let quick = submit_http(&addr, &token, cap41(), json!({"threads": 1}));
    poll(&addr, &token, &long, Duration::from_secs(30), |v| {
        v["status"] == "running" && v["progress"]["elapsed_s"].as_f64().is_some_and(|t| t > 0.5)
    });
    assert_eq!(
        http(
            &addr,
            "GET",
            &format!("/v1/jobs/{quick}"),
            Some(&token),
            None
        )
        .json()["status"],
        "queued"
    );
    let mut server = server;
    server.child.kill().unwrap(); // SIGKILL: no shutdown code runs
    server.child.wait().unwrap();
    drop(server);

    let server = start(&db, &["--workers", "1"]);
    let addr = server.addr.clone();
    let long_done = poll(&addr, &token, &long, Duration::from_secs(90), is_final);
    assert_eq!(long_done["status"], "succeeded", "{long_done}");
    assert_eq!(long_done["attempts"], 2, "{long_done}");
    assert_eq!(long_done["solver_status"], "time_limit");
    let quick_done = poll(&addr, &token, &quick, Duration::from_secs(90), is_final);
    assert_eq!(quick_done["status"], "succeeded");
    assert_eq!(quick_done["solver_status"], "optimal");
    // The long job's history shows the restart.
    let events = http(
        &addr,
        "GET",
        &format!("/v1/jobs/{long}/events"),
        Some(&token),
        None,
    );
    let kinds: Vec<String> = parse_sse(&events.body).into_iter().map(|e| e.0).collect();
    assert_eq!(
        kinds,
        ["queued", "started", "queued", "started", "finished"]
    );
    let listed = http(&addr, "GET", "/v1/jobs", Some(&token), None).json();
    assert_eq!(listed["jobs"].as_array().unwrap().len(), 2);
}

#[test]
fn sigterm_mid_solve_requeues_the_job_for_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("term.db").display());
    let token = create_key(&db, "acme", "planner");
    let mut server = start(&db, &["--workers", "1"]);
    let addr = server.addr.clone();
    let long = submit_http(
        &addr,
        &token,
        hard(),
        json!({"time_limit_s": 6.0, "threads": 1}),
    );
    poll(&addr, &token, &long, Duration::from_secs(30), |v| {
        v["status"] == "running" && v["progress"]["elapsed_s"].as_f64().is_some_and(|t| t > 0.5)
    });
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let start_wait = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start_wait.elapsed() < Duration::from_secs(30),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    drop(server);

    let server = start(&db, &["--workers", "1"]);
    let addr = server.addr.clone();
    let done = poll(&addr, &token, &long, Duration::from_secs(90), is_final);
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["attempts"], 2);
    let events = http(
        &addr,
        "GET",
        &format!("/v1/jobs/{long}/events"),
        Some(&token),
        None,
    );
    let parsed = parse_sse(&events.body);
    let kinds: Vec<&str> = parsed.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        kinds,
        ["queued", "started", "queued", "started", "finished"]
    );
    assert!(parsed[2].2.contains("shut down"), "{}", parsed[2].2);
}
