//! Worst case of a fixed plan (DESIGN §4.3): which `k` elements (sites, suppliers, depots,
//! routes), if lost for the year, cause the largest second-stage cost (operating cost plus
//! shortfall penalty)? Solved as one MIP (Wood 1993): the inner min-cost flow LP of the fixed
//! plan is replaced by its dual, and the products of interdiction binaries and bounded capacity
//! duals are linearised. The ranked single points of failure (every element lost alone) come
//! from the fixed-plan evaluation LPs, which are also the oracle the MIP is tested against.
//!
//! # The inner LP (primal, for a fixed plan and a loss set z)
//!
//! ```text
//! min  sum_e c_e x_e + sum_d P_d u_d
//! s.t. sum_{e in R_r} x_e                    <= C_r (1 - z_r)   capacity row r   (dual pi_r >= 0)
//!      yield_s sum_{e in s} x_e - sum_{e out s} x_e = 0         site with input  (dual beta_s free)
//!      sum_{e in d} x_e + u_d                 = D_d             demand d         (dual lambda_d free)
//!      x, u >= 0
//! ```
//!
//! Capacity rows: a supplier's outflow, a site's output (`module_capacity x modules` of the
//! plan), a depot's release of each material (its stock), and a route's flow (its capacity, or
//! for an uncapacitated route the capacity of its start node, which never binds unless the route
//! is lost). `z_r` is the loss binary of the element the row belongs to (0 for rows of elements
//! that are not targets). `P_d` is the demand's shortfall penalty, or for hard demand the
//! evaluation's hard penalty ([`crate::formulation::evaluation_hard_penalty`]), so that every loss has a
//! finite cost, exactly as `stockade evaluate` prices it; the report names hard demand left
//! unmet.
//!
//! # The dual, and the MIP
//!
//! ```text
//! max  sum_d D_d lambda_d - sum_r C_r pi_r + sum_r C_r psi_r
//! s.t. lambda_{to(e)} [+ yield_s beta_s if e enters site s] [- beta_s if e leaves site s]
//!        - sum_{r: e in R_r} pi_r <= c_e                        for every route e
//!      lambda_d <= P_d
//!      psi_r <= pi_r,  psi_r <= PI_r z_r,  0 <= pi_r <= PI_r    (psi_r = z_r pi_r, linearised)
//!      sum z <= k,  z binary
//! ```
//!
//! `psi_r = z_r pi_r` is exact at an optimum: the objective pushes `psi_r` up to
//! `min(pi_r, PI_r z_r)`, which is `pi_r z_r` for binary `z_r` once `pi_r <= PI_r`.
//!
//! **Why `PI_r` (the largest `P_d` of the demand nodes row r's routes lead to, directly or
//! through sites) is a valid bound on the capacity duals.** Give every capacity row an extra
//! column `e_r >= 0` that buys capacity beyond `C_r (1 - z_r)` at `PI_r` per unit; its dual
//! constraint is exactly `pi_r <= PI_r`. That LP has the same optimal value as the
//! original for every z: take any of its solutions with `e_r > 0`. Decompose the flow
//! (generalised flow with gains `yield <= 1`: paths from sources to demand, lossy cycles fed by
//! paths, unit-gain circulations). Drop the cycles and circulations: costs are >= 0 and they
//! serve no demand. Then drop path flow through row r until its excess is gone: a path that
//! uses `delta` units of row r delivers at most `delta` t (every yield downstream is <= 1), so
//! its demand node (downstream of r) takes at most `delta` more shortfall, at most `PI_r delta`
//! more penalty, while the path's own cost (>= 0) is saved and `PI_r delta` of bought capacity
//! is no longer needed.
//! No other row's use goes up. So buying capacity never pays, the two LPs agree, and an optimal
//! dual with every `pi_r <= PI_r` exists for every loss set: the MIP's optimum is the true worst
//! case. (For fixed z the MIP is also never above it: any dual-feasible point bounds the primal
//! from below.)
//!
//! Numerics: `PI_r` can be large (hard demand in a model without any penalty is priced at 1e7),
//! and a binary that HiGHS accepts at its default integrality tolerance of 1e-6 would then free
//! 10 currency units of dual per tonne. The MIP is solved at a tolerance of 1e-9, and the worst
//! set it returns is always re-priced by the primal LP (a disagreement is reported).

mod problem;
mod worst;

pub use problem::{interdict, Interdiction, InterdictionProblem};
pub use worst::{
    attack_case, checked_first_stage_cost, loss_outcome, single_points_of_failure, worst_case,
    DemandShortfall, SinglePointOfFailure, WorstCase, WorstCaseOptions,
};

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::analysis::evaluate::{evaluate, solve_cold, EvaluationSettings};
use crate::error::InputError;
use crate::formulation::{evaluation_hard_penalty, with_fixed_plan};
use crate::network::{Network, NodeRef};
use crate::plan::Plan;
use crate::scenario::{intact, loss_case, Element, ScenarioCase, ScenarioSet};
use crate::solver::mip::{Col, ModelSize, SparseMip};
use crate::solver::{solve_mip, Settings, SolveControl, Status};
use crate::StockadeError;

/// Element kinds that can be lost, as named by `--targets`.
pub const TARGET_KINDS: [&str; 4] = ["sites", "suppliers", "depots", "routes"];

/// Every element of the given kinds (`sites`, `suppliers`, `depots`, `routes`), in that order of
/// the kinds as given. An unknown kind is an input error naming `--targets`.
pub fn candidate_elements(net: &Network, targets: &[String]) -> Result<Vec<Element>, InputError> {
    let m = &net.model;
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for t in targets {
        let t = t.trim();
        if seen.contains(&t) {
            continue;
        }
        seen.push(t);
        match t {
            "sites" => out.extend((0..m.sites.len()).map(Element::Site)),
            "suppliers" => out.extend((0..m.suppliers.len()).map(Element::Supplier)),
            "depots" => out.extend((0..m.depots.len()).map(Element::Depot)),
            "routes" => out.extend((0..net.route_key.len()).map(Element::Route)),
            other => {
                return Err(InputError::single(
                    "--targets",
                    format!(
                        "unknown element kind `{other}`; expected some of sites, suppliers, depots, routes"
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// An element named for people and files.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ElementRef {
    /// `site`, `supplier`, `depot` or `route`.
    pub kind: String,
    /// Its id (a route's id or `FROM->TO`).
    pub id: String,
}

impl ElementRef {
    /// The named element.
    pub fn of(net: &Network, e: Element) -> ElementRef {
        let m = &net.model;
        let (kind, id) = match e {
            Element::Supplier(i) => ("supplier", m.suppliers[i].id.clone()),
            Element::Site(i) => ("site", m.sites[i].id.clone()),
            Element::Depot(i) => ("depot", m.depots[i].id.clone()),
            Element::Route(i) => ("route", net.route_key[i].clone()),
        };
        ElementRef {
            kind: kind.to_string(),
            id,
        }
    }
}

/// Names of a set of elements, `a + b`.
pub fn describe(set: &[ElementRef]) -> String {
    if set.is_empty() {
        return "nothing".into();
    }
    set.iter()
        .map(|e| e.id.as_str())
        .collect::<Vec<_>>()
        .join(" + ")
}
