//! What the API returns about jobs, keys and the audit log (views of the store's records).

use super::*;

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
    #[schema(value_type = Option<error::ErrorObject>)]
    pub error: Option<Value>,
    /// Links.
    pub links: JobLinks,
}

pub(super) fn job_view(state: &AppState, job: &JobRecord) -> JobView {
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

/// Validation outcome: every problem with its JSON path in the model (as `stockade validate
/// --json` prints them).
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidateResponse {
    /// No problems.
    pub valid: bool,
    /// Each problem: `path`, `entity`, `message`.
    #[schema(value_type = Vec<ProblemSchema>)]
    pub problems: Vec<stockade::Problem>,
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

pub(super) fn key_view(k: crate::store::KeyRecord) -> KeyView {
    KeyView {
        id: k.id,
        tenant: k.tenant,
        role: k.role,
        label: k.label,
        created_at: rfc3339(k.created_at),
        revoked_at: k.revoked_at.map(rfc3339),
    }
}
