//! Extractors: the caller (API key, tenant, role), a JSON body read with its limit and path-aware
//! errors, query strings and paging.

use super::*;

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
    pub(super) async fn job(
        &self,
        state: &AppState,
        id: &str,
        action: &str,
    ) -> Result<JobRecord, ApiError> {
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

pub(super) fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}

pub(super) fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(50),
        Some(n) if (1..=500).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and 500, got {n}"),
        )),
    }
}

pub(super) fn cursor(c: Option<String>) -> Result<Option<i64>, ApiError> {
    c.map(|c| {
        c.parse::<i64>()
            .map_err(|_| ApiError::invalid("cursor", "not a cursor this API returned"))
    })
    .transpose()
}
