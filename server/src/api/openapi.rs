//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::*;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key from `stockade keys create` or `POST /v1/keys`",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "stockade",
        description = "Critical-mineral supply-chain planning as a service: validate and solve \
                       models, run them as persisted jobs with progress and cancellation. Every \
                       error is `{\"error\": {\"code\", \"message\", \"details\": [{\"path\", \"message\"}]}}`."
    ),
    paths(
        healthz, readyz, metrics, openapi_json, validate, solve_sync, submit_job, list_jobs,
        get_job, job_result, cancel_job, job_events, model_schema, audit_log, create_key,
        list_keys, revoke_key
    ),
    components(schemas(
        error::ErrorBody, error::ErrorObject, error::ErrorDetail, JobRequest, SolveRequest,
        JobKind, JobView, JobLinks, JobPage, ProgressView, ValidateResponse, AuditView, AuditPage,
        CreateKeyRequest, KeyView, NewKeyView, Role
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "jobs", description = "Asynchronous analyses, persisted"),
        (name = "models", description = "Validation, synchronous solves, the model schema"),
        (name = "access", description = "API keys and the audit log"),
        (name = "service", description = "Health, readiness, metrics, this document")
    )
)]
struct ApiDoc;

/// The document served at `/openapi.json`, built once per process: the library's components
/// come from `schemars` generators, work not worth repeating on every request.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: std::sync::LazyLock<utoipa::openapi::OpenApi> =
        std::sync::LazyLock::new(ApiDoc::openapi);
    &DOCUMENT
}
