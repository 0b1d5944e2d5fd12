//! The REST API: `app(state)` builds the router, so tests drive it with
//! `tower::ServiceExt::oneshot` and `serve` binds it to a socket.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::{header, request::Parts, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stockade::{Model, Settings, SolveControl, StockadeError};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tower_http::trace::TraceLayer;
use tracing::info_span;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{self, Role};
use crate::config::{ModelLimits, ServerConfig};
use crate::jobs::{run_analysis, CancelOutcome, Engine, JobKind, StoredInput, SubmitError};
use crate::store::{rfc3339, status, AuditEntry, JobQuery, JobRecord};

pub mod error;
pub mod openapi;

pub use error::{ApiError, ErrorDetail};

/// What every handler shares.
pub type AppState = Arc<Engine>;

/// The whole service as a router.
pub fn app(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let v1 = Router::new()
        .route("/validate", post(validate))
        .route("/solve", post(solve_sync))
        .route("/jobs", post(submit_job).get(list_jobs))
        .route("/jobs/{id}", get(get_job).delete(cancel_job))
        .route("/jobs/{id}/result", get(job_result))
        .route("/jobs/{id}/events", get(job_events))
        .route("/schema/model", get(model_schema))
        .route("/audit", get(audit_log))
        .route("/keys", post(create_key).get(list_keys))
        .route("/keys/{id}", delete(revoke_key));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_json))
        .nest("/v1", v1)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

// ---- access ----

/// The authenticated caller: a live key, its tenant and its role.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Key id.
    pub key_id: String,
    /// Tenant of the key.
    pub tenant: String,
    /// Role of the key.
    pub role: Role,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let key = match token {
            Some(token) => state.store.key_by_hash(&auth::hash_token(token)).await?,
            None => None,
        };
        let key = key.filter(|k| k.revoked_at.is_none());
        let role = key.as_ref().and_then(|k| k.role.parse::<Role>().ok());
        match (key, role) {
            (Some(key), Some(role)) => Ok(Caller {
                key_id: key.id,
                tenant: key.tenant,
                role,
            }),
            _ => {
                // Not written to the audit log: an unauthenticated caller must not be able to
                // make the service write. Counted and logged instead.
                state.metrics.auth_failures.fetch_add(1, Ordering::Relaxed);
                tracing::info!(path = %parts.uri.path(), "request without a valid API key");
                Err(ApiError::Unauthorized)
            }
        }
    }
}

impl Caller {
    /// Appends to the audit log as this caller.
    pub async fn audit(
        &self,
        state: &AppState,
        action: &str,
        target: Option<&str>,
        outcome: &str,
        detail: Option<Value>,
    ) -> Result<(), ApiError> {
        state
            .store
            .audit(&AuditEntry {
                tenant: Some(self.tenant.clone()),
                key_id: Some(self.key_id.clone()),
                role: Some(self.role.as_str().to_string()),
                action: action.to_string(),
                target: target.map(str::to_string),
                outcome: outcome.to_string(),
                detail: detail.map(|d| d.to_string()),
                ..AuditEntry::default()
            })
            .await?;
        Ok(())
    }

    /// 403 (audited as denied) unless the caller's role reaches `min`.
    pub async fn require(
        &self,
        state: &AppState,
        min: Role,
        action: &str,
        target: Option<&str>,
    ) -> Result<(), ApiError> {
        if self.role >= min {
            return Ok(());
        }
        state.metrics.forbidden.fetch_add(1, Ordering::Relaxed);
        let detail = serde_json::json!({"needs": min.as_str()});
        self.audit(state, action, target, "denied", Some(detail))
            .await?;
        Err(ApiError::Forbidden(format!(
            "`{action}` needs the {min} role; this key is {}",
            self.role
        )))
    }

    /// The caller's job, or 404 (audited) whether it does not exist or is another tenant's.
    async fn job(&self, state: &AppState, id: &str, action: &str) -> Result<JobRecord, ApiError> {
        match state.store.job(&self.tenant, id).await? {
            Some(job) => Ok(job),
            None => {
                self.audit(state, action, Some(id), "not_found", None)
                    .await?;
                Err(ApiError::NotFound(format!("no job `{id}`")))
            }
        }
    }
}

// ---- request bodies ----

/// A JSON body: 400 when it is not JSON, 413 past the size limit.
#[derive(Debug)]
pub struct JsonBody(pub Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<JsonBody, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(state.config.max_body_bytes)
            } else {
                ApiError::BadRequest(e.body_text())
            }
        })?;
        parse_json_body(&bytes).map(JsonBody)
    }
}

/// A request body as JSON, as every handler with a body reads it: 400 when it is not JSON
/// (serde_json refuses nesting deeper than 128 levels, so a deeply nested body is a 400 too).
pub fn parse_json_body(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))
}

/// Checks the body of `POST /v1/jobs` exactly as the handler does before it stores anything:
/// the envelope, the model (size limits, then validation), the settings or the evaluation input.
pub fn check_job_request(
    body: Value,
    config: &ServerConfig,
) -> Result<(JobKind, StoredInput), ApiError> {
    let request: JobRequest = envelope(body)?;
    let model = checked_model(&request.model, &config.limits, "model")?;
    let kind = request.kind;
    let input = match kind {
        JobKind::Solve | JobKind::Share | JobKind::Sweep => {
            for (field, given, kinds) in [
                ("plan", request.plan.is_some(), "evaluate and worst_case"),
                ("scenarios", request.scenarios.is_some(), "evaluate"),
                ("seed", request.seed.is_some(), "evaluate"),
                ("worst_case", request.worst_case.is_some(), "worst_case"),
            ] {
                if given {
                    return Err(ApiError::invalid(field, format!("only for {kinds} jobs")));
                }
            }
            let parameters = checked_parameters(kind, request.parameters, &request.model)?;
            let settings = checked_settings(request.settings, config.max_job_time_limit_s)?;
            StoredInput {
                parameters,
                ..StoredInput::solve(request.model, settings)
            }
        }
        JobKind::Evaluate => {
            if request.worst_case.is_some() {
                return Err(ApiError::invalid("worst_case", "only for worst_case jobs"));
            }
            if request.parameters.is_some() {
                return Err(ApiError::invalid("parameters", "only for sweep jobs"));
            }
            checked_evaluation(request, &model, &config.limits)?
        }
        JobKind::WorstCase => {
            if request.parameters.is_some() {
                return Err(ApiError::invalid("parameters", "only for sweep jobs"));
            }
            checked_worst_case(request, config.max_job_time_limit_s)?
        }
    };
    Ok((kind, input))
}

/// Checks the body of `POST /v1/solve` as the handler does before it takes a worker.
pub fn check_solve_request(body: Value, config: &ServerConfig) -> Result<StoredInput, ApiError> {
    let request: SolveRequest = envelope(body)?;
    checked_model(&request.model, &config.limits, "model")?;
    let settings = checked_settings(request.settings, config.max_sync_time_limit_s)?;
    Ok(StoredInput::solve(request.model, settings))
}

/// Checks the body of `POST /v1/keys`.
pub fn check_key_request(body: Value) -> Result<CreateKeyRequest, ApiError> {
    envelope(body)
}

/// What `POST /v1/validate` answers for a model body: every problem with its JSON path; 422
/// past the server's size limits, as for jobs.
pub fn validation_problems(
    body: &Value,
    limits: &ModelLimits,
) -> Result<Vec<stockade::Problem>, ApiError> {
    within_limits(body, limits, "")?;
    Ok(match stockade::parse_model(&body.to_string()) {
        Ok(model) => stockade::validate(&model),
        Err(e) => e.problems,
    })
}

/// Body of `POST /v1/jobs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    /// The analysis to run.
    pub kind: JobKind,
    /// The model (see `GET /v1/schema/model`).
    #[schema(value_type = Object)]
    pub model: Value,
    /// Settings; every field optional. For `solve` and `share`, the library's `Settings` (time
    /// limit capped by the server; for `share` it applies to each coalition solve); for
    /// `evaluate`, `EvaluationSettings` (`threads`, `warm_start`).
    /// Settings; every field optional. For `solve`, the library's `Settings` (time limit capped
    /// by the server; also for `worst_case`); for `evaluate`, `EvaluationSettings` (`threads`,
    /// `warm_start`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Value>,
    /// `evaluate`, `worst_case`: the plan, as a `solve` result gives it in `plan`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub plan: Option<Value>,
    /// `evaluate`: scenarios to sample from the model's hazards (the explicit ones when absent).
    #[serde(default)]
    pub scenarios: Option<usize>,
    /// `evaluate`: seed of the sample (default 1).
    #[serde(default)]
    pub seed: Option<u64>,
    /// `sweep`: the parameters, each a path into the model file and its values
    /// (`[{"path": "policies.country_share.cap", "values": [0.5, 0.4]}]`); the variants are
    /// their Cartesian product, each solved with `settings` (one HiGHS thread unless set).
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub parameters: Option<Vec<stockade::sweep::Parameter>>,
    /// `worst_case`: what can be lost, every field optional: `k` (default 1), `targets`
    /// (`sites`, `suppliers`, `depots`, `routes`; all by default), `duration` (share of the
    /// year, default 1), `single_points_of_failure` (default true).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub worst_case: Option<Value>,
}

/// Body of `POST /v1/solve`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SolveRequest {
    /// The model (see `GET /v1/schema/model`).
    #[schema(value_type = Object)]
    pub model: Value,
    /// Solver settings, as for jobs; the time limit is capped lower.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Value>,
}

fn json_path(prefix: &str, path: &str) -> String {
    if path.is_empty() || path == "$" || path == "." {
        prefix.to_string()
    } else if path.starts_with('[') {
        format!("{prefix}{path}")
    } else {
        format!("{prefix}.{path}")
    }
}

/// Deserialises a request envelope, naming the field at fault.
fn envelope<T: serde::de::DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize::<_, T>(body).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        ApiError::invalid(path, e.into_inner().to_string())
    })
}

/// Refuses a model past this server's size limits (422, with the path of each count at fault)
/// by counting the arrays of the JSON already parsed: before the typed parse, the copy and the
/// validation, whose memory and time grow with the model.
fn within_limits(model: &Value, limits: &ModelLimits, prefix: &str) -> Result<(), ApiError> {
    let len = |key: &str| model.get(key).and_then(Value::as_array).map_or(0, Vec::len);
    let nodes = len("suppliers") + len("sites") + len("depots") + len("demand");
    let checks = [
        (
            "",
            nodes,
            limits.max_nodes,
            "nodes (suppliers, sites, depots, demand)",
        ),
        ("routes", len("routes"), limits.max_routes, "routes"),
        (
            "scenarios",
            len("scenarios"),
            limits.max_scenarios,
            "scenarios",
        ),
    ];
    let too_big: Vec<ErrorDetail> = checks
        .iter()
        .filter(|(_, n, max, _)| n > max)
        .map(|(key, n, max, what)| ErrorDetail {
            path: match (prefix, *key) {
                ("", "") => "$".to_string(),
                ("", key) => key.to_string(),
                (prefix, key) => json_path(prefix, key),
            },
            message: format!("{n} {what} exceed this server's limit of {max}"),
        })
        .collect();
    if too_big.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid {
            message: "the model exceeds this server's size limits".into(),
            details: too_big,
        })
    }
}

/// Parses, size-checks and validates a model; 422 with a path into the request per problem.
fn checked_model(model: &Value, limits: &ModelLimits, prefix: &str) -> Result<Model, ApiError> {
    let to_details = |problems: Vec<stockade::Problem>| -> Vec<ErrorDetail> {
        problems
            .into_iter()
            .map(|p| ErrorDetail {
                path: json_path(prefix, &p.path),
                message: match p.entity {
                    Some(entity) => format!("({entity}) {}", p.message),
                    None => p.message,
                },
            })
            .collect()
    };
    within_limits(model, limits, prefix)?;
    let parsed = stockade::parse_model(&model.to_string()).map_err(|e| ApiError::Invalid {
        message: "the model is not valid".into(),
        details: to_details(e.problems),
    })?;
    let problems = stockade::validate(&parsed);
    if !problems.is_empty() {
        return Err(ApiError::Invalid {
            message: "the model is not valid".into(),
            details: to_details(problems),
        });
    }
    Ok(parsed)
}

/// Settings from the request over the library's defaults, the time limit capped at `cap_s`.
fn checked_settings(settings: Option<Value>, cap_s: f64) -> Result<Settings, ApiError> {
    let mut settings: Settings = match settings {
        None | Some(Value::Null) => Settings::default(),
        Some(v) => serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            ApiError::invalid(json_path("settings", &path), e.into_inner().to_string())
        })?,
    };
    if let Some(t) = settings.time_limit_s {
        if !(t.is_finite() && t > 0.0) {
            return Err(ApiError::invalid(
                "settings.time_limit_s",
                format!("must be > 0, got {t}"),
            ));
        }
    }
    settings.time_limit_s = Some(settings.time_limit_s.map_or(cap_s, |t| t.min(cap_s)));
    // The HiGHS log would go to the server's stderr, not to the caller.
    settings.log = false;
    Ok(settings)
}

/// The parameters of a sweep job, checked before it is accepted: every path and value is written
/// into the model and validated, so a bad one is a 422 naming `parameters[i]` and the model path.
fn checked_parameters(
    kind: JobKind,
    parameters: Option<Vec<stockade::sweep::Parameter>>,
    model: &Value,
) -> Result<Vec<stockade::sweep::Parameter>, ApiError> {
    let Some(parameters) = parameters else {
        return if kind == JobKind::Sweep {
            Err(ApiError::invalid(
                "parameters",
                "a sweep job needs parameters: [{\"path\": ..., \"values\": [...]}]",
            ))
        } else {
            Ok(Vec::new())
        };
    };
    if kind != JobKind::Sweep {
        return Err(ApiError::invalid("parameters", "only for sweep jobs"));
    }
    if parameters.is_empty() {
        return Err(ApiError::invalid("parameters", "at least one parameter"));
    }
    stockade::sweep::grid(&parameters)
        .map_err(|e| ApiError::invalid("parameters", e.to_string()))?;
    // Every distinct value of every parameter, written into the model alone: paths and values
    // the model cannot take fail here rather than in the worker.
    for (i, p) in parameters.iter().enumerate() {
        for x in &p.values {
            stockade::sweep::variant_model(model, &[(p.path.clone(), *x)]).map_err(|e| {
                let first = e.problems.first();
                ApiError::invalid(
                    format!("parameters[{i}]"),
                    first.map_or_else(|| e.to_string(), |p| p.to_string()),
                )
            })?;
        }
    }
    Ok(parameters)
}

/// The input of an evaluate job, checked before it is accepted.
fn checked_evaluation(
    request: JobRequest,
    model: &Model,
    limits: &ModelLimits,
) -> Result<StoredInput, ApiError> {
    let plan = request
        .plan
        .ok_or_else(|| ApiError::invalid("plan", "an evaluate job needs a plan"))?;
    serde_path_to_error::deserialize::<_, stockade::Plan>(plan.clone()).map_err(|e| {
        let path = e.path().to_string();
        ApiError::invalid(json_path("plan", &path), e.into_inner().to_string())
    })?;
    if let Some(n) = request.scenarios {
        stockade::ScenarioChoice::sampled_or_explicit(Some(n), request.seed.unwrap_or(1))
            .check(model, "scenarios")
            .map_err(|e| match e.problems.first() {
                Some(p) => ApiError::invalid(p.path.clone(), p.message.clone()),
                None => ApiError::invalid("scenarios", e.to_string()),
            })?;
        if n == 0 || n > limits.max_sampled_scenarios {
            return Err(ApiError::invalid(
                "scenarios",
                format!(
                    "must be between 1 and this server's limit of {}, got {n}",
                    limits.max_sampled_scenarios
                ),
            ));
        }
    }
    let evaluation: stockade::EvaluationSettings = match request.settings {
        None | Some(Value::Null) => stockade::EvaluationSettings::default(),
        Some(v) => serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            ApiError::invalid(json_path("settings", &path), e.into_inner().to_string())
        })?,
    };
    Ok(StoredInput {
        plan: Some(plan),
        evaluation: Some(evaluation),
        scenarios: request.scenarios,
        seed: request.seed.unwrap_or(1),
        ..StoredInput::solve(request.model, Settings::default())
    })
}

/// The input of a worst-case job, checked before it is accepted.
fn checked_worst_case(request: JobRequest, cap_s: f64) -> Result<StoredInput, ApiError> {
    for (field, given) in [
        ("scenarios", request.scenarios.is_some()),
        ("seed", request.seed.is_some()),
    ] {
        if given {
            return Err(ApiError::invalid(field, "only for evaluate jobs"));
        }
    }
    let plan = request
        .plan
        .ok_or_else(|| ApiError::invalid("plan", "a worst_case job needs a plan"))?;
    serde_path_to_error::deserialize::<_, stockade::Plan>(plan.clone()).map_err(|e| {
        let path = e.path().to_string();
        ApiError::invalid(json_path("plan", &path), e.into_inner().to_string())
    })?;
    let options: stockade::interdiction::WorstCaseOptions = match request.worst_case {
        None | Some(Value::Null) => Default::default(),
        Some(v) => serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            ApiError::invalid(json_path("worst_case", &path), e.into_inner().to_string())
        })?,
    };
    for (i, t) in options.targets.iter().enumerate() {
        if !stockade::interdiction::TARGET_KINDS.contains(&t.as_str()) {
            return Err(ApiError::invalid(
                format!("worst_case.targets[{i}]"),
                format!("unknown element kind `{t}`; expected sites, suppliers, depots or routes"),
            ));
        }
    }
    let d = options.duration;
    if !(d.is_finite() && d > 0.0 && d <= 1.0) {
        return Err(ApiError::invalid(
            "worst_case.duration",
            format!("must be a share of the year in (0, 1], got {d}"),
        ));
    }
    let settings = checked_settings(request.settings, cap_s)?;
    Ok(StoredInput {
        plan: Some(plan),
        worst_case: Some(options),
        ..StoredInput::solve(request.model, settings)
    })
}

// ---- views ----

/// Latest progress of a running solve.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressView {
    /// Seconds since the solve started.
    pub elapsed_s: f64,
    /// Objective of the best plan found so far.
    pub incumbent: Option<f64>,
    /// Best proven bound.
    pub best_bound: Option<f64>,
    /// Relative gap.
    pub gap: Option<f64>,
    /// Scenarios evaluated so far (evaluate jobs).
    pub scenarios_done: Option<usize>,
    /// Scenarios in all (evaluate jobs).
    pub scenarios_total: Option<usize>,
    /// Variants finished so far (sweep jobs).
    pub variants_done: Option<usize>,
    /// Variants in all (sweep jobs).
    pub variants_total: Option<usize>,
}

/// Where to find a job's parts.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobLinks {
    /// This job.
    #[serde(rename = "self")]
    pub self_: String,
    /// Its result.
    pub result: String,
    /// Its server-sent events.
    pub events: String,
}

/// A job as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    /// Job id.
    pub id: String,
    /// Analysis kind.
    pub kind: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, latest start.
    pub started_at: Option<String>,
    /// RFC 3339.
    pub finished_at: Option<String>,
    /// Starts so far (more than one after a restart).
    pub attempts: i64,
    /// A caller asked to cancel it.
    pub cancel_requested: bool,
    /// Solver status of the result (`optimal`, `time_limit`, `interrupted`, ...).
    pub solver_status: Option<String>,
    /// Objective of the result.
    pub objective: Option<f64>,
    /// Latest progress while running.
    pub progress: Option<ProgressView>,
    /// The error of a failed job (`code`, `message`, `details`).
    #[schema(value_type = Option<Object>)]
    pub error: Option<Value>,
    /// Links.
    pub links: JobLinks,
}

fn job_view(state: &AppState, job: &JobRecord) -> JobView {
    let progress = if job.status == status::RUNNING {
        let counted = state.scenario_progress(&job.id);
        let sweep = job.kind == JobKind::Sweep.as_str();
        let scenarios = counted.filter(|_| !sweep);
        let variants = counted.filter(|_| sweep);
        let mip = state.progress(&job.id);
        (mip.is_some() || counted.is_some()).then(|| ProgressView {
            elapsed_s: mip.map_or(0.0, |p| p.elapsed_s),
            incumbent: mip.and_then(|p| p.incumbent),
            best_bound: mip.and_then(|p| p.best_bound),
            gap: mip.and_then(|p| p.gap),
            scenarios_done: scenarios.map(|s| s.0),
            scenarios_total: scenarios.map(|s| s.1),
            variants_done: variants.map(|s| s.0),
            variants_total: variants.map(|s| s.1),
        })
    } else {
        None
    };
    let base = format!("/v1/jobs/{}", job.id);
    JobView {
        id: job.id.clone(),
        kind: job.kind.clone(),
        status: job.status.clone(),
        created_at: rfc3339(job.created_at),
        started_at: job.started_at.map(rfc3339),
        finished_at: job.finished_at.map(rfc3339),
        attempts: job.attempts,
        cancel_requested: job.cancel_requested,
        solver_status: job.solver_status.clone(),
        objective: job.objective,
        progress,
        error: job
            .error
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok()),
        links: JobLinks {
            result: format!("{base}/result"),
            events: format!("{base}/events"),
            self_: base,
        },
    }
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}

fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(50),
        Some(n) if (1..=500).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and 500, got {n}"),
        )),
    }
}

fn cursor(c: Option<String>) -> Result<Option<i64>, ApiError> {
    c.map(|c| {
        c.parse::<i64>()
            .map_err(|_| ApiError::invalid("cursor", "not a cursor this API returned"))
    })
    .transpose()
}

// ---- handlers ----

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "The process is up")))]
pub async fn healthz() -> Json<Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// Readiness: the store answers and the service is not shutting down.
#[utoipa::path(get, path = "/readyz", tag = "service",
    responses((status = 200, description = "Ready"),
              (status = 503, description = "Not ready", body = error::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    if state.shutting_down() {
        return Err(ApiError::Unavailable("shutting down".into()));
    }
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable(format!("the job store does not answer: {e}")))?;
    Ok(Json(serde_json::json!({"status": "ready"})))
}

/// Prometheus metrics: jobs by state, queue length, solve durations.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let counts = state.store.job_counts().await?;
    let text = state.metrics.render(
        &counts,
        state.queue_len(),
        state.running_len(),
        state.config.workers,
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

/// The OpenAPI document of this service.
#[utoipa::path(get, path = "/openapi.json", tag = "service",
    responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi::document())
}

/// Validation outcome: every problem with its JSON path in the model (as `stockade validate
/// --json` prints them).
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidateResponse {
    /// No problems.
    pub valid: bool,
    /// Each problem: `path`, `entity`, `message`.
    #[schema(value_type = Vec<Object>)]
    pub problems: Vec<stockade::Problem>,
}

/// Validates a model (the body is the model itself).
#[utoipa::path(post, path = "/v1/validate", tag = "models", security(("bearer" = [])),
    request_body(content = Object, description = "A model"),
    responses((status = 200, body = ValidateResponse),
              (status = 400, body = error::ErrorBody), (status = 401, body = error::ErrorBody),
              (status = 403, body = error::ErrorBody), (status = 413, body = error::ErrorBody),
              (status = 422, body = error::ErrorBody, description = "Past the size limits"),
              (status = 503, body = error::ErrorBody, description = "The job store cannot write")))]
pub async fn validate(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Json<ValidateResponse>, ApiError> {
    caller
        .require(&state, Role::Viewer, "model.validate", None)
        .await?;
    let problems = validation_problems(&body, &state.config.limits)?;
    caller
        .audit(
            &state,
            "model.validate",
            None,
            "ok",
            Some(serde_json::json!({"problems": problems.len()})),
        )
        .await?;
    Ok(Json(ValidateResponse {
        valid: problems.is_empty(),
        problems,
    }))
}

/// Sets the cancel flag when the request goes away (client disconnect), so the solve stops.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Solves a small model synchronously; the answer is what `stockade solve --json` prints.
#[utoipa::path(post, path = "/v1/solve", tag = "models", security(("bearer" = [])),
    request_body = SolveRequest,
    responses((status = 200, description = "The solve result (as `stockade solve --json`)", body = Object),
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

/// Filter and page of `GET /v1/jobs`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListJobsQuery {
    /// Only jobs in this state.
    #[param(pattern = "^(queued|running|succeeded|failed|cancelled)$")]
    pub status: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of jobs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    /// The jobs.
    pub jobs: Vec<JobView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
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
    responses((status = 200, description = "The result", body = Object),
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

/// The JSON Schema of the model file (as `stockade schema` prints it).
#[utoipa::path(get, path = "/v1/schema/model", tag = "models", security(("bearer" = [])),
    responses((status = 200, description = "JSON Schema", body = Object),
              (status = 401, body = error::ErrorBody),
              (status = 503, body = error::ErrorBody, description = "The job store cannot write")))]
pub async fn model_schema(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller
        .require(&state, Role::Viewer, "schema.read", None)
        .await?;
    Ok(Json(Model::json_schema()))
}

/// Filter and page of `GET /v1/audit`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this action (`job.submit`, `job.cancel`, `key.create`, ...).
    pub action: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// Increasing id.
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// Key that acted (`cli` for the command line).
    pub key_id: Option<String>,
    /// Its role.
    pub role: Option<String>,
    /// What was done.
    pub action: String,
    /// To what.
    pub target: Option<String>,
    /// `ok`, `denied`, `not_found`, `queue_full`, ...
    pub outcome: String,
    /// Particulars.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<Value>,
}

/// A page of audit entries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditView>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// The tenant's audit log (admins).
#[utoipa::path(get, path = "/v1/audit", tag = "access", security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = error::ErrorBody),
              (status = 401, body = error::ErrorBody), (status = 403, body = error::ErrorBody),
              (status = 422, body = error::ErrorBody),
              (status = 503, body = error::ErrorBody, description = "The job store cannot write")))]
pub async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    caller
        .require(&state, Role::Admin, "audit.read", None)
        .await?;
    let q = query(q)?;
    let limit = page_limit(q.limit)?;
    let entries = state
        .store
        .audit_log(
            &caller.tenant,
            q.action.as_deref(),
            cursor(q.cursor)?,
            limit,
        )
        .await?;
    caller.audit(&state, "audit.read", None, "ok", None).await?;
    let next_cursor = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.id.to_string()))
        .flatten();
    Ok(Json(AuditPage {
        entries: entries
            .into_iter()
            .map(|e| AuditView {
                id: e.id,
                at: rfc3339(e.at),
                key_id: e.key_id,
                role: e.role,
                action: e.action,
                target: e.target,
                outcome: e.outcome,
                detail: e.detail.and_then(|d| serde_json::from_str(&d).ok()),
            })
            .collect(),
        next_cursor,
    }))
}

/// Body of `POST /v1/keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// Role of the new key (in the caller's tenant).
    pub role: Role,
    /// Free text to recognise it by.
    #[serde(default)]
    pub label: Option<String>,
}

/// A key (without its token).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    /// Key id.
    pub id: String,
    /// Tenant.
    pub tenant: String,
    /// Role.
    pub role: String,
    /// Label.
    pub label: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, when revoked.
    pub revoked_at: Option<String>,
}

/// A new key with its token, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewKeyView {
    /// The key.
    #[serde(flatten)]
    pub key: KeyView,
    /// The bearer token; only its hash is kept.
    pub token: String,
}

fn key_view(k: crate::store::KeyRecord) -> KeyView {
    KeyView {
        id: k.id,
        tenant: k.tenant,
        role: k.role,
        label: k.label,
        created_at: rfc3339(k.created_at),
        revoked_at: k.revoked_at.map(rfc3339),
    }
}

/// Creates a key in the caller's tenant (admins).
#[utoipa::path(post, path = "/v1/keys", tag = "access", security(("bearer" = [])),
    request_body = CreateKeyRequest,
    responses((status = 201, body = NewKeyView), (status = 400, body = error::ErrorBody),
              (status = 413, body = error::ErrorBody), (status = 401, body = error::ErrorBody),
              (status = 403, body = error::ErrorBody), (status = 422, body = error::ErrorBody),
              (status = 503, body = error::ErrorBody, description = "The job store cannot write")))]
pub async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    caller
        .require(&state, Role::Admin, "key.create", None)
        .await?;
    let request = check_key_request(body)?;
    let (key, token) = auth::create_key(
        &state.store,
        &caller.tenant,
        request.role,
        request.label,
        (&caller.key_id, Some(caller.role)),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewKeyView {
            key: key_view(key),
            token,
        }),
    )
        .into_response())
}

/// The keys of the caller's tenant (admins).
#[utoipa::path(get, path = "/v1/keys", tag = "access", security(("bearer" = [])),
    responses((status = 200, body = Vec<KeyView>), (status = 401, body = error::ErrorBody),
              (status = 403, body = error::ErrorBody),
              (status = 503, body = error::ErrorBody, description = "The job store cannot write")))]
pub async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<KeyView>>, ApiError> {
    caller
        .require(&state, Role::Admin, "key.list", None)
        .await?;
    let keys = state.store.list_keys(&caller.tenant).await?;
    caller.audit(&state, "key.list", None, "ok", None).await?;
    Ok(Json(keys.into_iter().map(key_view).collect()))
}

/// Revokes a key of the caller's tenant (admins).
#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "access", security(("bearer" = [])),
    params(("id" = String, Path, description = "Key id")),
    responses((status = 200, body = KeyView), (status = 401, body = error::ErrorBody),
              (status = 403, body = error::ErrorBody), (status = 404, body = error::ErrorBody),
              (status = 503, body = error::ErrorBody, description = "The job store cannot write")))]
pub async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<KeyView>, ApiError> {
    caller
        .require(&state, Role::Admin, "key.revoke", Some(&id))
        .await?;
    let revoked = auth::revoke_key(
        &state.store,
        &id,
        Some(&caller.tenant),
        (&caller.key_id, Some(caller.role)),
    )
    .await?;
    let key = state.store.key_by_id(&id, Some(&caller.tenant)).await?;
    match (revoked, key) {
        (true, Some(key)) => Ok(Json(key_view(key))),
        _ => {
            caller
                .audit(&state, "key.revoke", Some(&id), "not_found", None)
                .await?;
            Err(ApiError::NotFound(format!("no live key `{id}`")))
        }
    }
}
