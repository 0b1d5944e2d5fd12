//! One JSON error envelope for every failure:
//! `{"error": {"code", "message", "details": [{"path", "message"}]}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tracing::error;

use crate::store::StoreError;

/// One located problem.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// JSON path of the field at fault in the request body, e.g. `model.sites[3].module_capacity`.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorObject,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorObject {
    /// Stable machine-readable code (`invalid_input`, `unauthorized`, `queue_full`, ...).
    pub code: String,
    /// For people.
    pub message: String,
    /// Located problems (422), otherwise empty.
    pub details: Vec<ErrorDetail>,
}

/// Every error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON, or a query parameter is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The input is JSON but not valid (422), with the path of each problem.
    #[error("{message}")]
    Invalid {
        /// Summary.
        message: String,
        /// Each problem.
        details: Vec<ErrorDetail>,
    },
    /// No key, or an unknown or revoked key (401).
    #[error("a valid API key is required (Authorization: Bearer KEY)")]
    Unauthorized,
    /// The key's role may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such resource for this tenant (404).
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not with this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The resource is not in a state for this (409).
    #[error("{message}")]
    Conflict {
        /// Machine-readable code.
        code: &'static str,
        /// Summary.
        message: String,
    },
    /// The job ended in failure; its stored error (409 on its result).
    #[error("{message}")]
    JobFailed {
        /// Summary.
        message: String,
        /// Located problems.
        details: Vec<ErrorDetail>,
    },
    /// HiGHS failed on a synchronous solve (500, with the solver's message).
    #[error("{0}")]
    SolverFailure(String),
    /// The body exceeds the limit (413).
    #[error("the request body exceeds {0} bytes")]
    PayloadTooLarge(usize),
    /// The queue is full or no worker is free (429).
    #[error("{message}")]
    TooManyRequests {
        /// Summary.
        message: String,
        /// Seconds to wait before retrying.
        retry_after_s: u64,
    },
    /// Shutting down, or the store is unreachable (503).
    #[error("{0}")]
    Unavailable(String),
    /// A failure of ours (500); the message is logged, not sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if matches!(e, StoreError::Database(sqlx::Error::PoolTimedOut)) {
            error!(error = %e, "no job store connection in time");
            return ApiError::Unavailable(
                "the job store did not answer in time: nothing was changed; retry later".into(),
            );
        }
        match store_cannot_write(&e) {
            Some(why) => {
                error!(error = %e, "the job store cannot write");
                ApiError::Unavailable(format!(
                    "the job store cannot write ({why}): nothing was changed; retry once the \
                     operator has fixed the database"
                ))
            }
            None => ApiError::Internal(e.to_string()),
        }
    }
}

/// A database that refuses writes for a reason of its disk or file (read-only, full, I/O error,
/// cannot open): an operator's problem the caller should be told about (503), not a bug (500).
/// SQLite primary result codes (the low byte of an extended code): READONLY 8, IOERR 10, FULL 13,
/// CANTOPEN 14; PostgreSQL SQLSTATEs: disk_full 53100, read_only_sql_transaction 25006,
/// insufficient_resources class 53, io_error 58030.
pub fn store_cannot_write(e: &StoreError) -> Option<&'static str> {
    let StoreError::Database(sqlx::Error::Database(db)) = e else {
        return None;
    };
    let code = db.code()?;
    let code = code.as_ref();
    if let Ok(n) = code.parse::<i64>() {
        return match n & 0xff {
            8 => Some("the database is read-only"),
            10 => Some("disk I/O error"),
            13 => Some("the disk is full"),
            14 => Some("the database file cannot be opened"),
            _ => None,
        };
    }
    match code {
        "53100" => Some("the disk is full"),
        "25006" => Some("the database is read-only"),
        "58030" => Some("disk I/O error"),
        c if c.starts_with("53") => Some("the database is out of resources"),
        _ => None,
    }
}

impl ApiError {
    /// The HTTP status and the envelope's code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            ApiError::JobFailed { .. } => (StatusCode::CONFLICT, "job_failed"),
            ApiError::SolverFailure(_) => (StatusCode::INTERNAL_SERVER_ERROR, "solver_failure"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "queue_full"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// A 422 with one problem.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError::Invalid {
            message: message.clone(),
            details: vec![ErrorDetail {
                path: path.into(),
                message,
            }],
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            ApiError::Internal(detail) => {
                error!(error = %detail, "internal error");
                "internal error".to_string()
            }
            other => other.to_string(),
        };
        let details = match &self {
            ApiError::Invalid { details, .. } | ApiError::JobFailed { details, .. } => {
                details.clone()
            }
            _ => Vec::new(),
        };
        let body = ErrorBody {
            error: ErrorObject {
                code: code.to_string(),
                message,
                details,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let ApiError::TooManyRequests { retry_after_s, .. } = &self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_s.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if matches!(self, ApiError::Unauthorized) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
