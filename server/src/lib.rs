//! `stockade-server`: the `stockade` command line's REST service. A thin adapter over the
//! `stockade` crate (STYLE 7): HTTP in [`api`], jobs and workers in [`jobs`], persistence in
//! [`store`], keys and roles in [`auth`].

pub mod analysis;
pub mod api;
pub mod auth;
pub mod config;
pub mod jobs;
pub mod metrics;
pub mod serve;
pub mod store;

pub use api::{app, AppState};
pub use config::{ModelLimits, ServerConfig};
pub use jobs::Engine;
pub use store::Store;
