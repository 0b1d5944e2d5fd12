//! Questions asked of a network beyond one solve, each built on [`crate::solve`] and
//! [`crate::formulation`]: a fixed plan's cost in every scenario ([`evaluate`]), the worst k
//! losses ([`interdiction`]), the min-max plan and what to harden ([`robust`]), joint stockpiles
//! and their cost shares ([`share`], over the cooperative games of [`game`]), parameter sweeps
//! ([`sweep`]) and trade-off frontiers ([`frontier`]), and sample-average approximation
//! ([`saa`]).

pub mod evaluate;
pub mod frontier;
pub mod game;
pub mod interdiction;
pub mod robust;
pub mod saa;
pub mod share;
pub mod sweep;
