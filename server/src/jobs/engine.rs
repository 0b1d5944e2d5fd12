//! The engine: the bounded queue, the worker pool, cancellation, live events, and one job's run
//! from claim to stored outcome.

use super::*;

/// A solve in progress.
#[derive(Debug)]
pub(super) struct RunningJob {
    /// Wired to HiGHS's interrupt callback.
    pub(super) interrupt: Arc<AtomicBool>,
    /// A caller asked to cancel (as opposed to a shutdown).
    pub(super) user_cancel: AtomicBool,
    /// Latest progress report.
    pub(super) progress: Mutex<Option<Progress>>,
    /// Scenarios done and in all (scenario-by-scenario analyses).
    pub(super) scenarios: Mutex<Option<(usize, usize)>>,
}

/// Shared state of the service: the store, the configuration, the queue and the workers.
#[derive(Debug)]
pub struct Engine {
    /// The job store.
    pub store: Store,
    /// The configuration.
    pub config: ServerConfig,
    /// Counters and histograms for `/metrics`.
    pub metrics: Metrics,
    /// Worker slots (solves at once).
    pub workers: Arc<Semaphore>,
    pub(super) queue_tx: mpsc::UnboundedSender<String>,
    pub(super) queued: AtomicUsize,
    pub(super) running: Mutex<HashMap<String, Arc<RunningJob>>>,
    pub(super) hubs: Mutex<HashMap<String, broadcast::Sender<LiveEvent>>>,
    pub(super) shutdown_tx: watch::Sender<bool>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these maps leaves it consistent (single inserts/removes).
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why a submission was not queued.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The queue holds `queue_capacity` jobs.
    #[error("the job queue is full")]
    QueueFull,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a cancellation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The job was queued and is now cancelled.
    CancelledQueued,
    /// The job is running; its solve was asked to stop.
    Stopping,
    /// The job had already ended.
    AlreadyFinished,
}

impl Engine {
    /// Opens the engine on a migrated store: recovers the jobs a crash left behind and starts
    /// the dispatcher. Needs a tokio runtime.
    pub async fn start(store: Store, config: ServerConfig) -> Result<Arc<Engine>, StoreError> {
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let (shutdown_tx, _) = watch::channel(false);
        let engine = Arc::new(Engine {
            store,
            workers: Arc::new(Semaphore::new(config.workers.max(1))),
            config,
            metrics: Metrics::default(),
            queue_tx,
            queued: AtomicUsize::new(0),
            running: Mutex::new(HashMap::new()),
            hubs: Mutex::new(HashMap::new()),
            shutdown_tx,
        });
        let recovered = engine.store.recover().await?;
        if !recovered.is_empty() {
            info!(
                jobs = recovered.len(),
                "queued again the jobs found unfinished"
            );
        }
        for id in recovered {
            // Recovered jobs were accepted before: they may exceed the queue's capacity.
            engine.queued.fetch_add(1, Ordering::SeqCst);
            let _ = engine.queue_tx.send(id);
        }
        tokio::spawn(dispatch(engine.clone(), queue_rx));
        Ok(engine)
    }

    /// Jobs waiting for a worker.
    pub fn queue_len(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// Solves running now.
    pub fn running_len(&self) -> usize {
        lock(&self.running).len()
    }

    /// Whether shutdown has begun.
    pub fn shutting_down(&self) -> bool {
        *self.shutdown_tx.borrow()
    }

    /// Resolves when shutdown begins.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown_tx.subscribe()
    }

    /// Commits a job and queues it; 429 territory when the queue is full.
    pub async fn submit(
        &self,
        id: &str,
        tenant: &str,
        kind: JobKind,
        input: &StoredInput,
        key_id: &str,
    ) -> Result<crate::store::JobRecord, SubmitError> {
        let prev = self.queued.fetch_add(1, Ordering::SeqCst);
        if prev >= self.config.queue_capacity {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            self.metrics.queue_full.fetch_add(1, Ordering::Relaxed);
            return Err(SubmitError::QueueFull);
        }
        let text = match serde_json::to_string(input) {
            Ok(t) => t,
            Err(e) => {
                self.queued.fetch_sub(1, Ordering::SeqCst);
                return Err(SubmitError::Store(StoreError::Database(
                    sqlx::Error::Encode(Box::new(e)),
                )));
            }
        };
        let job = match self
            .store
            .insert_job(id, tenant, kind.as_str(), &text, key_id)
            .await
        {
            Ok(job) => job,
            Err(e) => {
                self.queued.fetch_sub(1, Ordering::SeqCst);
                return Err(e.into());
            }
        };
        self.metrics.submitted.fetch_add(1, Ordering::Relaxed);
        // The queue lives as long as the dispatcher; after shutdown the job stays queued in the
        // store and the next start picks it up.
        let _ = self.queue_tx.send(id.to_string());
        Ok(job)
    }

    /// Cancels a job (already known to belong to the caller's tenant).
    pub async fn cancel(&self, id: &str) -> Result<CancelOutcome, StoreError> {
        let event = r#"{"status":"cancelled","reason":"cancelled while queued"}"#;
        if let Some(seq) = self.store.cancel_queued(id, event).await? {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            self.metrics.finished("cancelled");
            self.publish(
                id,
                LiveEvent {
                    seq: Some(seq),
                    kind: "finished".into(),
                    data: event.into(),
                },
            );
            self.drop_hub(id);
            return Ok(CancelOutcome::CancelledQueued);
        }
        let job = lock(&self.running).get(id).cloned();
        if let Some(job) = job {
            self.store.request_cancel(id).await?;
            job.user_cancel.store(true, Ordering::SeqCst);
            job.interrupt.store(true, Ordering::SeqCst);
            return Ok(CancelOutcome::Stopping);
        }
        // Running in the store but not here: claimed a moment ago, or owned by a server that
        // died. Record the request; the worker (or the next start-up) honours it.
        if self.store.request_cancel(id).await? {
            if let Some(job) = lock(&self.running).get(id).cloned() {
                job.user_cancel.store(true, Ordering::SeqCst);
                job.interrupt.store(true, Ordering::SeqCst);
            }
            return Ok(CancelOutcome::Stopping);
        }
        Ok(CancelOutcome::AlreadyFinished)
    }

    /// Latest progress of a running job.
    pub fn progress(&self, id: &str) -> Option<Progress> {
        let job = lock(&self.running).get(id).cloned()?;
        let p = *lock(&job.progress);
        p
    }

    /// Scenarios done and in all of a running evaluation.
    pub fn scenario_progress(&self, id: &str) -> Option<(usize, usize)> {
        let job = lock(&self.running).get(id).cloned()?;
        let p = *lock(&job.scenarios);
        p
    }

    /// A receiver of a job's live events (created on first use).
    pub fn subscribe(&self, id: &str) -> broadcast::Receiver<LiveEvent> {
        lock(&self.hubs)
            .entry(id.to_string())
            .or_insert_with(|| broadcast::channel(256).0)
            .subscribe()
    }

    pub(super) fn publish(&self, id: &str, event: LiveEvent) {
        if let Some(hub) = lock(&self.hubs).get(id) {
            let _ = hub.send(event);
        }
    }

    /// Forgets a job's live channel once nobody listens (after its end).
    pub fn drop_hub(&self, id: &str) {
        let mut hubs = lock(&self.hubs);
        if hubs.get(id).is_some_and(|h| h.receiver_count() == 0) {
            hubs.remove(id);
        }
    }

    /// Begins shutdown: no new job starts; after the grace period running solves are
    /// interrupted and go back to the queue. Returns when every worker is idle (or after 60 s).
    pub async fn shutdown(&self) {
        let _ = self.shutdown_tx.send(true);
        let all = u32::try_from(self.config.workers.max(1)).unwrap_or(u32::MAX);
        let grace = Duration::from_secs_f64(self.config.shutdown_grace_s.max(0.0));
        if tokio::time::timeout(grace, self.workers.acquire_many(all))
            .await
            .is_ok()
        {
            return;
        }
        let running: Vec<_> = lock(&self.running).values().cloned().collect();
        info!(
            jobs = running.len(),
            "interrupting running solves for shutdown"
        );
        for job in running {
            job.interrupt.store(true, Ordering::SeqCst);
        }
        if tokio::time::timeout(Duration::from_secs(60), self.workers.acquire_many(all))
            .await
            .is_err()
        {
            warn!("solves still running 60 s after the interrupt; they will be rerun at start-up");
        }
    }
}

async fn dispatch(engine: Arc<Engine>, mut rx: mpsc::UnboundedReceiver<String>) {
    let mut shutdown = engine.shutdown_signal();
    loop {
        let id = tokio::select! {
            id = rx.recv() => id,
            _ = async { let _ = shutdown.wait_for(|s| *s).await; } => None,
        };
        let Some(id) = id else { break };
        let permit = tokio::select! {
            p = engine.workers.clone().acquire_owned() => p.ok(),
            _ = async { let _ = shutdown.wait_for(|s| *s).await; } => None,
        };
        let Some(permit) = permit else { break };
        let span = info_span!("job", id = %id);
        tokio::spawn(run_job(engine.clone(), id, permit).instrument(span));
    }
}

async fn run_job(engine: Arc<Engine>, id: String, permit: OwnedSemaphorePermit) {
    if let Err(e) = run_job_inner(&engine, &id).await {
        error!(error = %e, "job store failure; the job stays in the store and is retried at start-up");
    }
    drop(permit);
}

async fn run_job_inner(engine: &Arc<Engine>, id: &str) -> Result<(), StoreError> {
    let Some((job, started_seq)) = engine.store.claim_job(id).await? else {
        // Cancelled while queued (the cancel already took it off the count).
        return Ok(());
    };
    engine.queued.fetch_sub(1, Ordering::SeqCst);
    let running = Arc::new(RunningJob {
        interrupt: Arc::new(AtomicBool::new(false)),
        user_cancel: AtomicBool::new(false),
        progress: Mutex::new(None),
        scenarios: Mutex::new(None),
    });
    lock(&engine.running).insert(id.to_string(), running.clone());
    engine.publish(
        id,
        LiveEvent {
            seq: Some(started_seq),
            kind: "started".into(),
            data: format!(r#"{{"attempt":{}}}"#, job.attempts),
        },
    );
    if job.cancel_requested || engine.shutting_down() {
        // A cancel arrived between the claim and the registration, or shutdown began.
        running
            .user_cancel
            .store(job.cancel_requested, Ordering::SeqCst);
        running.interrupt.store(true, Ordering::SeqCst);
    }
    info!(kind = %job.kind, attempt = job.attempts, "job started");

    let parsed =
        JobKind::parse(&job.kind).ok_or_else(|| format!("unknown job kind `{}`", job.kind));
    let input = parsed.and_then(|kind| {
        serde_json::from_str::<StoredInput>(&job.input)
            .map(|input| (kind, input))
            .map_err(|e| format!("stored input unreadable: {e}"))
    });
    let started = Instant::now();
    let outcome = match input {
        Err(message) => Err(failure("internal", &message, Vec::new())),
        Ok((kind, input)) => {
            let control = SolveControl {
                cancel: Some(running.interrupt.clone()),
                progress: Some(progress_sink(
                    engine.clone(),
                    id.to_string(),
                    running.clone(),
                )),
            };
            let span = tracing::Span::current();
            let counted = if kind == JobKind::Sweep {
                "variants"
            } else {
                "scenarios"
            };
            let scenarios = scenario_sink(engine.clone(), id.to_string(), running.clone(), counted);
            let joined = tokio::task::spawn_blocking(move || {
                let _entered = span.enter();
                run_analysis(kind, &input, &control, &scenarios)
            })
            .await;
            match joined {
                Ok(Ok(output)) => Ok(output),
                Ok(Err(StockadeError::Input(e))) => {
                    let details = e
                        .problems
                        .iter()
                        .map(|p| serde_json::json!({"path": format!("model.{}", p.path), "message": p.message}))
                        .collect();
                    Err(failure("invalid_input", "the model is not valid", details))
                }
                Ok(Err(e)) => Err(failure("solver_failure", &e.to_string(), Vec::new())),
                Err(join) => Err(failure(
                    "internal",
                    &format!("the analysis stopped abnormally: {join}"),
                    Vec::new(),
                )),
            }
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    lock(&engine.running).remove(id);

    let outcome = match outcome {
        Ok(output) if output.interrupted && !running.user_cancel.load(Ordering::SeqCst) => {
            // Interrupted by shutdown: back to the queue, to be solved again after the restart.
            engine
                .store
                .requeue_job(id, "the server shut down during the solve")
                .await?;
            info!("job interrupted by shutdown; queued again");
            return Ok(());
        }
        Ok(output) => {
            engine.metrics.observe_solve(elapsed);
            let status = if output.interrupted
                || (running.user_cancel.load(Ordering::SeqCst)
                    && kind_is_uninterruptible(&job.kind))
            {
                status::CANCELLED
            } else {
                status::SUCCEEDED
            };
            JobOutcome {
                status,
                event: serde_json::json!({
                    "status": status,
                    "solver_status": output.solver_status,
                    "objective": output.objective,
                })
                .to_string(),
                result: Some(output.result.to_string()),
                error: None,
                solver_status: Some(output.solver_status),
                objective: output.objective,
            }
        }
        Err(err) => JobOutcome {
            status: status::FAILED,
            event: serde_json::json!({"status": status::FAILED, "error": err}).to_string(),
            result: None,
            error: Some(err.to_string()),
            solver_status: None,
            objective: None,
        },
    };
    if let Some(seq) = engine.store.finish_job(id, &outcome).await? {
        engine.metrics.finished(outcome.status);
        info!(status = outcome.status, elapsed_s = elapsed, "job finished");
        engine.publish(
            id,
            LiveEvent {
                seq: Some(seq),
                kind: "finished".into(),
                data: outcome.event,
            },
        );
    }
    engine.drop_hub(id);
    Ok(())
}

/// Analyses that run to the end once started (no interrupt hook): a cancel marks them
/// `cancelled` at the end, result kept.
pub(super) fn kind_is_uninterruptible(kind: &str) -> bool {
    matches!(
        JobKind::parse(kind),
        Some(JobKind::Evaluate | JobKind::Share)
    )
}

/// Scenario progress: kept as the job's latest and sent to live subscribers at most every
/// 200 ms (and at the last scenario).
pub(super) fn scenario_sink(
    engine: Arc<Engine>,
    id: String,
    running: Arc<RunningJob>,
    counted: &'static str,
) -> impl Fn(usize, usize) + Sync + Send {
    let started = Instant::now();
    let last_sent: Mutex<Option<Instant>> = Mutex::new(None);
    move |done: usize, total: usize| {
        *lock(&running.scenarios) = Some((done, total));
        let mut last = lock(&last_sent);
        let due = done == total || last.is_none_or(|at| at.elapsed() >= Duration::from_millis(200));
        if due {
            *last = Some(Instant::now());
            let data = serde_json::json!({
                "elapsed_s": started.elapsed().as_secs_f64(),
                format!("{counted}_done"): done,
                format!("{counted}_total"): total,
            })
            .to_string();
            engine.publish(
                &id,
                LiveEvent {
                    seq: None,
                    kind: "progress".into(),
                    data,
                },
            );
        }
    }
}

pub(super) fn failure(
    code: &str,
    message: &str,
    details: Vec<serde_json::Value>,
) -> serde_json::Value {
    serde_json::json!({"code": code, "message": message, "details": details})
}

/// Progress from HiGHS's callbacks: kept as the job's latest and sent to live subscribers, at
/// most every 200 ms unless the incumbent improved.
pub(super) fn progress_sink(
    engine: Arc<Engine>,
    id: String,
    running: Arc<RunningJob>,
) -> stockade::solver::ProgressSink {
    let last_sent: Mutex<Option<(Instant, Option<f64>)>> = Mutex::new(None);
    Box::new(move |p: &Progress| {
        *lock(&running.progress) = Some(*p);
        let mut last = lock(&last_sent);
        let due = match *last {
            None => true,
            Some((at, incumbent)) => {
                at.elapsed() >= Duration::from_millis(200) || incumbent != p.incumbent
            }
        };
        if due {
            *last = Some((Instant::now(), p.incumbent));
            let data = serde_json::to_string(p).unwrap_or_else(|_| "{}".into());
            engine.publish(
                &id,
                LiveEvent {
                    seq: None,
                    kind: "progress".into(),
                    data,
                },
            );
        }
    })
}
