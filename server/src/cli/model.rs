//! `stockade validate`, `stockade schema` and `stockade import`: the model file itself.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use stockade::import::{self, CapOptions};
use stockade::{Model, StockadeError};

use super::{print_json, read_file, read_input};

/// Arguments of `validate`.
#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// Model file, or - to read stdin.
    model: String,
    /// Print the problems as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `validate`: exit 0 when valid, 1 with every problem listed otherwise.
pub fn validate(args: ValidateArgs) -> Result<ExitCode, StockadeError> {
    let problems = match stockade::parse_model(&read_input(&args.model)?) {
        Ok(m) => stockade::validate(&m),
        Err(e) => e.problems,
    };
    if args.json {
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

/// Runs `schema`.
pub fn schema() -> Result<ExitCode, StockadeError> {
    print_json(&Model::json_schema())?;
    Ok(ExitCode::SUCCESS)
}

/// The benchmark formats `import` reads.
#[derive(clap::Subcommand, Debug)]
pub enum ImportCommand {
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

fn instance_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Runs `import`: the model JSON on stdout.
pub fn import(cmd: ImportCommand) -> Result<ExitCode, StockadeError> {
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
    let text = serde_json::to_string(&model).map_err(|e| StockadeError::Solver(e.to_string()))?;
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}
