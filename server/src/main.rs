//! `stockade`: the command-line front end. A thin adapter over the `stockade` crate: read the
//! input, call the core, print the human report on stdout or the JSON result with `--json`.
//!
//! Exit codes: 0 success (whatever the solver status), 1 bad input or a failure, 2 usage error.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use stockade::import::{self, CapOptions};
use stockade::{InputError, Model, Network, Settings, StockadeError};

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
    Solve {
        /// Model file, or - to read stdin.
        model: String,
        /// Print the JSON result instead of the report.
        #[arg(long)]
        json: bool,
        /// Time limit in seconds.
        #[arg(long)]
        time_limit: Option<f64>,
        /// Relative MIP gap (default from the library's Settings).
        #[arg(long)]
        gap: Option<f64>,
        /// Threads for HiGHS.
        #[arg(long)]
        threads: Option<u32>,
        /// HiGHS random seed.
        #[arg(long)]
        seed: Option<u32>,
        /// Show the HiGHS log on stderr.
        #[arg(long)]
        log: bool,
        /// Build the MIP and report its size and build time without solving.
        #[arg(long)]
        build_only: bool,
    },
    /// Check MODEL: exit 0 when valid, 1 with every problem listed otherwise.
    Validate {
        /// Model file, or - to read stdin.
        model: String,
        /// Print the problems as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of the model file.
    Schema,
    /// Turn a public benchmark file into a model JSON on stdout.
    #[command(subcommand)]
    Import(ImportCommand),
}

#[derive(Subcommand, Debug)]
enum ImportCommand {
    /// OR-Library capacitated warehouse location (cap41 ... capc).
    OrlibCap {
        /// The instance file.
        file: PathBuf,
        /// Capacity of every warehouse (needed for capa, capb, capc).
        #[arg(long)]
        capacity: Option<f64>,
        /// Each customer served by exactly one warehouse.
        #[arg(long)]
        single_source: bool,
        /// Failure scenarios (stoch-cflp format): writes the two-stage model with shortfall.
        #[arg(long)]
        failures: Option<PathBuf>,
    },
    /// Holmberg et al. single-source CFLP (p1 ... p71).
    Holmberg {
        /// The instance file.
        file: PathBuf,
    },
    /// OR-Library p-median (pmed1 ... pmed40).
    OrlibPmed {
        /// The instance file.
        file: PathBuf,
    },
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

fn read_input(path: &str) -> Result<String, StockadeError> {
    let mut text = String::new();
    let res = if path == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    res.map_err(|e| InputError::single(path, format!("cannot read: {e}")))?;
    Ok(text)
}

fn read_file(path: &Path) -> Result<String, StockadeError> {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|e| {
            InputError::single(path.display().to_string(), format!("cannot read: {e}")).into()
        })
}

fn instance_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<(), StockadeError> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| StockadeError::Solver(e.to_string()))?;
    println!("{text}");
    Ok(())
}

fn run(cli: Cli) -> Result<ExitCode, StockadeError> {
    match cli.command {
        Command::Solve {
            model,
            json,
            time_limit,
            gap,
            threads,
            seed,
            log,
            build_only,
        } => {
            let model: Model = stockade::parse_model(&read_input(&model)?)?;
            let defaults = Settings::default();
            let settings = Settings {
                time_limit_s: time_limit.or(defaults.time_limit_s),
                mip_gap: gap.unwrap_or(defaults.mip_gap),
                threads: threads.or(defaults.threads),
                seed: seed.unwrap_or(defaults.seed),
                log: log || defaults.log,
                ..defaults
            };
            if build_only {
                let net = Network::new(model)?;
                let report = stockade::siting::build_report(&net)?;
                print_json(&report)?;
                return Ok(ExitCode::SUCCESS);
            }
            let result = stockade::solve(model, &settings)?;
            if json {
                print_json(&result)?;
            } else {
                print!("{}", stockade::report::render(&result));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { model, json } => {
            let problems = match stockade::parse_model(&read_input(&model)?) {
                Ok(m) => stockade::validate(&m),
                Err(e) => e.problems,
            };
            if json {
                print_json(&problems)?;
            } else if problems.is_empty() {
                println!("valid");
            } else {
                for p in &problems {
                    println!("{p}");
                }
            }
            Ok(if problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Schema => {
            print_json(&Model::json_schema())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(cmd) => {
            let model = match cmd {
                ImportCommand::OrlibCap {
                    file,
                    capacity,
                    single_source,
                    failures,
                } => {
                    let failures = failures.map(|f| read_file(&f)).transpose()?;
                    let opts = CapOptions {
                        capacity,
                        single_source,
                        failures,
                    };
                    import::orlib_cap(&read_file(&file)?, &instance_name(&file), &opts)?
                }
                ImportCommand::Holmberg { file } => {
                    import::holmberg(&read_file(&file)?, &instance_name(&file))?
                }
                ImportCommand::OrlibPmed { file } => {
                    import::orlib_pmed(&read_file(&file)?, &instance_name(&file))?
                }
            };
            let text =
                serde_json::to_string(&model).map_err(|e| StockadeError::Solver(e.to_string()))?;
            println!("{text}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
