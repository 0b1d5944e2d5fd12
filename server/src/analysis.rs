//! One dispatcher for every analysis: a typed [`Request`] -> the core call -> a typed
//! [`Outcome`]. The command line and the job engine (so REST) both run analyses through [`run`];
//! each adapter only reads its input into a request and shows the outcome (a report for a person,
//! JSON, CSV, a stored job result). The model is parsed and its network built once per request.

use serde::Serialize;
use stockade::analysis::evaluate::Evaluation;
use stockade::analysis::frontier::{FrontierReport, FrontierSettings};
use stockade::analysis::interdiction::{WorstCase, WorstCaseOptions};
use stockade::analysis::robust::{Fortification, LoopIteration, ProtectionLimit, RobustResult};
use stockade::analysis::saa::{SaaDesign, SaaReport};
use stockade::analysis::share::{ShareReport, ShareSettings};
use stockade::analysis::sweep::{Parameter, SweepReport, SweepSettings};
use stockade::model::Survivability;
use stockade::{
    BuildReport, EvaluationSettings, InputError, Network, Plan, ScenarioChoice, ScenarioSet,
    Settings, SolveControl, SolveResult, Status, StockadeError,
};
use tracing::info_span;

/// An analysis of one model: the model file's text, an optional N-k rule that replaces the
/// model's own (the command line's `--survive`), and what to do with it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The model file (JSON text).
    pub model: String,
    /// Replaces `policies.survivability` before the network is built.
    pub survivability: Option<Survivability>,
    /// The analysis.
    pub analysis: Analysis,
}

/// What to do with a model.
#[derive(Debug, Clone)]
pub enum Analysis {
    /// The siting MIP over explicit or sampled scenarios.
    Solve {
        /// Solver settings.
        settings: Settings,
        /// The scenarios.
        scenarios: ScenarioChoice,
    },
    /// Build the MIP and report its size, without solving.
    Build,
    /// Sample-average approximation bounds.
    Saa {
        /// Replications and sample sizes.
        design: SaaDesign,
        /// Solver settings.
        settings: Settings,
    },
    /// The min-max plan against the worst loss of up to k elements.
    Robust {
        /// What can be lost.
        losses: WorstCaseOptions,
        /// Solver settings.
        settings: Settings,
    },
    /// A fixed plan over explicit or sampled scenarios.
    Evaluate {
        /// The plan.
        plan: Plan,
        /// The scenarios.
        scenarios: ScenarioChoice,
        /// Evaluation settings.
        settings: EvaluationSettings,
    },
    /// Joint stockpile and cost sharing across the model's parties.
    Share {
        /// Sharing settings.
        settings: ShareSettings,
    },
    /// A fixed plan's worst loss of up to k elements.
    WorstCase {
        /// The plan.
        plan: Plan,
        /// What can be lost.
        options: WorstCaseOptions,
        /// Solver settings.
        settings: Settings,
    },
    /// What to protect so that a fixed plan's worst loss costs least.
    Fortify {
        /// The plan.
        plan: Plan,
        /// What can be lost.
        losses: WorstCaseOptions,
        /// How much may be protected.
        limit: ProtectionLimit,
        /// Solver settings.
        settings: Settings,
    },
    /// Every variant over a grid of parameter values.
    Sweep {
        /// The swept parameters.
        parameters: Vec<Parameter>,
        /// Sweep settings.
        settings: SweepSettings,
    },
    /// The cost-resilience frontier.
    Frontier {
        /// Frontier settings.
        settings: FrontierSettings,
    },
}

impl Analysis {
    /// The analysis's name in logs.
    pub fn name(&self) -> &'static str {
        match self {
            Analysis::Solve { .. } => "solve",
            Analysis::Build => "build",
            Analysis::Saa { .. } => "saa",
            Analysis::Robust { .. } => "robust",
            Analysis::Evaluate { .. } => "evaluate",
            Analysis::Share { .. } => "share",
            Analysis::WorstCase { .. } => "worst_case",
            Analysis::Fortify { .. } => "fortify",
            Analysis::Sweep { .. } => "sweep",
            Analysis::Frontier { .. } => "frontier",
        }
    }
}

/// What an analysis hears back while it runs.
pub struct Hooks<'a> {
    /// Cancellation flag and HiGHS progress.
    pub control: &'a SolveControl,
    /// `(done, total)` of analyses that go step by step: scenarios, coalition models, variants,
    /// frontier levels.
    pub steps: &'a (dyn Fn(usize, usize) + Sync),
    /// Each iteration of a bounding loop (robust, fortify), with the model's currency.
    pub iteration: &'a (dyn Fn(&LoopIteration, &str) + Sync),
}

impl std::fmt::Debug for Hooks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("control", self.control)
            .finish_non_exhaustive()
    }
}

/// The result of one analysis, typed.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    /// [`Analysis::Solve`].
    Solved(Box<SolveResult>),
    /// [`Analysis::Build`].
    Built(BuildReport),
    /// [`Analysis::Saa`].
    Saa(SaaReport),
    /// [`Analysis::Robust`].
    Robust(Box<RobustResult>),
    /// [`Analysis::Evaluate`].
    Evaluated(Box<Evaluation>),
    /// [`Analysis::Share`].
    Shared(Box<ShareReport>),
    /// [`Analysis::WorstCase`].
    WorstCase(Box<WorstCase>),
    /// [`Analysis::Fortify`].
    Fortified(Box<Fortification>),
    /// [`Analysis::Sweep`].
    Swept(SweepReport),
    /// [`Analysis::Frontier`].
    Frontier(FrontierReport),
}

/// An outcome and the model's currency, for the reports that show money.
#[derive(Debug, Clone)]
pub struct Ran {
    /// The outcome.
    pub outcome: Outcome,
    /// The model's currency.
    pub currency: String,
}

impl Ran {
    /// The result document (what `--json` prints and a job stores).
    pub fn to_json(&self) -> Result<serde_json::Value, StockadeError> {
        serde_json::to_value(&self.outcome)
            .map_err(|e| StockadeError::Solver(format!("result not serialisable: {e}")))
    }

    /// The report for a person (the size report of a build is its JSON).
    pub fn report(&self) -> Result<String, StockadeError> {
        use stockade::report;
        Ok(match &self.outcome {
            Outcome::Solved(r) => report::render(r),
            Outcome::Built(b) => format!(
                "{}\n",
                serde_json::to_string_pretty(b)
                    .map_err(|e| StockadeError::Solver(e.to_string()))?
            ),
            Outcome::Saa(r) => report::render_saa(r, &self.currency),
            Outcome::Robust(r) => report::render_robust(r),
            Outcome::Evaluated(e) => report::render_evaluation(e, &self.currency),
            Outcome::Shared(r) => report::render_share(r),
            Outcome::WorstCase(w) => report::render_worst_case(w),
            Outcome::Fortified(f) => report::render_fortification(f),
            Outcome::Swept(r) => report::render_sweep(r),
            Outcome::Frontier(r) => report::render_frontier(r),
        })
    }

    /// The table of a sweep or a frontier.
    pub fn csv(&self) -> Option<String> {
        match &self.outcome {
            Outcome::Swept(r) => Some(stockade::report::csv::sweep_csv(r)),
            Outcome::Frontier(r) => Some(stockade::report::csv::frontier_csv(r)),
            _ => None,
        }
    }

    /// The plan found, for `--plan-out`.
    pub fn plan(&self) -> Option<&Plan> {
        match &self.outcome {
            Outcome::Solved(r) => r.plan.as_ref(),
            Outcome::Robust(r) => r.plan.as_ref(),
            _ => None,
        }
    }

    /// The solver's word on the outcome, as a job's listing shows it.
    pub fn solver_status(&self) -> String {
        match &self.outcome {
            Outcome::Solved(r) => r.status.as_str().to_string(),
            Outcome::Built(_) => "built".to_string(),
            Outcome::Saa(_) => "estimated".to_string(),
            Outcome::Robust(r) => r.status.as_str().to_string(),
            Outcome::Evaluated(e) => if e.cancelled {
                "interrupted"
            } else if e.failed.is_empty() {
                "evaluated"
            } else {
                "evaluated_with_failures"
            }
            .to_string(),
            Outcome::Shared(r) => r.joint.status.as_str().to_string(),
            Outcome::WorstCase(w) => w.status.as_str().to_string(),
            Outcome::Fortified(f) => f.status.as_str().to_string(),
            Outcome::Swept(_) | Outcome::Frontier(_) => if self.interrupted() {
                "interrupted"
            } else {
                "swept"
            }
            .to_string(),
        }
    }

    /// Whether the analysis stopped on request before its end.
    pub fn interrupted(&self) -> bool {
        match &self.outcome {
            Outcome::Solved(r) => r.status == Status::Interrupted,
            Outcome::Robust(r) => r.status == Status::Interrupted,
            Outcome::Evaluated(e) => e.cancelled,
            Outcome::WorstCase(w) => w.status == Status::Interrupted,
            Outcome::Fortified(f) => f.status == Status::Interrupted,
            Outcome::Swept(r) => r.variants.iter().any(|v| v.status == Status::Interrupted),
            Outcome::Frontier(r) => r.points.iter().any(|p| p.status == Status::Interrupted),
            Outcome::Built(_) | Outcome::Saa(_) | Outcome::Shared(_) => false,
        }
    }

    /// The headline figure of a listing: the objective, expected cost, worst-loss cost or
    /// joint cost; none for sweeps, frontiers and builds.
    pub fn objective(&self) -> Option<f64> {
        match &self.outcome {
            Outcome::Solved(r) => r.objective,
            Outcome::Robust(r) => r.upper_bound,
            Outcome::Evaluated(e) => Some(e.expected_cost),
            Outcome::Shared(r) => r.joint.cost,
            Outcome::WorstCase(w) => Some(w.cost),
            Outcome::Fortified(f) => f.upper_bound,
            Outcome::Saa(r) => Some(r.upper_bound.mean),
            Outcome::Built(_) | Outcome::Swept(_) | Outcome::Frontier(_) => None,
        }
    }
}

/// Runs one analysis to the end on the calling thread (from a job, call it on the blocking
/// pool): parses the model, builds its network once, and calls the core.
pub fn run(request: Request, hooks: &Hooks<'_>) -> Result<Ran, StockadeError> {
    let Request {
        model: text,
        survivability,
        analysis,
    } = request;
    let mut model = stockade::parse_model(&text)?;
    if let Some(rule) = survivability {
        model.policies.survivability = Some(rule);
    }
    let currency = model.currency.clone();
    let iteration = |it: &LoopIteration| (hooks.iteration)(it, &currency);
    let ran = |outcome| {
        Ok(Ran {
            outcome,
            currency: currency.clone(),
        })
    };
    let _span = info_span!("analysis", kind = analysis.name()).entered();
    // Sweeps vary the file itself and frontiers vary the model; every other analysis works on
    // the network.
    match analysis {
        Analysis::Sweep {
            parameters,
            settings,
        } => {
            let base: serde_json::Value =
                serde_json::from_str(&text).map_err(InputError::from_serde)?;
            let report = stockade::sweep::sweep(
                &base,
                &parameters,
                &settings,
                hooks.control.cancel.clone(),
                hooks.steps,
            )?;
            return ran(Outcome::Swept(report));
        }
        Analysis::Frontier { settings } => {
            let report = stockade::frontier::frontier(
                &model,
                &settings,
                hooks.control.cancel.clone(),
                hooks.steps,
            )?;
            return ran(Outcome::Frontier(report));
        }
        _ => {}
    }
    let net = Network::new(model)?;
    if let Analysis::Solve { scenarios, .. } | Analysis::Evaluate { scenarios, .. } = &analysis {
        scenarios.check(&net.model, "hazards")?;
    }
    let outcome = match analysis {
        Analysis::Solve {
            settings,
            scenarios,
        } => {
            let set = ScenarioSet::chosen(&net, scenarios);
            let result = stockade::solve_siting(&net, &set, &settings, hooks.control)?;
            Outcome::Solved(Box::new(result))
        }
        Analysis::Build => Outcome::Built(stockade::build_report(&net)?),
        Analysis::Saa { design, settings } => {
            Outcome::Saa(stockade::saa::saa(&net, design, &settings)?)
        }
        Analysis::Robust { losses, settings } => Outcome::Robust(Box::new(
            stockade::robust::solve_robust(&net, &losses, &settings, hooks.control, &iteration)?,
        )),
        Analysis::Evaluate {
            plan,
            scenarios,
            settings,
        } => {
            let set = ScenarioSet::chosen(&net, scenarios);
            Outcome::Evaluated(Box::new(stockade::evaluate_with(
                &net,
                &plan,
                &set,
                &settings,
                hooks.steps,
                hooks.control.cancel.as_deref(),
            )?))
        }
        Analysis::Share { settings } => Outcome::Shared(Box::new(stockade::share::share(
            &net,
            &settings,
            hooks.steps,
        )?)),
        Analysis::WorstCase {
            plan,
            options,
            settings,
        } => Outcome::WorstCase(Box::new(stockade::interdiction::worst_case(
            &net,
            &plan,
            &options,
            &[],
            &settings,
            hooks.control,
        )?)),
        Analysis::Fortify {
            plan,
            losses,
            limit,
            settings,
        } => Outcome::Fortified(Box::new(stockade::robust::fortify(
            &net,
            &plan,
            &losses,
            limit,
            &settings,
            hooks.control,
            &iteration,
        )?)),
        Analysis::Sweep { .. } | Analysis::Frontier { .. } => {
            unreachable!("handled before the network is built")
        }
    };
    ran(outcome)
}
