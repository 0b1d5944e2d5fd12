//! `stockade`: the command-line front end. A thin adapter over the `stockade` crate: read the
//! input, call the core, print the human report on stdout or the JSON result with `--json`.
//!
//! Exit codes: 0 success (whatever the solver status), 1 bad input or a failure, 2 usage error.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use stockade::import::{self, CapOptions};
use stockade::solver::Method;
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

/// What `worst-case` and `fortify` share: a fixed plan of a model, the losses it is tested
/// against, and how the answer is given.
#[derive(clap::Args, Debug)]
struct LossArgs {
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

/// [`LossArgs`] read: the network, the plan, the losses, the settings.
struct LossRun {
    net: Network,
    plan: stockade::Plan,
    options: stockade::interdiction::WorstCaseOptions,
    settings: Settings,
    json: bool,
}

impl LossArgs {
    /// Reads the model and the plan; `single_points_of_failure` also ranks every lone loss.
    fn load(self, single_points_of_failure: bool) -> Result<LossRun, StockadeError> {
        let net = Network::new(stockade::parse_model(&read_input(&self.model)?)?)?;
        let plan = read_plan(&self.plan)?;
        let options = stockade::interdiction::WorstCaseOptions {
            k: self.k,
            targets: self.targets,
            duration: self.duration,
            single_points_of_failure,
        };
        let settings = Settings {
            time_limit_s: self.time_limit,
            ..Settings::default()
        };
        Ok(LossRun {
            net,
            plan,
            options,
            settings,
            json: self.json,
        })
    }
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
        /// Solution method: the extensive form (one MIP), Benders decomposition, or chosen by
        /// size (Benders from 100 scenarios on, and for capacitated facility location with
        /// 50,000 flows or more, when the model has no risk measure or N-k rule).
        #[arg(long, default_value = "auto", value_parser = ["auto", "extensive", "benders"])]
        method: String,
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
    },
    /// The worst loss of up to K elements for a fixed PLAN (one interdiction MIP), with its cost
    /// and shortfall, and every element lost alone, ranked (single points of failure).
    WorstCase {
        #[command(flatten)]
        losses: LossArgs,
    },
    /// Which elements of a fixed PLAN to protect so that the worst loss of up to K unprotected
    /// elements hurts least (defender-attacker-defender; gap per iteration on stderr).
    Fortify {
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
    },
    /// Evaluate a fixed PLAN on scenarios sampled from the model's hazards (or its explicit
    /// scenarios): expected cost, shortfall, CVaR, availability, the worst scenarios.
    Evaluate {
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
    },
    /// Joint stockpiles across the model's parties and fair cost sharing: the joint plan under
    /// the agreement, every coalition's stand-alone cost, the Shapley value, the nucleolus, the
    /// core check and the cooperation gain.
    Share {
        /// Model file (with `parties`), or - to read stdin.
        model: String,
        /// Headline division of the joint cost (every division is shown).
        #[arg(long, value_enum, default_value = "shapley")]
        rule: ShareRule,
        /// Print the JSON result instead of the briefing.
        #[arg(long)]
        json: bool,
        /// Time limit in seconds for each coalition solve.
        #[arg(long)]
        time_limit: Option<f64>,
        /// Relative MIP gap (default from the library's Settings).
        #[arg(long)]
        gap: Option<f64>,
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
    },
    /// Solve every variant of MODEL over a grid of parameter values (the Cartesian product of
    /// every --set), in parallel, each warm-started from its nearest solved neighbour.
    Sweep {
        /// Model file, or - to read stdin.
        model: String,
        /// PATH=FROM:TO:STEP or PATH=V1,V2,...: a path into the model file
        /// (`policies.country_share.cap`, `depots[jp_jogmec].capacity`, `sites[3].max_modules`)
        /// and its values. Repeat for a grid.
        #[arg(long = "set", value_name = "PATH=VALUES", required = true)]
        set: Vec<String>,
        /// Variants solved at once (default: one per core); each HiGHS solve runs on one thread.
        #[arg(long)]
        jobs: Option<usize>,
        /// Solve every variant from scratch (no MIP start from the neighbour).
        #[arg(long)]
        cold: bool,
        /// Time limit in seconds for each variant.
        #[arg(long)]
        time_limit: Option<f64>,
        /// Relative MIP gap (default from the library's Settings).
        #[arg(long)]
        gap: Option<f64>,
        /// Print the JSON result instead of the table.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Write one CSV row per variant to this file (- for stdout).
        #[arg(long, value_name = "OUT")]
        csv: Option<String>,
    },
    /// The cost-resilience Pareto frontier of MODEL by the epsilon-constraint method: the least
    /// cost at each resilience level, from the cost-optimal plan to the most resilient.
    Frontier {
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
        /// Levels solved at once (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Solve every level from scratch (no MIP start from the neighbour).
        #[arg(long)]
        cold: bool,
        /// Time limit in seconds for each level.
        #[arg(long)]
        time_limit: Option<f64>,
        /// Relative MIP gap (default from the library's Settings).
        #[arg(long)]
        gap: Option<f64>,
        /// Print the JSON result instead of the table.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Write one CSV row per level to this file (- for stdout).
        #[arg(long, value_name = "OUT")]
        csv: Option<String>,
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
    /// Run the REST service (jobs persisted in SQLite or PostgreSQL).
    Serve(stockade_server::serve::ServeArgs),
    /// Manage the REST service's API keys.
    #[command(subcommand)]
    Keys(stockade_server::serve::KeysCommand),
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

/// Settings of a sweep (or a frontier's solves) from the command line, defaults from the library.
fn sweep_settings(
    jobs: Option<usize>,
    cold: bool,
    time_limit: Option<f64>,
    gap: Option<f64>,
) -> stockade::sweep::SweepSettings {
    let defaults = stockade::sweep::SweepSettings::default();
    stockade::sweep::SweepSettings {
        solver: Settings {
            time_limit_s: time_limit.or(defaults.solver.time_limit_s),
            mip_gap: gap.unwrap_or(defaults.solver.mip_gap),
            ..defaults.solver.clone()
        },
        workers: jobs.or(defaults.workers),
        warm_start: !cold && defaults.warm_start,
    }
}

/// A progress bar on stderr counting finished variants.
fn variant_bar(what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {what} {{per_sec}} eta {{eta}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Writes CSV text to a file, or to stdout for `-`.
fn write_csv(path: &str, text: &str) -> Result<(), StockadeError> {
    if path == "-" {
        print!("{text}");
        return Ok(());
    }
    std::fs::write(path, text)
        .map_err(|e| InputError::single(path, format!("cannot write: {e}")).into())
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
    /// PySAL spopt's San Francisco data as a p-median model (205 tracts, 16 stores).
    SpoptSf {
        /// The folder with SF_demand_205_centroid_uniform_weight.csv and
        /// SF_network_distance_candidateStore_16_censusTract_205_new.csv.
        dir: PathBuf,
        /// Stores open (exactly).
        #[arg(long)]
        p: u32,
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
        _ => Err(InputError::single(
            "--saa",
            format!("expected M:N:N' (three whole numbers), got `{text}`"),
        )
        .into()),
    }
}

fn read_plan(path: &Path) -> Result<stockade::Plan, StockadeError> {
    let text = read_file(path)?;
    serde_json::from_str(&text)
        .map_err(|e| InputError::single(path.display().to_string(), e.to_string()).into())
}

fn write_plan(path: &Path, plan: &stockade::Plan) -> Result<(), StockadeError> {
    let text =
        serde_json::to_string_pretty(plan).map_err(|e| StockadeError::Solver(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| {
        InputError::single(path.display().to_string(), format!("cannot write: {e}")).into()
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
            method,
            sample,
            sample_seed,
            plan_out,
            survive,
            survive_targets,
            survive_fraction,
            survive_priority,
            saa,
            robust_k,
            targets,
            duration,
        } => {
            let mut model: Model = stockade::parse_model(&read_input(&model)?)?;
            if let Some(k) = survive {
                model.policies.survivability = Some(stockade::model::Survivability {
                    k,
                    targets: survive_targets,
                    fraction: survive_fraction,
                    priority: survive_priority,
                    method: stockade::model::SurvivabilityMethod::Auto,
                });
            }
            let defaults = Settings::default();
            let settings = Settings {
                time_limit_s: time_limit.or(defaults.time_limit_s),
                mip_gap: gap.unwrap_or(defaults.mip_gap),
                threads: threads.or(defaults.threads),
                seed: seed.unwrap_or(defaults.seed),
                log: log || defaults.log,
                method: match method.as_str() {
                    "extensive" => Method::Extensive,
                    "benders" => Method::Benders,
                    _ => Method::Auto,
                },
                ..defaults
            };
            if build_only {
                let net = Network::new(model)?;
                let report = stockade::build_report(&net)?;
                print_json(&report)?;
                return Ok(ExitCode::SUCCESS);
            }
            let net = Network::new(model)?;
            if let Some(design) = saa {
                let design = parse_saa(&design, sample_seed)?;
                let report = stockade::saa::saa(&net, design, &settings)?;
                if json {
                    print_json(&report)?;
                } else {
                    print!(
                        "{}",
                        stockade::report::render_saa(&report, &net.model.currency)
                    );
                }
                return Ok(ExitCode::SUCCESS);
            }
            if let Some(k) = robust_k {
                let currency = net.model.currency.clone();
                let losses = stockade::interdiction::WorstCaseOptions {
                    k,
                    targets,
                    duration,
                    single_points_of_failure: true,
                };
                let robust = stockade::robust::solve_robust(
                    &net,
                    &losses,
                    &settings,
                    &stockade::SolveControl::default(),
                    &|it| eprintln!("{}", stockade::robust::describe_iteration(it, &currency)),
                )?;
                if let Some(path) = &plan_out {
                    match &robust.plan {
                        Some(plan) => write_plan(path, plan)?,
                        None => eprintln!(
                            "no plan to write to {} (status {})",
                            path.display(),
                            robust.status.as_str()
                        ),
                    }
                }
                if json {
                    print_json(&robust)?;
                } else {
                    print!("{}", stockade::report::render_robust(&robust));
                }
                return Ok(ExitCode::SUCCESS);
            }
            let scenarios = match sample {
                Some(n) if net.model.hazards.is_empty() => {
                    return Err(InputError::single(
                        "hazards",
                        format!("--sample {n} samples from the hazards, and the model has none"),
                    )
                    .into())
                }
                Some(n) => stockade::ScenarioSet::sampled(&net, n, sample_seed),
                None => stockade::ScenarioSet::explicit(&net),
            };
            let result = stockade::solve_siting(
                &net,
                &scenarios,
                &settings,
                &stockade::SolveControl::default(),
            )?;
            if let (Some(path), Some(plan)) = (&plan_out, &result.plan) {
                write_plan(path, plan)?;
            } else if let Some(path) = &plan_out {
                eprintln!(
                    "no plan to write to {} (status {})",
                    path.display(),
                    result.status.as_str()
                );
            }
            if json {
                print_json(&result)?;
            } else {
                print!("{}", stockade::report::render(&result));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Evaluate {
            model,
            plan,
            scenarios,
            seed,
            threads,
            cold,
            json,
        } => {
            let net = Network::new(stockade::parse_model(&read_input(&model)?)?)?;
            let plan_text = read_file(&plan)?;
            let plan: stockade::Plan = serde_json::from_str(&plan_text)
                .map_err(|e| InputError::single(plan.display().to_string(), e.to_string()))?;
            let set = match scenarios {
                Some(n) if net.model.hazards.is_empty() => {
                    return Err(InputError::single(
                        "hazards",
                        format!("--scenarios {n} samples from the hazards, and the model has none"),
                    )
                    .into())
                }
                Some(n) => stockade::ScenarioSet::sampled(&net, n, seed),
                None => stockade::ScenarioSet::explicit(&net),
            };
            let settings = stockade::EvaluationSettings {
                threads,
                warm_start: !cold,
            };
            let bar = indicatif::ProgressBar::new(set.cases.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} scenarios {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let evaluation = stockade::evaluate(&net, &plan, &set, &settings, &|done, _| {
                bar.set_position(done as u64)
            })?;
            bar.finish_and_clear();
            if json {
                print_json(&evaluation)?;
            } else {
                print!(
                    "{}",
                    stockade::report::render_evaluation(&evaluation, &net.model.currency)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Share {
            model,
            rule,
            json,
            time_limit,
            gap,
            threads,
            orders,
            seed,
        } => {
            let net = Network::new(stockade::parse_model(&read_input(&model)?)?)?;
            let defaults = stockade::share::ShareSettings::default();
            let solver = Settings {
                time_limit_s: time_limit.or(defaults.solver.time_limit_s),
                mip_gap: gap.unwrap_or(defaults.solver.mip_gap),
                threads: Some(1),
                ..defaults.solver.clone()
            };
            let settings = stockade::share::ShareSettings {
                solver,
                rule: rule.into(),
                workers: threads.or(defaults.workers),
                shapley_orders: orders.unwrap_or(defaults.shapley_orders),
                seed: seed.unwrap_or(defaults.seed),
            };
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} coalition models {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let report = stockade::share::share(&net, &settings, &|done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })?;
            bar.finish_and_clear();
            if json {
                print_json(&report)?;
            } else {
                print!("{}", stockade::report::render_share(&report));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::WorstCase { losses } => {
            let LossRun {
                net,
                plan,
                options,
                settings,
                json,
            } = losses.load(true)?;
            let found = stockade::interdiction::worst_case(
                &net,
                &plan,
                &options,
                &[],
                &settings,
                &stockade::SolveControl::default(),
            )?;
            if json {
                print_json(&found)?;
            } else {
                print!("{}", stockade::report::render_worst_case(&found));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Fortify {
            losses,
            protect,
            budget,
        } => {
            let LossRun {
                net,
                plan,
                options: losses,
                settings,
                json,
            } = losses.load(false)?;
            let limit = match (protect, budget) {
                (Some(q), _) => stockade::robust::ProtectionLimit::Count(q),
                (None, Some(b)) => stockade::robust::ProtectionLimit::Budget(b),
                (None, None) => {
                    return Err(
                        InputError::single("--protect", "give --protect Q or --budget B").into(),
                    )
                }
            };
            let currency = net.model.currency.clone();
            let result = stockade::robust::fortify(
                &net,
                &plan,
                &losses,
                limit,
                &settings,
                &stockade::SolveControl::default(),
                &|it| eprintln!("{}", stockade::robust::describe_iteration(it, &currency)),
            )?;
            if json {
                print_json(&result)?;
            } else {
                print!("{}", stockade::report::render_fortification(&result));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sweep {
            model,
            set,
            jobs,
            cold,
            time_limit,
            gap,
            json,
            csv,
        } => {
            let text = read_input(&model)?;
            // Parsed and validated once as a whole, so that a bad base model reads as one.
            stockade::parse_model(&text)?;
            let base: serde_json::Value =
                serde_json::from_str(&text).map_err(InputError::from_serde)?;
            let parameters = set
                .iter()
                .map(|arg| stockade::sweep::Parameter::parse(arg))
                .collect::<Result<Vec<_>, _>>()?;
            let settings = sweep_settings(jobs, cold, time_limit, gap);
            let bar = variant_bar("variants");
            let report =
                stockade::sweep::sweep(&base, &parameters, &settings, None, &|done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                })?;
            bar.finish_and_clear();
            if let Some(path) = &csv {
                write_csv(path, &stockade::report::csv::sweep_csv(&report))?;
                if path == "-" {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            if json {
                print_json(&report)?;
            } else {
                print!("{}", stockade::report::render_sweep(&report));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Frontier {
            model,
            resilience,
            points,
            beta,
            jobs,
            cold,
            time_limit,
            gap,
            json,
            csv,
        } => {
            let model = stockade::parse_model(&read_input(&model)?)?;
            let settings = stockade::frontier::FrontierSettings {
                resilience: resilience.into(),
                points,
                beta,
                sweep: sweep_settings(jobs, cold, time_limit, gap),
            };
            let bar = variant_bar("levels");
            let report = stockade::frontier::frontier(&model, &settings, None, &|done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })?;
            bar.finish_and_clear();
            if let Some(path) = &csv {
                write_csv(path, &stockade::report::csv::frontier_csv(&report))?;
                if path == "-" {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            if json {
                print_json(&report)?;
            } else {
                print!("{}", stockade::report::render_frontier(&report));
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
        Command::Serve(args) => Ok(stockade_server::serve::run_serve(args)),
        Command::Keys(cmd) => Ok(stockade_server::serve::run_keys(cmd)),
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
                ImportCommand::SpoptSf { dir, p } => import::spopt_sf(
                    &read_file(&dir.join(import::SPOPT_SF_DEMAND))?,
                    &read_file(&dir.join(import::SPOPT_SF_DISTANCE))?,
                    p,
                    &format!("spopt-sf-p{p}"),
                )?,
            };
            let text =
                serde_json::to_string(&model).map_err(|e| StockadeError::Solver(e.to_string()))?;
            println!("{text}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
