//! Job endpoints: synchronous solves, submitting, listing, reading, cancelling and following jobs.

use super::*;

/// Sets the cancel flag when the request goes away (client disconnect), so the solve stops.
pub(super) struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Solves a small model synchronously; the answer is what `stockade solve --json` prints.
#[utoipa::path(post, path = "/v1/solve", tag = "models", security(("bearer" = [])),
    request_body = SolveRequest,
    responses((status = 200, description = "The solve result (as `stockade solve --json`)",
               body = SolveResultSchema),
              (status = 400, body = error::ErrorBody), (status = 401, body = error::ErrorBody),
              (status = 403, body = error::ErrorBody), (status = 413, body = error::ErrorBody),
              (status = 422, body = error::ErrorBody), (status = 429, body = error::ErrorBody),
              (status = 503, body = error::ErrorBody, description = "The job store cannot write")))]
pub async fn solve_sync(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    caller
        .require(&state, Role::Planner, "model.solve", None)
        .await?;
    let input = check_solve_request(body, &state.config)?;
    let wait = Duration::from_secs_f64(state.config.sync_wait_s.max(0.0));
    let permit = tokio::time::timeout(wait, state.workers.clone().acquire_owned())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| ApiError::TooManyRequests {
            message: "every worker is busy".into(),
            retry_after_s: state.config.retry_after_s,
        })?;
    let cancel = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancel.clone());
    let span = info_span!("sync_solve", tenant = %caller.tenant);
    let output = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let control = SolveControl {
            cancel: Some(cancel),
            progress: None,
        };
        let out = run_analysis(JobKind::Solve, &input, &control, &|_, _| {});
        drop(permit);
        out
    })
    .await
    .map_err(|e| ApiError::Internal(format!("solve task: {e}")))?;
    let output = match output {
        Ok(o) => o,
        Err(StockadeError::Input(e)) => {
            return Err(ApiError::Invalid {
                message: "the model is not valid".into(),
                details: e
                    .problems
                    .into_iter()
                    .map(|p| ErrorDetail {
                        path: json_path("model", &p.path),
                        message: p.message,
                    })
                    .collect(),
            })
        }
        Err(e) => return Err(ApiError::SolverFailure(e.to_string())),
    };
    state.metrics.sync_solves.fetch_add(1, Ordering::Relaxed);
    caller
        .audit(
            &state,
            "model.solve",
            None,
            "ok",
            Some(serde_json::json!({"solver_status": output.solver_status, "objective": output.objective})),
        )
        .await?;
    Ok(Json(output.result))
}

/// Submits a job: its input is committed before the 202.
#[utoipa::path(post, path = "/v1/jobs", tag = "jobs", security(("bearer" = [])),
    request_body = JobRequest,
    responses((status = 202, body = JobView, description = "Accepted; `Location` names the job"),
              (status = 400, body = error::ErrorBody), (status = 401, body = error::ErrorBody),
              (status = 403, body = error::ErrorBody), (status = 413, body = error::ErrorBody),
              (status = 422, body = error::ErrorBody),
              (status = 429, body = error::ErrorBody, description = "Queue full; see Retry-After"),
              (status = 503, body = error::ErrorBody, description = "The job store cannot write")))]
pub async fn submit_job(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    caller
        .require(&state, Role::Planner, "job.submit", None)
        .await?;
    if state.shutting_down() {
        return Err(ApiError::Unavailable("shutting down".into()));
    }
    let (kind, input) = check_job_request(body, &state.config)?;
    let id = format!("job_{}", auth::random_hex(16));
    let job = match state
        .submit(&id, &caller.tenant, kind, &input, &caller.key_id)
        .await
    {
        Ok(job) => job,
        Err(SubmitError::QueueFull) => {
            caller
                .audit(&state, "job.submit", None, "queue_full", None)
                .await?;
            return Err(ApiError::TooManyRequests {
                message: format!(
                    "the job queue is full ({} waiting); retry later",
                    state.config.queue_capacity
                ),
                retry_after_s: state.config.retry_after_s,
            });
        }
        Err(SubmitError::Store(e)) => return Err(e.into()),
    };
    caller
        .audit(
            &state,
            "job.submit",
            Some(&id),
            "ok",
            Some(serde_json::json!({"kind": kind.as_str()})),
        )
        .await?;
    let location = format!("/v1/jobs/{id}");
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(job_view(&state, &job)),
    )
        .into_response())
}

/// Lists the caller's tenant's jobs.
#[utoipa::path(get, path = "/v1/jobs", tag = "jobs", security(("bearer" = [])),
    params(ListJobsQuery),
    responses((status = 200, body = JobPage), (status = 400, body = error::ErrorBody),
              (status = 401, body = error::ErrorBody), (status = 422, body = error::ErrorBody),
              (status = 503, body = error::ErrorBody, description = "The job store cannot write")))]
pub async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<ListJobsQuery>, QueryRejection>,
) -> Result<Json<JobPage>, ApiError> {
    caller
        .require(&state, Role::Viewer, "job.list", None)
        .await?;
    let q = query(q)?;
    if let Some(s) = &q.status {
        if !status::ALL.contains(&s.as_str()) {
            return Err(ApiError::invalid(
                "status",
                format!("unknown status `{s}`; one of {}", status::ALL.join(", ")),
            ));
        }
    }
    let limit = page_limit(q.limit)?;
    let jobs = state
        .store
        .list_jobs(
            &caller.tenant,
            &JobQuery {
                status: q.status,
                before_seq: cursor(q.cursor)?,
                limit,
            },
        )
        .await?;
    caller.audit(&state, "job.list", None, "ok", None).await?;
    let next_cursor = (jobs.len() as i64 == limit)
        .then(|| jobs.last().map(|j| j.seq.to_string()))
        .flatten();
    Ok(Json(JobPage {
        jobs: jobs.iter().map(|j| job_view(&state, j)).collect(),
        next_cursor,
    }))
}

/// One job with its status and latest progress.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = JobView), (status = 401, body = error::ErrorBody),
              (status = 404, body = error::ErrorBody),
              (status = 503, body = error::ErrorBody, description = "The job store cannot write")))]
pub async fn get_job(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    caller
        .require(&state, Role::Viewer, "job.read", Some(&id))
        .await?;
    let job = caller.job(&state, &id, "job.read").await?;
    caller
        .audit(&state, "job.read", Some(&id), "ok", None)
        .await?;
    Ok(Json(job_view(&state, &job)))
}

/// A job's result: the JSON `stockade solve --json` prints for the same input.
#[utoipa::path(get, path = "/v1/jobs/{id}/result", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, description = "The result", body = JobResult),
              (status = 401, body = error::ErrorBody), (status = 404, body = error::ErrorBody),
              (status = 409, body = error::ErrorBody, description = "Not finished, or failed"),
              (status = 503, body = error::ErrorBody, description = "The job store cannot write")))]
pub async fn job_result(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller
        .require(&state, Role::Viewer, "job.result", Some(&id))
        .await?;
    let job = caller.job(&state, &id, "job.result").await?;
    caller
        .audit(&state, "job.result", Some(&id), "ok", None)
        .await?;
    if let Some(result) = job.result {
        return Ok(([(header::CONTENT_TYPE, "application/json")], result).into_response());
    }
    if job.status == status::FAILED {
        let error: Value = job
            .error
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok())
            .unwrap_or(Value::Null);
        let details = error["details"]
            .as_array()
            .map(|ds| {
                ds.iter()
                    .map(|d| ErrorDetail {
                        path: d["path"].as_str().unwrap_or_default().to_string(),
                        message: d["message"].as_str().unwrap_or_default().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        return Err(ApiError::JobFailed {
            message: error["message"]
                .as_str()
                .unwrap_or("the job failed")
                .to_string(),
            details,
        });
    }
    Err(ApiError::Conflict {
        code: "not_finished",
        message: format!("job `{id}` is {}; it has no result yet", job.status),
    })
}

/// Cancels a job: a queued one at once; a running solve stops through HiGHS's interrupt
/// callback and ends `cancelled` with its incumbent.
#[utoipa::path(delete, path = "/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = JobView, description = "Cancelled (it was queued)"),
              (status = 202, body = JobView, description = "Stopping (it is running)"),
              (status = 401, body = error::ErrorBody), (status = 403, body = error::ErrorBody),
              (status = 404, body = error::ErrorBody),
              (status = 409, body = error::ErrorBody, description = "Already finished"),
              (status = 503, body = error::ErrorBody, description = "The job store cannot write")))]
pub async fn cancel_job(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller
        .require(&state, Role::Planner, "job.cancel", Some(&id))
        .await?;
    caller.job(&state, &id, "job.cancel").await?;
    let outcome = state.cancel(&id).await?;
    let (code, outcome_name) = match outcome {
        CancelOutcome::CancelledQueued => (StatusCode::OK, "cancelled"),
        CancelOutcome::Stopping => (StatusCode::ACCEPTED, "stopping"),
        CancelOutcome::AlreadyFinished => (StatusCode::CONFLICT, "already_finished"),
    };
    caller
        .audit(&state, "job.cancel", Some(&id), outcome_name, None)
        .await?;
    let job = caller.job(&state, &id, "job.cancel").await?;
    if outcome == CancelOutcome::AlreadyFinished {
        return Err(ApiError::Conflict {
            code: "already_finished",
            message: format!("job `{id}` already ended ({})", job.status),
        });
    }
    Ok((code, Json(job_view(&state, &job))).into_response())
}

/// Server-sent events of a job: `queued`, `started`, `progress` (incumbent, best bound, gap,
/// elapsed, from HiGHS callbacks) and `finished`, in order; the stream ends after `finished`.
/// Lifecycle events carry an `id`, so a client can resume with `Last-Event-ID`.
#[utoipa::path(get, path = "/v1/jobs/{id}/events", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, description = "text/event-stream", content_type = "text/event-stream"),
              (status = 401, body = error::ErrorBody), (status = 404, body = error::ErrorBody),
              (status = 503, body = error::ErrorBody, description = "The job store cannot write")))]
pub async fn job_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    caller
        .require(&state, Role::Viewer, "job.events", Some(&id))
        .await?;
    caller.job(&state, &id, "job.events").await?;
    caller
        .audit(&state, "job.events", Some(&id), "ok", None)
        .await?;
    let resume_after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    // Subscribe before reading the stored events, so nothing falls between the two.
    let mut live = state.subscribe(&id);
    let (tx, rx) = mpsc::channel::<Event>(64);
    let engine = state.clone();
    tokio::spawn(async move {
        let mut shutdown = engine.shutdown_signal();
        let mut last = resume_after;
        let mut done = false;
        // Stored events after `last`; true once `finished` was sent.
        async fn replay(
            engine: &AppState,
            id: &str,
            last: &mut i64,
            tx: &mpsc::Sender<Event>,
        ) -> bool {
            let Ok(events) = engine.store.events(id, *last).await else {
                return true;
            };
            for e in events {
                *last = e.seq;
                let event = Event::default()
                    .id(e.seq.to_string())
                    .event(&e.kind)
                    .data(&e.data);
                if tx.send(event).await.is_err() || e.kind == "finished" {
                    return true;
                }
            }
            false
        }
        if replay(&engine, &id, &mut last, &tx).await {
            done = true;
        }
        while !done {
            tokio::select! {
                ev = live.recv() => match ev {
                    Ok(ev) => {
                        if let Some(seq) = ev.seq {
                            if seq <= last { continue; }
                            last = seq;
                        }
                        let mut event = Event::default().event(&ev.kind).data(&ev.data);
                        if let Some(seq) = ev.seq {
                            event = event.id(seq.to_string());
                        }
                        if tx.send(event).await.is_err() || ev.kind == "finished" {
                            done = true;
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        done = replay(&engine, &id, &mut last, &tx).await;
                    }
                    Err(RecvError::Closed) => done = true,
                },
                _ = async { let _ = shutdown.wait_for(|s| *s).await; } => done = true,
                _ = tx.closed() => done = true,
            }
        }
        drop(live);
        engine.drop_hub(&id);
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
