//! Load benchmark of `stockade serve` on loopback: N concurrent clients each submit small solve
//! jobs one after another and wait for each on its event stream. Prints throughput and the p50
//! and p99 of the submit (202) latency and of the end-to-end latency (submit -> `finished`).
//!
//! ```sh
//! stockade keys create --tenant bench --role planner --database-url sqlite:///tmp/bench.db
//! stockade serve --database-url sqlite:///tmp/bench.db &
//! cargo run --release -p stockade-server --example load -- --token TOKEN --clients 8 --jobs 50
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The README's two-site model: a small MIP (milliseconds in HiGHS).
const MODEL: &str = r#"{
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
}"#;

fn request(addr: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(300))).ok();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, raw)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut token = String::new();
    let mut clients = 8usize;
    let mut jobs = 25usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().expect("a value after the flag");
        match a.as_str() {
            "--addr" => addr = value(),
            "--token" => token = value(),
            "--clients" => clients = value().parse().expect("--clients N"),
            "--jobs" => jobs = value().parse().expect("--jobs M"),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(!token.is_empty(), "--token is required");
    let body = format!(r#"{{"kind": "solve", "model": {MODEL}, "settings": {{"threads": 1}}}}"#);
    let started = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let (addr, token, body) = (addr.clone(), token.clone(), body.clone());
            std::thread::spawn(move || {
                let mut submit = Vec::new();
                let mut end_to_end = Vec::new();
                let mut rejected = 0usize;
                for _ in 0..jobs {
                    let t0 = Instant::now();
                    let (status, raw) = request(&addr, "POST", "/v1/jobs", &token, &body);
                    if status == 429 {
                        rejected += 1;
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    }
                    assert_eq!(status, 202, "{raw}");
                    submit.push(t0.elapsed().as_secs_f64());
                    let id = raw
                        .split("\"id\":\"")
                        .nth(1)
                        .and_then(|r| r.split('"').next())
                        .expect("job id")
                        .to_string();
                    let (status, events) =
                        request(&addr, "GET", &format!("/v1/jobs/{id}/events"), &token, "");
                    assert_eq!(status, 200);
                    assert!(events.contains("event: finished"), "{events}");
                    assert!(events.contains(r#""status":"succeeded""#), "{events}");
                    end_to_end.push(t0.elapsed().as_secs_f64());
                }
                (submit, end_to_end, rejected)
            })
        })
        .collect();
    let mut submit = Vec::new();
    let mut end_to_end = Vec::new();
    let mut rejected = 0;
    for h in handles {
        let (s, e, r) = h.join().expect("client thread");
        submit.extend(s);
        end_to_end.extend(e);
        rejected += r;
    }
    let wall = started.elapsed().as_secs_f64();
    submit.sort_by(f64::total_cmp);
    end_to_end.sort_by(f64::total_cmp);
    println!(
        "clients {clients}, jobs {} done ({rejected} answered 429) in {wall:.2} s: {:.1} jobs/s",
        end_to_end.len(),
        end_to_end.len() as f64 / wall
    );
    println!(
        "submit (202) latency: p50 {:.1} ms, p99 {:.1} ms",
        percentile(&submit, 50.0) * 1e3,
        percentile(&submit, 99.0) * 1e3
    );
    println!(
        "end to end (submit -> finished event): p50 {:.1} ms, p99 {:.1} ms",
        percentile(&end_to_end, 50.0) * 1e3,
        percentile(&end_to_end, 99.0) * 1e3
    );
}
