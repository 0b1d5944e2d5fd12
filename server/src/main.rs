//! `stockade`: the command-line front end. A thin adapter over the `stockade` crate: each
//! command (one file in `cli/`) reads its input into a request for the one dispatcher
//! (`stockade_server::analysis`) and prints the human report on stdout or the JSON result with
//! `--json`.
//!
//! Exit codes: 0 success (whatever the solver status), 1 bad input or a failure, 2 usage error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use stockade::StockadeError;

mod cli;

#[derive(Parser, Debug)]
#[command(
    name = "stockade",
    version,
    about = "Plan resilient critical-mineral supply chains (siting, dispersion, stockpiles) with HiGHS"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Solve the siting model of MODEL (a JSON file, or - for stdin).
    Solve(cli::solve::SolveArgs),
    /// The worst loss of up to K elements for a fixed PLAN (one interdiction MIP), with its cost
    /// and shortfall, and every element lost alone, ranked (single points of failure).
    WorstCase {
        #[command(flatten)]
        losses: cli::losses::LossArgs,
    },
    /// Which elements of a fixed PLAN to protect so that the worst loss of up to K unprotected
    /// elements hurts least (defender-attacker-defender; gap per iteration on stderr).
    Fortify(cli::losses::FortifyArgs),
    /// Evaluate a fixed PLAN on scenarios sampled from the model's hazards (or its explicit
    /// scenarios): expected cost, shortfall, CVaR, availability, the worst scenarios.
    Evaluate(cli::evaluate::EvaluateArgs),
    /// Joint stockpiles across the model's parties and fair cost sharing: the joint plan under
    /// the agreement, every coalition's stand-alone cost, the Shapley value, the nucleolus, the
    /// core check and the cooperation gain.
    Share(cli::share::ShareArgs),
    /// Solve every variant of MODEL over a grid of parameter values (the Cartesian product of
    /// every --set), in parallel, each warm-started from its nearest solved neighbour.
    Sweep(cli::sweep::SweepArgs),
    /// The cost-resilience Pareto frontier of MODEL by the epsilon-constraint method: the least
    /// cost at each resilience level, from the cost-optimal plan to the most resilient.
    Frontier(cli::sweep::FrontierArgs),
    /// Check MODEL: exit 0 when valid, 1 with every problem listed otherwise.
    Validate(cli::model::ValidateArgs),
    /// Print the JSON Schema of the model file.
    Schema,
    /// Turn a public benchmark file into a model JSON on stdout.
    #[command(subcommand)]
    Import(cli::model::ImportCommand),
    /// Run the REST service (jobs persisted in SQLite or PostgreSQL).
    Serve(stockade_server::serve::ServeArgs),
    /// Manage the REST service's API keys.
    #[command(subcommand)]
    Keys(stockade_server::serve::KeysCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, StockadeError> {
    match cli.command {
        Command::Solve(args) => cli::solve::run(args),
        Command::WorstCase { losses } => cli::losses::worst_case(losses),
        Command::Fortify(args) => cli::losses::fortify(args),
        Command::Evaluate(args) => cli::evaluate::run(args),
        Command::Share(args) => cli::share::run(args),
        Command::Sweep(args) => cli::sweep::sweep(args),
        Command::Frontier(args) => cli::sweep::frontier(args),
        Command::Validate(args) => cli::model::validate(args),
        Command::Schema => cli::model::schema(),
        Command::Import(cmd) => cli::model::import(cmd),
        Command::Serve(args) => Ok(stockade_server::serve::run_serve(args)),
        Command::Keys(cmd) => Ok(stockade_server::serve::run_keys(cmd)),
    }
}
