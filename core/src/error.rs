//! Typed errors at the crate boundary: bad input (with the JSON path and entity id of every
//! problem) apart from solver failures.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One thing wrong with the input, located by its JSON path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Problem {
    /// JSON path of the field at fault, e.g. `sites[3].module_capacity`.
    pub path: String,
    /// Id of the entity the field belongs to, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// What is wrong, e.g. `must be > 0, got -5`.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.entity {
            Some(id) => write!(f, "{} ({}): {}", self.path, id, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// The input cannot be used; every problem found is listed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", render_problems(.problems))]
pub struct InputError {
    /// Every problem found, in input order.
    pub problems: Vec<Problem>,
}

fn render_problems(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    format!(
        "{} problem{} in the input:\n  {}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        lines.join("\n  ")
    )
}

impl InputError {
    /// One problem at `path`.
    pub fn single(path: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            problems: vec![Problem {
                path: path.into(),
                entity: None,
                message: message.into(),
            }],
        }
    }

    /// A JSON syntax or type error, located by line and column (serde does not give a path).
    pub fn from_serde(err: serde_json::Error) -> Self {
        let path = format!("line {} column {}", err.line(), err.column());
        InputError::single(path, err.to_string())
    }
}

/// Every failure a stockade call can return. Solver outcomes such as infeasible or a time limit
/// are not errors: they are statuses of a successful solve.
#[derive(Debug, thiserror::Error)]
pub enum StockadeError {
    /// The input is invalid.
    #[error(transparent)]
    Input(#[from] InputError),
    /// HiGHS failed (not an infeasible or limited outcome: a real failure).
    #[error("solver failure: {0}")]
    Solver(String),
}
