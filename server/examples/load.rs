//! Load benchmark of `stockade serve` on loopback: N concurrent clients each submit small solve
//! jobs one after another and wait for each on its event stream. Prints throughput and the p50
//! and p99 of the submit (202) latency and of the end-to-end latency (submit -> `finished`).
//!
//! ```sh
//! stockade keys create --tenant bench --role planner --database-url sqlite:///tmp/bench.db
//! stockade serve --database-url sqlite:///tmp/bench.db &
//! cargo run --release -p stockade-server --example load -- --token TOKEN --clients 8 --jobs 50
//! ```
//!
//! With `--soak SECONDS --pid SERVER_PID` it is a soak test instead (scripts/soak.sh runs it):
//! every client, for that long, picks at random among submitting a job (50 %), polling one of its
//! jobs (20 %), cancelling one (10 %), a synchronous solve (15 %) and listing jobs (5 %). It then
//! waits for every accepted job to end and checks: no answer but the documented ones (429 when
//! full; 409 when cancelling a finished job), every accepted job stored and ended (succeeded, or
//! cancelled after a cancel), as many jobs in the store as 202s, and the server's resident memory
//! (sampled every second from /proc) flat: the mean of the last quarter of the run within 25 %
//! (+ 16 MB) of the second quarter's. Exits 1 on any failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rand::{Rng, SeedableRng};

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
    let mut soak_s = 0.0f64;
    let mut pid = 0u32;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().expect("a value after the flag");
        match a.as_str() {
            "--addr" => addr = value(),
            "--token" => token = value(),
            "--clients" => clients = value().parse().expect("--clients N"),
            "--jobs" => jobs = value().parse().expect("--jobs M"),
            "--soak" => soak_s = value().parse().expect("--soak SECONDS"),
            "--pid" => pid = value().parse().expect("--pid SERVER_PID"),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(!token.is_empty(), "--token is required");
    if soak_s > 0.0 {
        let ok = soak(&addr, &token, clients, soak_s, pid);
        std::process::exit(if ok { 0 } else { 1 });
    }
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

/// Resident memory of a process, kB (0 when it cannot be read).
fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn job_id(raw: &str) -> Option<String> {
    raw.split("\"id\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(str::to_string)
}

fn job_status(raw: &str) -> Option<String> {
    raw.split("\"status\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(str::to_string)
}

#[derive(Default)]
struct Tally {
    answers: BTreeMap<String, usize>,
    unexpected: Vec<String>,
    accepted: Vec<(String, bool)>, // job id, a cancel was asked
}

fn mean(xs: &[u64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.iter().sum::<u64>() as f64 / xs.len() as f64
}

fn soak(addr: &str, token: &str, clients: usize, seconds: f64, pid: u32) -> bool {
    let job = format!(r#"{{"kind": "solve", "model": {MODEL}, "settings": {{"threads": 1}}}}"#);
    let sync = format!(r#"{{"model": {MODEL}, "settings": {{"threads": 1}}}}"#);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(Mutex::new(Vec::<(f64, u64)>::new()));
    let sampler = {
        let (stop, samples) = (stop.clone(), samples.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if pid != 0 {
                    let t = started.elapsed().as_secs_f64();
                    samples.lock().unwrap().push((t, rss_kb(pid)));
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };
    let tally = Arc::new(Mutex::new(Tally::default()));
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let (addr, token, job, sync, tally) = (
                addr.to_string(),
                token.to_string(),
                job.clone(),
                sync.clone(),
                tally.clone(),
            );
            std::thread::spawn(move || {
                let mut rng = rand::rngs::StdRng::seed_from_u64(c as u64 + 1);
                let mut mine: Vec<String> = Vec::new();
                let mut cancelled: Vec<String> = Vec::new();
                let mut answers: BTreeMap<String, usize> = BTreeMap::new();
                let mut unexpected = Vec::new();
                while Instant::now() < deadline {
                    let roll: u32 = rng.gen_range(0..100);
                    let (what, status, raw) = if roll < 50 || mine.is_empty() {
                        let (s, raw) = request(&addr, "POST", "/v1/jobs", &token, &job);
                        if s == 202 {
                            mine.push(job_id(&raw).expect("a 202 names its job"));
                        }
                        ("submit", s, raw)
                    } else if roll < 70 {
                        let id = &mine[rng.gen_range(0..mine.len())];
                        let (s, raw) = request(&addr, "GET", &format!("/v1/jobs/{id}"), &token, "");
                        ("poll", s, raw)
                    } else if roll < 80 {
                        let id = mine[rng.gen_range(0..mine.len())].clone();
                        let (s, raw) =
                            request(&addr, "DELETE", &format!("/v1/jobs/{id}"), &token, "");
                        if s == 200 || s == 202 {
                            cancelled.push(id);
                        }
                        ("cancel", s, raw)
                    } else if roll < 95 {
                        let (s, raw) = request(&addr, "POST", "/v1/solve", &token, &sync);
                        ("solve", s, raw)
                    } else {
                        let (s, raw) = request(&addr, "GET", "/v1/jobs?limit=20", &token, "");
                        ("list", s, raw)
                    };
                    *answers.entry(format!("{what} {status}")).or_default() += 1;
                    let expected = match what {
                        "submit" => matches!(status, 202 | 429),
                        "solve" => matches!(status, 200 | 429),
                        "cancel" => matches!(status, 200 | 202 | 409),
                        _ => status == 200,
                    };
                    if !expected && unexpected.len() < 5 {
                        unexpected.push(format!(
                            "{what} -> {status}: {}",
                            raw.chars().take(300).collect::<String>()
                        ));
                    }
                    if status == 429 {
                        std::thread::sleep(Duration::from_millis(rng.gen_range(50..250)));
                    }
                }
                let mut t = tally.lock().unwrap();
                for (k, v) in answers {
                    *t.answers.entry(k).or_default() += v;
                }
                t.unexpected.extend(unexpected);
                for id in mine {
                    let asked = cancelled.contains(&id);
                    t.accepted.push((id, asked));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("client thread");
    }
    let load_s = started.elapsed().as_secs_f64();
    // Every accepted job must end: wait up to 5 minutes for the queue to drain.
    let tally = Arc::try_unwrap(tally)
        .ok()
        .expect("clients done")
        .into_inner()
        .unwrap();
    let drain_deadline = Instant::now() + Duration::from_secs(300);
    let mut ends: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures: Vec<String> = tally.unexpected.clone();
    for (id, asked) in &tally.accepted {
        loop {
            let (s, raw) = request(addr, "GET", &format!("/v1/jobs/{id}"), token, "");
            let status = job_status(raw.split("\r\n\r\n").nth(1).unwrap_or(""));
            if s != 200 {
                failures.push(format!("job {id} lost: GET answered {s}"));
                break;
            }
            match status.as_deref() {
                Some("succeeded") => {
                    *ends.entry("succeeded".into()).or_default() += 1;
                    break;
                }
                Some("cancelled") if *asked => {
                    *ends.entry("cancelled".into()).or_default() += 1;
                    break;
                }
                Some(s @ ("failed" | "cancelled")) => {
                    failures.push(format!("job {id} ended {s} (cancel asked: {asked})"));
                    break;
                }
                _ if Instant::now() > drain_deadline => {
                    failures.push(format!("job {id} still {status:?} after the drain"));
                    break;
                }
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
    let drained_s = started.elapsed().as_secs_f64();
    // None lost: the store holds exactly the accepted jobs (this tenant's database is fresh).
    let mut stored = 0usize;
    let mut cursor = String::new();
    loop {
        let (s, raw) = request(
            addr,
            "GET",
            &format!("/v1/jobs?limit=500{cursor}"),
            token,
            "",
        );
        assert_eq!(s, 200, "{raw}");
        stored += raw.matches("\"links\":").count();
        match raw
            .split("\"next_cursor\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
        {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    if stored != tally.accepted.len() {
        failures.push(format!(
            "{} jobs accepted but {stored} in the store",
            tally.accepted.len()
        ));
    }
    stop.store(true, Ordering::Relaxed);
    sampler.join().ok();
    let samples = samples.lock().unwrap().clone();
    let during: Vec<u64> = samples
        .iter()
        .filter(|(t, _)| *t <= load_s)
        .map(|s| s.1)
        .collect();
    let q = during.len() / 4;
    let (second, last) = if q >= 1 {
        (mean(&during[q..2 * q]), mean(&during[during.len() - q..]))
    } else {
        (0.0, 0.0)
    };
    if pid != 0 && q >= 1 && last > second * 1.25 + 16_384.0 {
        failures.push(format!(
            "memory grew: mean RSS {second:.0} kB in the second quarter, {last:.0} kB in the last"
        ));
    }
    let requests: usize = tally.answers.values().sum();
    println!(
        "soak: {clients} clients for {load_s:.1} s: {requests} requests ({:.0}/s), {} jobs accepted, drained at {drained_s:.1} s",
        requests as f64 / load_s,
        tally.accepted.len()
    );
    println!("answers: {:?}", tally.answers);
    println!("jobs ended: {ends:?}; in the store: {stored}");
    if pid != 0 {
        let peak = samples.iter().map(|s| s.1).max().unwrap_or(0);
        println!(
            "server RSS: {} samples, first {} kB, second-quarter mean {second:.0} kB, last-quarter mean {last:.0} kB, peak {peak} kB",
            samples.len(),
            samples.first().map_or(0, |s| s.1)
        );
        let series: Vec<String> = samples
            .iter()
            .step_by((samples.len() / 12).max(1))
            .map(|(t, kb)| format!("{t:.0}s:{}MB", kb / 1024))
            .collect();
        println!("RSS over time: {}", series.join(" "));
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    failures.is_empty()
}
