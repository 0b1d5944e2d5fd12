//! `stockade worst-case` and `stockade fortify`: a fixed plan against the worst loss of up to k
//! elements, and what to protect against it.

use std::path::PathBuf;
use std::process::ExitCode;

use stockade::{InputError, StockadeError};
use stockade_server::analysis::{Analysis, Request};

use super::{read_input, read_plan, run_and_show, Show};

/// What `worst-case` and `fortify` share: a fixed plan of a model, the losses it is tested
/// against, and how the answer is given.
#[derive(clap::Args, Debug)]
pub struct LossArgs {
    /// Model file, or - to read stdin.
    model: String,
    /// Plan file written by `solve --plan-out`.
    plan: PathBuf,
    /// Most elements lost at once.
    #[arg(long, default_value_t = 1)]
    k: u32,
    /// Element kinds that can be lost (and, for fortify, protected), comma-separated (sites,
    /// suppliers, depots, routes).
    #[arg(
        long,
        default_value = "sites,suppliers,depots,routes",
        value_delimiter = ','
    )]
    targets: Vec<String>,
    /// Share of the year a lost element is out, (0, 1]; 1 = the whole year.
    #[arg(long, default_value_t = 1.0)]
    duration: f64,
    /// Time limit in seconds (the best answer found so far is reported, with its bound).
    #[arg(long)]
    time_limit: Option<f64>,
    /// Print the JSON result.
    #[arg(long)]
    json: bool,
}

/// Arguments of `fortify`.
#[derive(clap::Args, Debug)]
pub struct FortifyArgs {
    #[command(flatten)]
    losses: LossArgs,
    /// Protect at most Q elements.
    #[arg(
        long,
        value_name = "Q",
        conflicts_with = "budget",
        required_unless_present = "budget"
    )]
    protect: Option<u32>,
    /// Protect within this budget (currency/yr), each element at its `protection_cost`.
    #[arg(long, value_name = "B")]
    budget: Option<f64>,
}

/// The request of either command: the model, and the analysis `make` builds from the plan,
/// the losses and the settings.
fn request(
    args: &LossArgs,
    single_points_of_failure: bool,
    make: impl FnOnce(
        stockade::Plan,
        stockade::interdiction::WorstCaseOptions,
        stockade::Settings,
    ) -> Analysis,
) -> Result<Request, StockadeError> {
    let model = read_input(&args.model)?;
    let plan = read_plan(&args.plan)?;
    let options = stockade::interdiction::WorstCaseOptions {
        k: args.k,
        targets: args.targets.clone(),
        duration: args.duration,
        single_points_of_failure,
    };
    let settings = stockade::Settings {
        time_limit_s: args.time_limit,
        ..stockade::Settings::default()
    };
    Ok(Request {
        model,
        survivability: None,
        analysis: make(plan, options, settings),
    })
}

/// Runs `worst-case`.
pub fn worst_case(args: LossArgs) -> Result<ExitCode, StockadeError> {
    let request = request(&args, true, |plan, options, settings| Analysis::WorstCase {
        plan,
        options,
        settings,
    })?;
    let show = Show {
        json: args.json,
        ..Show::default()
    };
    run_and_show(request, &show)
}

/// Runs `fortify`.
pub fn fortify(args: FortifyArgs) -> Result<ExitCode, StockadeError> {
    let limit = match (args.protect, args.budget) {
        (Some(q), _) => stockade::robust::ProtectionLimit::Count(q),
        (None, Some(b)) => stockade::robust::ProtectionLimit::Budget(b),
        (None, None) => {
            return Err(InputError::single("--protect", "give --protect Q or --budget B").into())
        }
    };
    let request = request(&args.losses, false, |plan, losses, settings| {
        Analysis::Fortify {
            plan,
            losses,
            limit,
            settings,
        }
    })?;
    let show = Show {
        json: args.losses.json,
        ..Show::default()
    };
    run_and_show(request, &show)
}
