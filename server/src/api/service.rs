//! Service endpoints: health, readiness, metrics, this API's document, the model schema, and
//! validation.

use super::*;

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
pub async fn openapi_json() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(openapi::document())
}

/// Validates a model (the body is the model itself).
#[utoipa::path(post, path = "/v1/validate", tag = "models", security(("bearer" = [])),
    request_body(content = ModelSchema, description = "A model"),
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
