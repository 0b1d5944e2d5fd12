//! `stockade sweep` and `stockade frontier`: many solves of one model, over a grid of parameter
//! values or along a cost-resilience frontier.

use std::process::ExitCode;

use stockade::StockadeError;
use stockade_server::analysis::{Analysis, Request};

use super::{read_input, run_and_show, LimitArgs, Show};

/// How the solves of a sweep or frontier run.
#[derive(clap::Args, Debug)]
pub struct SolvesArgs {
    /// Solves at once (default: one per core); each HiGHS solve runs on one thread.
    #[arg(long)]
    jobs: Option<usize>,
    /// Solve every variant from scratch (no MIP start from the neighbour).
    #[arg(long)]
    cold: bool,
    /// Limits of each solve.
    #[command(flatten)]
    limits: LimitArgs,
    /// Print the JSON result instead of the table.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Write one CSV row per solve to this file (- for stdout).
    #[arg(long, value_name = "OUT")]
    csv: Option<String>,
}

impl SolvesArgs {
    /// Settings of the solves, defaults from the library.
    fn settings(&self) -> stockade::sweep::SweepSettings {
        let defaults = stockade::sweep::SweepSettings::default();
        stockade::sweep::SweepSettings {
            solver: self.limits.apply(defaults.solver.clone()),
            workers: self.jobs.or(defaults.workers),
            warm_start: !self.cold && defaults.warm_start,
        }
    }

    fn show<'a>(&'a self, steps: &'a str) -> Show<'a> {
        Show {
            json: self.json,
            csv: self.csv.as_deref(),
            steps: Some(steps),
            ..Show::default()
        }
    }
}

/// Arguments of `sweep`.
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// Model file, or - to read stdin.
    model: String,
    /// PATH=FROM:TO:STEP or PATH=V1,V2,...: a path into the model file
    /// (`policies.country_share.cap`, `depots[jp_jogmec].capacity`, `sites[3].max_modules`)
    /// and its values. Repeat for a grid.
    #[arg(long = "set", value_name = "PATH=VALUES", required = true)]
    set: Vec<String>,
    #[command(flatten)]
    solves: SolvesArgs,
}

/// Arguments of `frontier`.
#[derive(clap::Args, Debug)]
pub struct FrontierArgs {
    /// Model file, or - to read stdin.
    model: String,
    /// Resilience measure: expected shortfall (t/yr), CVaR of shortfall (t/yr), or the
    /// number of simultaneous losses survived (N-k).
    #[arg(long, value_enum, default_value = "expected-shortfall")]
    resilience: ResilienceArg,
    /// Levels to solve (for nk: k = 0 .. K-1).
    #[arg(long, value_name = "K", default_value_t = stockade::frontier::FrontierSettings::default().points)]
    points: usize,
    /// CVaR level of cvar_shortfall.
    #[arg(long, default_value_t = stockade::frontier::FrontierSettings::default().beta)]
    beta: f64,
    #[command(flatten)]
    solves: SolvesArgs,
}

/// Resilience measures of `stockade frontier`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ResilienceArg {
    /// Probability-weighted unmet demand, t/yr.
    #[value(name = "expected-shortfall", alias = "expected_shortfall")]
    ExpectedShortfall,
    /// CVaR at --beta of unmet demand, t/yr.
    #[value(name = "cvar-shortfall", alias = "cvar_shortfall")]
    CvarShortfall,
    /// Simultaneous site losses survived (N-k).
    Nk,
}

impl From<ResilienceArg> for stockade::frontier::Resilience {
    fn from(r: ResilienceArg) -> Self {
        match r {
            ResilienceArg::ExpectedShortfall => Self::ExpectedShortfall,
            ResilienceArg::CvarShortfall => Self::CvarShortfall,
            ResilienceArg::Nk => Self::Nk,
        }
    }
}

/// Runs `sweep`.
pub fn sweep(args: SweepArgs) -> Result<ExitCode, StockadeError> {
    let model = read_input(&args.model)?;
    let parameters = args
        .set
        .iter()
        .map(|arg| stockade::sweep::Parameter::parse(arg))
        .collect::<Result<Vec<_>, _>>()?;
    let request = Request {
        model,
        survivability: None,
        analysis: Analysis::Sweep {
            parameters,
            settings: args.solves.settings(),
        },
    };
    run_and_show(request, &args.solves.show("variants"))
}

/// Runs `frontier`.
pub fn frontier(args: FrontierArgs) -> Result<ExitCode, StockadeError> {
    let model = read_input(&args.model)?;
    let settings = stockade::frontier::FrontierSettings {
        resilience: args.resilience.into(),
        points: args.points,
        beta: args.beta,
        sweep: args.solves.settings(),
    };
    let request = Request {
        model,
        survivability: None,
        analysis: Analysis::Frontier { settings },
    };
    run_and_show(request, &args.solves.show("levels"))
}
