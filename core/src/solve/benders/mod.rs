//! Benders (L-shaped) decomposition of the two-stage siting model (DESIGN §4.1).
//!
//! The first stage (sites, modules, hardening, depots, stock, single-source assignments, and the
//! policy rows over them) stays in a master MIP; each scenario's second stage is an LP whose
//! right-hand side depends on the first stage. For a first stage `y`, scenario `w`'s LP is
//!
//! ```text
//! Q_w(y) = min c'x  s.t.  lo - B_w y <= W x <= hi - B_w y,  l_w <= x <= u_w
//! ```
//!
//! and `Q_w` is convex and piecewise linear in `y`. With `pi` the row duals of the LP at `y0`
//! (HiGHS's sign: the change of the objective per unit increase of the active bound), the
//! right-hand side moves by `-B_w (y - y0)`, so `Q_w(y) >= Q_w(y0) - pi' B_w (y - y0)` for every
//! `y`: the optimality cut. When hard demand (no shortfall penalty) cannot be met at `y0`, the
//! same argument on the phase-one LP (shortfall of hard demand allowed, costing 1 per tonne, all
//! else free) gives `F(y0) - pi' B_w (y - y0) <= 0`: the feasibility cut.
//!
//! The master carries one epigraph variable per group of scenarios (`theta_g >= sum over the
//! group of p_w Q_w`); with as many groups as scenarios this is the multi-cut method. The loop
//! runs first on the master's LP relaxation, separating at an in-out point between the master's
//! answer and a core point (Ben-Ameur and Neto 2007; Fischetti, Ljubic and Sinnl 2017), which
//! stabilises the cuts, then on the integer master: solve it, evaluate its plan on every scenario
//! (an upper bound), add the cuts it violates, until the master's bound (a lower bound: the
//! master is a relaxation) is within the gap of the best plan. The scenario LPs of a worker are
//! solved one after another by one HiGHS instance, each starting from the previous basis.
//!
//! Facility location gets more (Fischetti, Ljubic and Sinnl, "Benders decomposition without
//! separability", 2016): where a site's flows lie only on its capacity row, their customers'
//! demand rows and the open links `x <= d_j open_i`, the links are column bounds that move with
//! the first stage (a 1,100-row LP for capa instead of 101,100 rows), and each cut is rebuilt from
//! the demand duals `u` alone: per site the best capacity price, in closed form, which is the
//! cut `Q(y) >= sum_j d_j u_j - sum_i y_i G_i(u)` with `G_i(u)` what site `i` can earn from the
//! customers at prices `u` within its capacity. That is the customer-by-customer Lagrangian
//! bound of capacitated facility location, as strong as the LP at the point and the strongest
//! these prices allow at every other (see [`SiteBlock`]). With it OR-Library's capa, capb and
//! capc (100 sites x 1000 customers) are proven optimal in 5-33 s each on one thread, where
//! HiGHS on the extensive form leaves a gap after 600 s (`bash benches/benders/run.sh --cap`).

mod cuts;
mod master;
mod run;
mod template;
mod workers;

pub use run::solve_benders;
use template::Template;

use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use crate::formulation::{BuildOptions, SitingProblem};
use crate::network::Network;
use crate::result::{DecompositionReport, SolveResult};
use crate::scenario::{intact, ScenarioCase, ScenarioSet};
use crate::solver::highs::LpSession;
use crate::solver::mip::{Col, SparseMip};
use crate::solver::{
    relative_gap, solve_mip_from, Method, Progress, Settings, SolveControl, SolverRun, Status,
};
use crate::StockadeError;

/// `auto` chooses Benders from this many scenarios on (when the model allows it).
pub const AUTO_MIN_SCENARIOS: usize = 100;

/// At most this many epigraph variables: beyond it scenarios share a cut (grouped multi-cut).
pub const MAX_CUT_GROUPS: usize = 1000;

/// The relaxation phase stops when its bound gained less than this (relative) over its last 20
/// iterations. On capa/capb/capc (the slowest three of the twelve, 60 s limit): 1e-5 took 48 s at
/// worst, 1e-4 33 s, 3e-4 31 s, 1e-3 ran out of time on capb-6000 (too weak a bound left).
const LP_TAIL: f64 = 1e-4;

/// Why Benders cannot solve this model, if it cannot.
pub fn unsupported(net: &Network, scenarios: &ScenarioSet) -> Option<String> {
    let m = &net.model;
    if m.risk.is_some() {
        return Some(
            "the model sets a risk measure, whose CVaR rows tie the scenarios together".into(),
        );
    }
    if m.policies.survivability.is_some() {
        return Some(
            "N-k survivability adds contingency scenarios that are constraints, not outcomes"
                .into(),
        );
    }
    if m.agreement.as_ref().is_some_and(|a| a.fairness.is_some()) {
        return Some(
            "the agreement's fairness rule bounds expected shortfall over all scenarios at once"
                .into(),
        );
    }
    if scenarios.cases.is_empty() {
        return Some("the model has no scenario".into());
    }
    None
}

/// Whether `method` (as the settings ask) means Benders for this model.
pub fn chooses_benders(
    method: Method,
    net: &Network,
    scenarios: &ScenarioSet,
) -> Result<bool, StockadeError> {
    match method {
        Method::Extensive => Ok(false),
        Method::Benders => match unsupported(net, scenarios) {
            Some(why) => Err(StockadeError::Solver(format!(
                "method benders cannot solve this model: {why}; use method extensive"
            ))),
            None => Ok(true),
        },
        Method::Auto => Ok(unsupported(net, scenarios).is_none()
            && (scenarios.cases.len() >= AUTO_MIN_SCENARIOS || large_capacitated_location(net))),
    }
}

/// `auto` also chooses Benders for capacitated facility location with this many flows in
/// [`SiteBlock`]s, whatever the scenario count.
pub const AUTO_MIN_LOCATION_FLOWS: usize = 50_000;

/// Whether the model is capacitated facility location of [`AUTO_MIN_LOCATION_FLOWS`] flows or
/// more, where the strengthened cuts beat the extensive form by far (capa/capb/capc: optimal in
/// 5-32 s, the extensive form 8-100 % from it at 60 s). Uncapacitated location (every site can
/// serve all demand, as in the p-median instances) stays with the extensive form, which is faster
/// there (pmed6: 15.7 s against 43.4 s).
fn large_capacitated_location(net: &Network) -> bool {
    let m = &net.model;
    if m.routes.len() < AUTO_MIN_LOCATION_FLOWS {
        return false;
    }
    let demand: f64 = m.demand.iter().map(|d| d.demand).sum();
    let capacitated = m
        .sites
        .iter()
        .any(|s| s.module_capacity * f64::from(s.max_modules) < demand);
    capacitated
        && Template::new(net).is_ok_and(|t| {
            t.blocks.iter().map(|b| b.flows.len()).sum::<usize>() >= AUTO_MIN_LOCATION_FLOWS
        })
}
