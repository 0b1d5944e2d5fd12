//! `stockade solve`: the siting model, or with `--build-only`, `--saa` or `--robust-k` its size,
//! its statistical bounds or its min-max plan.

use std::path::PathBuf;
use std::process::ExitCode;

use stockade::{ScenarioChoice, StockadeError};
use stockade_server::analysis::{Analysis, Request};

use super::{read_input, run_and_show, SettingsArgs, Show};

/// Arguments of `solve`.
#[derive(clap::Args, Debug)]
pub struct SolveArgs {
    /// Model file, or - to read stdin.
    model: String,
    /// Print the JSON result instead of the report.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    settings: SettingsArgs,
    /// Build the MIP and report its size and build time without solving.
    #[arg(long)]
    build_only: bool,
    /// Solve over N scenarios sampled from the model's hazards instead of its explicit list.
    #[arg(long, value_name = "N")]
    sample: Option<usize>,
    /// Seed of the scenario sample (the same seed gives the same scenarios everywhere).
    #[arg(long, default_value_t = 1)]
    sample_seed: u64,
    /// Write the plan (first-stage decisions) to this file, for `stockade evaluate`.
    #[arg(long, value_name = "PLAN.json")]
    plan_out: Option<PathBuf>,
    /// Require N-k survivability: protected demand met under any loss of up to K elements.
    #[arg(long, value_name = "K")]
    survive: Option<u32>,
    /// Element kinds that can be lost, comma-separated (sites, suppliers, depots, routes).
    #[arg(long, default_value = "sites", value_delimiter = ',')]
    survive_targets: Vec<String>,
    /// Share of protected demand that must be met in every contingency.
    #[arg(long, default_value_t = 1.0)]
    survive_fraction: f64,
    /// Demand of this priority or more urgent is protected.
    #[arg(long, default_value_t = 1)]
    survive_priority: u32,
    /// SAA statistical bounds (Mak, Morton and Wood): M replications of N sampled scenarios,
    /// an independent sample of N' for the upper bound.
    #[arg(long, value_name = "M:N:N'")]
    saa: Option<String>,
    /// Robust siting: minimise first-stage cost plus the worst second-stage cost over every
    /// loss of up to K elements (cutting-plane loop; gap per iteration on stderr). It replaces
    /// the model's scenarios and risk, so it does not combine with sampling or SAA.
    #[arg(long, value_name = "K", conflicts_with_all = ["sample", "saa", "build_only"])]
    robust_k: Option<u32>,
    /// Element kinds the robust plan must withstand losing, comma-separated.
    #[arg(
        long,
        default_value = "sites,suppliers,depots,routes",
        value_delimiter = ','
    )]
    targets: Vec<String>,
    /// Share of the year a lost element is out, (0, 1]; 1 = the whole year.
    #[arg(long, default_value_t = 1.0)]
    duration: f64,
}

/// `M:N:N'` of `--saa`.
fn parse_saa(text: &str, seed: u64) -> Result<stockade::saa::SaaDesign, StockadeError> {
    let parts: Vec<Result<usize, _>> = text.split(':').map(str::parse::<usize>).collect();
    match parts.as_slice() {
        [Ok(m), Ok(n), Ok(n2)] => Ok(stockade::saa::SaaDesign {
            replications: *m,
            sample: *n,
            evaluation_sample: *n2,
            seed,
        }),
        _ => Err(stockade::InputError::single(
            "--saa",
            format!("expected M:N:N' (three whole numbers), got `{text}`"),
        )
        .into()),
    }
}

/// Runs `solve`.
pub fn run(args: SolveArgs) -> Result<ExitCode, StockadeError> {
    let model = read_input(&args.model)?;
    let survivability = args.survive.map(|k| stockade::model::Survivability {
        k,
        targets: args.survive_targets.clone(),
        fraction: args.survive_fraction,
        priority: args.survive_priority,
        method: stockade::model::SurvivabilityMethod::Auto,
    });
    let settings = args.settings.settings();
    let mut plan_out = args.plan_out.as_deref();
    let analysis = if args.build_only {
        plan_out = None;
        Analysis::Build
    } else if let Some(design) = &args.saa {
        plan_out = None;
        Analysis::Saa {
            design: parse_saa(design, args.sample_seed)?,
            settings,
        }
    } else if let Some(k) = args.robust_k {
        Analysis::Robust {
            losses: stockade::interdiction::WorstCaseOptions {
                k,
                targets: args.targets.clone(),
                duration: args.duration,
                single_points_of_failure: true,
            },
            settings,
        }
    } else {
        Analysis::Solve {
            settings,
            scenarios: ScenarioChoice::sampled_or_explicit(args.sample, args.sample_seed),
        }
    };
    let request = Request {
        model,
        survivability,
        analysis,
    };
    run_and_show(
        request,
        &Show {
            json: args.json,
            plan_out,
            ..Show::default()
        },
    )
}
