//! Counters and the solve-duration histogram behind `GET /metrics` (Prometheus text format).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds of the solve-duration buckets, seconds.
const BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 300.0, 1800.0];

/// The service's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Jobs accepted.
    pub submitted: AtomicU64,
    /// Submissions refused because the queue was full.
    pub queue_full: AtomicU64,
    /// Requests without a valid key.
    pub auth_failures: AtomicU64,
    /// Requests with a key whose role is too low.
    pub forbidden: AtomicU64,
    /// Synchronous solves served.
    pub sync_solves: AtomicU64,
    finished: Mutex<BTreeMap<String, u64>>,
    solve: Mutex<Histogram>,
}

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Metrics {
    /// Counts a job that ended in `status`.
    pub fn finished(&self, status: &str) {
        *lock(&self.finished).entry(status.to_string()).or_default() += 1;
    }

    /// Records a solve's wall time (seconds, queue wait excluded).
    pub fn observe_solve(&self, seconds: f64) {
        let mut h = lock(&self.solve);
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// The Prometheus exposition: these counters plus the gauges passed in.
    pub fn render(
        &self,
        jobs_by_state: &[(String, i64)],
        queue_len: usize,
        running: usize,
        workers: usize,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP stockade_jobs Jobs in the store by state.");
        let _ = writeln!(out, "# TYPE stockade_jobs gauge");
        for state in crate::store::status::ALL {
            let n = jobs_by_state
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, n)| *n);
            let _ = writeln!(out, "stockade_jobs{{state=\"{state}\"}} {n}");
        }
        let gauges = [
            (
                "stockade_queue_length",
                "Jobs waiting for a worker.",
                queue_len,
            ),
            ("stockade_jobs_running", "Solves running now.", running),
            ("stockade_workers", "Size of the worker pool.", workers),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        let counters = [
            (
                "stockade_jobs_submitted_total",
                "Jobs accepted.",
                &self.submitted,
            ),
            (
                "stockade_queue_full_total",
                "Submissions refused with 429.",
                &self.queue_full,
            ),
            (
                "stockade_auth_failures_total",
                "Requests answered 401.",
                &self.auth_failures,
            ),
            (
                "stockade_forbidden_total",
                "Requests answered 403.",
                &self.forbidden,
            ),
            (
                "stockade_sync_solves_total",
                "Synchronous solves served.",
                &self.sync_solves,
            ),
        ];
        for (name, help, value) in counters {
            let v = value.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP stockade_jobs_finished_total Jobs ended, by final state."
        );
        let _ = writeln!(out, "# TYPE stockade_jobs_finished_total counter");
        for (status, n) in lock(&self.finished).iter() {
            let _ = writeln!(
                out,
                "stockade_jobs_finished_total{{state=\"{status}\"}} {n}"
            );
        }
        let h = lock(&self.solve);
        let _ = writeln!(
            out,
            "# HELP stockade_solve_duration_seconds Wall time of job solves."
        );
        let _ = writeln!(out, "# TYPE stockade_solve_duration_seconds histogram");
        for (bound, n) in BUCKETS.iter().zip(h.counts.iter()) {
            let _ = writeln!(
                out,
                "stockade_solve_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "stockade_solve_duration_seconds_bucket{{le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(out, "stockade_solve_duration_seconds_sum {}", h.sum);
        let _ = writeln!(out, "stockade_solve_duration_seconds_count {}", h.count);
        out
    }
}
