//! Access endpoints: API keys and the audit log.

use super::*;

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
