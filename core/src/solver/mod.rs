//! The MIP solver layer (DESIGN §5), below every formulation: a solver-neutral sparse MIP
//! ([`mip`]), the settings and typed outcomes of a solve ([`settings`]), and HiGHS behind them
//! (crate-private: FFI, callbacks, status map, LP sessions). Knows nothing of sites or scenarios.

pub(crate) mod highs;
pub mod mip;
pub mod settings;

use mip::SparseMip;
pub use settings::{
    relative_gap, Method, Progress, ProgressSink, Settings, SolveControl, SolverRun, Status,
};

use crate::StockadeError;

/// Solves a sparse MIP with HiGHS.
pub fn solve_mip(
    mip: &SparseMip,
    settings: &Settings,
    control: &SolveControl,
) -> Result<SolverRun, StockadeError> {
    highs::run(mip, settings, control)
}

/// [`solve_mip`] with a MIP start: values of some columns (index, value), such as the first stage
/// of a neighbouring solve. A start that does not fit is dropped; it never makes a solve fail.
pub fn solve_mip_from(
    mip: &SparseMip,
    settings: &Settings,
    control: &SolveControl,
    start: &[(usize, f64)],
) -> Result<SolverRun, StockadeError> {
    highs::run_from(mip, settings, control, start)
}
