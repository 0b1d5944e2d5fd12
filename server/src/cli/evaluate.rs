//! `stockade evaluate`: a fixed plan over the model's explicit scenarios or a sample from its
//! hazards.

use std::path::PathBuf;
use std::process::ExitCode;

use stockade::{InputError, ScenarioChoice, StockadeError};
use stockade_server::analysis::{Analysis, Request};

use super::{read_file, read_input, run_and_show, Show};

/// Arguments of `evaluate`.
#[derive(clap::Args, Debug)]
pub struct EvaluateArgs {
    /// Model file, or - to read stdin.
    model: String,
    /// Plan file written by `solve --plan-out`.
    plan: PathBuf,
    /// Scenarios to sample from the hazards; the model's explicit scenarios when absent.
    #[arg(long, value_name = "N")]
    scenarios: Option<usize>,
    /// Seed of the sample.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Build and solve every scenario LP from scratch (the reference path; slower).
    #[arg(long)]
    cold: bool,
    /// Print the JSON result.
    #[arg(long)]
    json: bool,
}

/// Runs `evaluate`.
pub fn run(args: EvaluateArgs) -> Result<ExitCode, StockadeError> {
    let model = read_input(&args.model)?;
    let plan_text = read_file(&args.plan)?;
    let plan: stockade::Plan = serde_json::from_str(&plan_text)
        .map_err(|e| InputError::single(args.plan.display().to_string(), e.to_string()))?;
    let request = Request {
        model,
        survivability: None,
        analysis: Analysis::Evaluate {
            plan,
            scenarios: ScenarioChoice::sampled_or_explicit(args.scenarios, args.seed),
            settings: stockade::EvaluationSettings {
                threads: args.threads,
                warm_start: !args.cold,
            },
        },
    };
    run_and_show(
        request,
        &Show {
            json: args.json,
            steps: Some("scenarios"),
            ..Show::default()
        },
    )
}
