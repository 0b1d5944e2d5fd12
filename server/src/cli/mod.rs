//! The command line's pieces: one file per command, each reading its arguments into an
//! [`analysis::Request`](stockade_server::analysis::Request) and showing the outcome; the shared
//! flags, files and output here.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use stockade::solver::Method;
use stockade::{InputError, Settings, StockadeError};
use stockade_server::analysis::{Hooks, Ran, Request};

pub mod evaluate;
pub mod losses;
pub mod model;
pub mod share;
pub mod solve;
pub mod sweep;

/// Time limit and gap: the solver flags of every command that solves.
#[derive(clap::Args, Debug, Clone)]
pub struct LimitArgs {
    /// Time limit in seconds.
    #[arg(long)]
    pub time_limit: Option<f64>,
    /// Relative MIP gap (default from the library's Settings).
    #[arg(long)]
    pub gap: Option<f64>,
}

impl LimitArgs {
    /// `base` with these limits where given.
    pub fn apply(&self, base: Settings) -> Settings {
        Settings {
            time_limit_s: self.time_limit.or(base.time_limit_s),
            mip_gap: self.gap.unwrap_or(base.mip_gap),
            ..base
        }
    }
}

/// Every field of the library's `Settings` as flags of `solve`, defaults from `Settings`.
#[derive(clap::Args, Debug, Clone)]
pub struct SettingsArgs {
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Threads for HiGHS.
    #[arg(long)]
    pub threads: Option<u32>,
    /// HiGHS random seed.
    #[arg(long)]
    pub seed: Option<u32>,
    /// Show the HiGHS log on stderr.
    #[arg(long)]
    pub log: bool,
    /// Skip HiGHS presolve.
    #[arg(long)]
    pub no_presolve: bool,
    /// Tolerance within which HiGHS accepts an integer variable as integer (HiGHS's own 1e-6
    /// when absent).
    #[arg(long, value_name = "TOL")]
    pub mip_feasibility_tolerance: Option<f64>,
    /// Solution method: the extensive form (one MIP), Benders decomposition, or chosen by
    /// size (Benders from 100 scenarios on, and for capacitated facility location with
    /// 50,000 flows or more, when the model has no risk measure or N-k rule).
    #[arg(long, value_enum, default_value = "auto")]
    pub method: MethodArg,
}

impl SettingsArgs {
    /// The settings these flags ask for.
    pub fn settings(&self) -> Settings {
        let defaults = Settings::default();
        Settings {
            threads: self.threads.or(defaults.threads),
            seed: self.seed.unwrap_or(defaults.seed),
            log: self.log || defaults.log,
            presolve: defaults.presolve && !self.no_presolve,
            mip_feasibility_tolerance: self
                .mip_feasibility_tolerance
                .or(defaults.mip_feasibility_tolerance),
            method: self.method.into(),
            ..self.limits.apply(defaults)
        }
    }
}

/// `--method`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum MethodArg {
    /// Chosen by size.
    Auto,
    /// The extensive form.
    Extensive,
    /// Benders decomposition.
    Benders,
}

impl From<MethodArg> for Method {
    fn from(m: MethodArg) -> Self {
        match m {
            MethodArg::Auto => Method::Auto,
            MethodArg::Extensive => Method::Extensive,
            MethodArg::Benders => Method::Benders,
        }
    }
}

/// Reads a file, or stdin for `-`.
pub fn read_input(path: &str) -> Result<String, StockadeError> {
    let mut text = String::new();
    let res = if path == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    res.map_err(|e| InputError::single(path, format!("cannot read: {e}")))?;
    Ok(text)
}

/// Reads a file as text (invalid UTF-8 replaced).
pub fn read_file(path: &Path) -> Result<String, StockadeError> {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|e| {
            InputError::single(path.display().to_string(), format!("cannot read: {e}")).into()
        })
}

/// Reads a plan file written by `solve --plan-out`.
pub fn read_plan(path: &Path) -> Result<stockade::Plan, StockadeError> {
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

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), StockadeError> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| StockadeError::Solver(e.to_string()))?;
    println!("{text}");
    Ok(())
}

/// A progress bar on stderr counting `what`.
pub fn bar(what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {what} {{per_sec}} eta {{eta}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// How an outcome is shown.
#[derive(Debug, Default)]
pub struct Show<'a> {
    /// The JSON result instead of the report.
    pub json: bool,
    /// Write the table to this file (- for stdout, and then nothing else).
    pub csv: Option<&'a str>,
    /// Write the plan found to this file.
    pub plan_out: Option<&'a Path>,
    /// Count steps on a progress bar of these.
    pub steps: Option<&'a str>,
}

/// Runs a request through the dispatcher (loop iterations on stderr, steps on a bar) and shows
/// its outcome.
pub fn run_and_show(request: Request, show: &Show<'_>) -> Result<ExitCode, StockadeError> {
    let bar = show.steps.map(bar);
    let steps = |done: usize, total: usize| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    };
    let ran = stockade_server::analysis::run(
        request,
        &Hooks {
            control: &stockade::SolveControl::default(),
            steps: &steps,
            iteration: &|it, currency| {
                eprintln!("{}", stockade::robust::describe_iteration(it, currency))
            },
        },
    )?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    show_outcome(&ran, show)
}

fn show_outcome(ran: &Ran, show: &Show<'_>) -> Result<ExitCode, StockadeError> {
    if let Some(path) = show.plan_out {
        match ran.plan() {
            Some(plan) => write_plan(path, plan)?,
            None => eprintln!(
                "no plan to write to {} (status {})",
                path.display(),
                ran.solver_status()
            ),
        }
    }
    if let (Some(path), Some(text)) = (show.csv, ran.csv()) {
        if path == "-" {
            print!("{text}");
            return Ok(ExitCode::SUCCESS);
        }
        std::fs::write(path, text)
            .map_err(|e| InputError::single(path, format!("cannot write: {e}")))?;
    }
    if show.json {
        print_json(&ran.outcome)?;
    } else {
        print!("{}", ran.report()?);
    }
    Ok(ExitCode::SUCCESS)
}
