//! Request bodies and their checks: every field against the server's limits, with the JSON path
//! of the first problem; what a job stores once it passed.

use super::*;

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
    /// The model (also at `GET /v1/schema/model`).
    #[schema(value_type = ModelSchema)]
    pub model: Value,
    /// Settings; every field optional. For `solve`, `share` (each coalition solve), `sweep`
    /// (each variant) and `worst_case`, the library's `Settings` (time limit capped by the
    /// server); for `evaluate`, `EvaluationSettings` (`threads`, `warm_start`).
    #[serde(default)]
    #[schema(value_type = Option<JobSettings>)]
    pub settings: Option<Value>,
    /// `evaluate`, `worst_case`: the plan, as a `solve` result gives it in `plan`.
    #[serde(default)]
    #[schema(value_type = Option<PlanSchema>)]
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
    #[schema(value_type = Option<Vec<ParameterSchema>>)]
    pub parameters: Option<Vec<stockade::sweep::Parameter>>,
    /// `worst_case`: what can be lost, every field optional: `k` (default 1), `targets`
    /// (`sites`, `suppliers`, `depots`, `routes`; all by default), `duration` (share of the
    /// year, default 1), `single_points_of_failure` (default true).
    #[serde(default)]
    #[schema(value_type = Option<WorstCaseOptionsSchema>)]
    pub worst_case: Option<Value>,
}

/// Body of `POST /v1/solve`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SolveRequest {
    /// The model (also at `GET /v1/schema/model`).
    #[schema(value_type = ModelSchema)]
    pub model: Value,
    /// Solver settings, as for jobs; the time limit is capped lower.
    #[serde(default)]
    #[schema(value_type = Option<SettingsSchema>)]
    pub settings: Option<Value>,
}

/// A 422 at the first problem of a library check whose paths are already the request's (it was
/// given the prefix); at `fallback` when it names none.
fn first_problem(e: stockade::InputError, fallback: &str) -> ApiError {
    match e.problems.first() {
        Some(p) => ApiError::invalid(p.path.clone(), p.message.clone()),
        None => ApiError::invalid(fallback, e.to_string()),
    }
}

pub(super) fn json_path(prefix: &str, path: &str) -> String {
    if path.is_empty() || path == "$" || path == "." {
        prefix.to_string()
    } else if path.starts_with('[') {
        format!("{prefix}{path}")
    } else {
        format!("{prefix}.{path}")
    }
}

/// Deserialises a request envelope, naming the field at fault.
pub(super) fn envelope<T: serde::de::DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize::<_, T>(body).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        ApiError::invalid(path, e.into_inner().to_string())
    })
}

/// Refuses a model past this server's size limits (422, with the path of each count at fault)
/// by counting the arrays of the JSON already parsed: before the typed parse, the copy and the
/// validation, whose memory and time grow with the model.
pub(super) fn within_limits(
    model: &Value,
    limits: &ModelLimits,
    prefix: &str,
) -> Result<(), ApiError> {
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
pub(super) fn checked_model(
    model: &Value,
    limits: &ModelLimits,
    prefix: &str,
) -> Result<Model, ApiError> {
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
pub(super) fn checked_settings(settings: Option<Value>, cap_s: f64) -> Result<Settings, ApiError> {
    let mut settings: Settings = match settings {
        None | Some(Value::Null) => Settings::default(),
        Some(v) => serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            ApiError::invalid(json_path("settings", &path), e.into_inner().to_string())
        })?,
    };
    settings
        .check("settings")
        .map_err(|e| first_problem(e, "settings"))?;
    settings.time_limit_s = Some(settings.time_limit_s.map_or(cap_s, |t| t.min(cap_s)));
    // The HiGHS log would go to the server's stderr, not to the caller.
    settings.log = false;
    Ok(settings)
}

/// The parameters of a sweep job, checked before it is accepted: every path and value is written
/// into the model and validated, so a bad one is a 422 naming `parameters[i]` and the model path.
pub(super) fn checked_parameters(
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
pub(super) fn checked_evaluation(
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
            .map_err(|e| first_problem(e, "scenarios"))?;
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
pub(super) fn checked_worst_case(request: JobRequest, cap_s: f64) -> Result<StoredInput, ApiError> {
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
