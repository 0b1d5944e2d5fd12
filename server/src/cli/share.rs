//! `stockade share`: joint stockpiles across the model's parties and fair cost sharing.

use std::process::ExitCode;

use stockade::StockadeError;
use stockade_server::analysis::{Analysis, Request};

use super::{read_input, run_and_show, LimitArgs, Show};

/// Arguments of `share`.
#[derive(clap::Args, Debug)]
pub struct ShareArgs {
    /// Model file (with `parties`), or - to read stdin.
    model: String,
    /// Headline division of the joint cost (every division is shown).
    #[arg(long, value_enum, default_value = "shapley")]
    rule: ShareRule,
    /// Print the JSON result instead of the briefing.
    #[arg(long)]
    json: bool,
    /// Limits of each coalition solve.
    #[command(flatten)]
    limits: LimitArgs,
    /// Coalition models solved at once (default: one per core); each HiGHS solve then runs
    /// on one thread.
    #[arg(long)]
    threads: Option<usize>,
    /// Random orders for the sampled Shapley value (more than 12 parties).
    #[arg(long)]
    orders: Option<usize>,
    /// Seed of the sampled orders.
    #[arg(long)]
    seed: Option<u64>,
}

/// Division rules of `stockade share`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ShareRule {
    /// In proportion to demand.
    Proportional,
    /// In proportion to the expected shortfall the joint plan avoids.
    Avoided,
    /// The Shapley value.
    Shapley,
    /// The nucleolus.
    Nucleolus,
}

impl From<ShareRule> for stockade::share::Rule {
    fn from(r: ShareRule) -> Self {
        match r {
            ShareRule::Proportional => Self::Proportional,
            ShareRule::Avoided => Self::Avoided,
            ShareRule::Shapley => Self::Shapley,
            ShareRule::Nucleolus => Self::Nucleolus,
        }
    }
}

/// Runs `share`.
pub fn run(args: ShareArgs) -> Result<ExitCode, StockadeError> {
    let model = read_input(&args.model)?;
    let defaults = stockade::share::ShareSettings::default();
    let solver = stockade::Settings {
        threads: Some(1),
        ..args.limits.apply(defaults.solver.clone())
    };
    let settings = stockade::share::ShareSettings {
        solver,
        rule: args.rule.into(),
        workers: args.threads.or(defaults.workers),
        shapley_orders: args.orders.unwrap_or(defaults.shapley_orders),
        seed: args.seed.unwrap_or(defaults.seed),
    };
    let request = Request {
        model,
        survivability: None,
        analysis: Analysis::Share { settings },
    };
    run_and_show(
        request,
        &Show {
            json: args.json,
            steps: Some("coalition models"),
            ..Show::default()
        },
    )
}
