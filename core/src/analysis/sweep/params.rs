//! Sweep parameters: a JSON path into the model and its values (list or range), and the model of
//! one variant with the values set.

use super::*;

/// One swept parameter: a path into the model file and the values it takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// Path into the model file: dot-separated keys, `[ID]` for the element of a list whose `id`
    /// (or `code`) is ID, `[3]` for an index: `policies.country_share.cap`,
    /// `depots[jp_jogmec].capacity`.
    pub path: String,
    /// Values, in the order they are swept (unit of the field at `path`).
    pub values: Vec<f64>,
}

impl Parameter {
    /// Parses `PATH=FROM:TO:STEP` or `PATH=V1,V2,...` (the CLI's `--set`).
    pub fn parse(arg: &str) -> Result<Parameter, InputError> {
        let Some((path, spec)) = arg.split_once('=') else {
            return Err(InputError::single(
                "--set",
                format!("expected PATH=FROM:TO:STEP or PATH=V1,V2,..., got `{arg}`"),
            ));
        };
        let path = path.trim();
        parse_path(path)?;
        Ok(Parameter {
            path: path.to_string(),
            values: parse_values(path, spec)?,
        })
    }
}

/// Values of `FROM:TO:STEP` (both ends included; a negative step counts down, and a positive
/// step from a larger FROM counts down too) or of a comma-separated list.
pub fn parse_values(path: &str, spec: &str) -> Result<Vec<f64>, InputError> {
    let bad = |msg: String| InputError::single(path, msg);
    let spec = spec.trim();
    if spec.contains(':') {
        let parts: Vec<&str> = spec.split(':').collect();
        let nums: Vec<Option<f64>> = parts
            .iter()
            .map(|p| p.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
            .collect();
        let [Some(from), Some(to), Some(step)] = nums.as_slice() else {
            return Err(bad(format!(
                "expected FROM:TO:STEP (three finite numbers), got `{spec}`"
            )));
        };
        if *step == 0.0 {
            return Err(bad(format!("the step of `{spec}` must not be 0")));
        }
        let step = if to < from { -step.abs() } else { step.abs() };
        let count = ((to - from) / step + 1e-9).floor() + 1.0;
        if !(count >= 1.0 && count <= MAX_VARIANTS as f64) {
            return Err(bad(format!(
                "`{spec}` gives {count} values; at most {MAX_VARIANTS}"
            )));
        }
        // Round away the drift of repeated addition (0.1 * 3 = 0.30000000000000004).
        let tidy = |x: f64| (x * 1e12).round() / 1e12;
        Ok((0..count as usize)
            .map(|i| tidy(from + step * i as f64))
            .collect())
    } else {
        let values: Result<Vec<f64>, _> = spec
            .split(',')
            .map(|v| {
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| bad(format!("`{}` is not a finite number", v.trim())))
            })
            .collect();
        let values = values?;
        if values.is_empty() {
            return Err(bad("no value given".into()));
        }
        Ok(values)
    }
}

/// One step of a parameter path.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Step {
    Key(String),
    /// `[ID]`: the element whose `id` or `code` is ID (or, failing that, index ID).
    Select(String),
}

pub(super) fn parse_path(path: &str) -> Result<Vec<Step>, InputError> {
    let bad = |msg: &str| InputError::single(path, msg.to_string());
    if path.is_empty() {
        return Err(bad("empty parameter path"));
    }
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() && (steps.is_empty() || rest.is_empty()) {
            return Err(bad("a path step is empty (two dots, or a leading dot?)"));
        }
        if !key.is_empty() {
            steps.push(Step::Key(key.to_string()));
        }
        while !rest.is_empty() {
            let Some(end) = rest.find(']') else {
                return Err(bad("a `[` is not closed"));
            };
            if !rest.starts_with('[') || end < 2 {
                return Err(bad("expected `[ID]` or `[INDEX]` after a key"));
            }
            steps.push(Step::Select(rest[1..end].to_string()));
            rest = &rest[end + 1..];
        }
    }
    Ok(steps)
}

/// Writes `x` at `path` in the model file `model`. Missing object keys are created (the
/// re-parse then says whether the model has such a field); lists are selected by id, code or
/// index. Whole numbers are written as integers, so counts (`max_modules`) can be swept.
pub fn set_path(model: &mut Value, path: &str, x: f64) -> Result<(), InputError> {
    let steps = parse_path(path)?;
    let bad = |msg: String| InputError::single(path, msg);
    let mut here = model;
    let mut walked = String::new();
    for (i, step) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        here = match step {
            Step::Key(key) => {
                if here.is_null() {
                    *here = Value::Object(serde_json::Map::new());
                }
                let Value::Object(map) = here else {
                    return Err(bad(format!(
                        "`{}` is not an object, so it has no field `{key}`",
                        shown(&walked)
                    )));
                };
                walked = if walked.is_empty() {
                    key.clone()
                } else {
                    format!("{walked}.{key}")
                };
                map.entry(key.clone()).or_insert(Value::Null)
            }
            Step::Select(sel) => {
                let Value::Array(items) = here else {
                    return Err(bad(format!(
                        "`{}` is not a list, so `[{sel}]` selects nothing",
                        shown(&walked)
                    )));
                };
                let by_id = items.iter().position(|item| {
                    ["id", "code"]
                        .iter()
                        .any(|k| item.get(k).and_then(Value::as_str) == Some(sel.as_str()))
                });
                let index =
                    by_id.or_else(|| sel.parse::<usize>().ok().filter(|i| *i < items.len()));
                let Some(index) = index else {
                    let ids: Vec<&str> = items
                        .iter()
                        .filter_map(|item| {
                            item.get("id")
                                .or_else(|| item.get("code"))
                                .and_then(Value::as_str)
                        })
                        .collect();
                    return Err(bad(format!(
                        "no element of `{}` has id or code `{sel}`, and it is no index below {} \
                         (ids: {})",
                        shown(&walked),
                        items.len(),
                        ids.join(", ")
                    )));
                };
                walked = format!("{walked}[{sel}]");
                &mut items[index]
            }
        };
        if last {
            if !(here.is_null() || here.is_number()) {
                return Err(bad(format!(
                    "`{walked}` holds {}, not a number",
                    kind_of(here)
                )));
            }
            *here = number(x);
        }
    }
    Ok(())
}

pub(super) fn shown(walked: &str) -> &str {
    if walked.is_empty() {
        "$"
    } else {
        walked
    }
}

pub(super) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

pub(super) fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        // Exact: |x| < 2^53.
        Value::from(x as i64)
    } else {
        Value::from(x)
    }
}

/// The model of one variant: `base` with each (path, value) written in, parsed and validated.
/// Problems name the path and say which variant they come from.
pub fn variant_model(base: &Value, assignment: &[(String, f64)]) -> Result<Model, InputError> {
    let mut value = base.clone();
    for (path, x) in assignment {
        set_path(&mut value, path, *x)?;
    }
    let label = assignment
        .iter()
        .map(|(p, x)| format!("{p} = {x}"))
        .collect::<Vec<_>>()
        .join(", ");
    let tag = |e: InputError| InputError {
        problems: e
            .problems
            .into_iter()
            .map(|p| Problem {
                message: format!("{} (in the variant with {label})", p.message),
                ..p
            })
            .collect(),
    };
    let text = serde_json::to_string(&value)
        .map_err(|e| InputError::single("$", format!("cannot write the variant: {e}")))?;
    let model = parse_model(&text).map_err(tag)?;
    Network::new(model.clone()).map_err(tag)?;
    Ok(model)
}
