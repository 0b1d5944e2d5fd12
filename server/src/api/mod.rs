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

mod access;
pub mod error;
mod extract;
mod jobs;
pub mod openapi;
mod requests;
mod schemas;

use schemas::{
    JobResult, JobSettings, ModelSchema, ParameterSchema, PlanSchema, ProblemSchema,
    SettingsSchema, SolveResultSchema, WorstCaseOptionsSchema,
};
mod service;
mod views;

pub use access::*;
pub use extract::*;
pub use jobs::*;
pub use requests::*;
pub use service::*;
pub use views::*;

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

// ---- request bodies ----

// ---- views ----

// ---- handlers ----
