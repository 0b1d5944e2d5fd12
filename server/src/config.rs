//! What an operator can tune: the worker pool, the queue, time limits and input sizes.

/// Largest models the service accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelLimits {
    /// Suppliers + sites + depots + demand nodes.
    pub max_nodes: usize,
    /// Routes.
    pub max_routes: usize,
    /// Explicit scenarios.
    pub max_scenarios: usize,
    /// Scenarios an evaluate job may sample from the hazards.
    pub max_sampled_scenarios: usize,
}

impl Default for ModelLimits {
    fn default() -> Self {
        ModelLimits {
            max_nodes: 20_000,
            max_routes: 1_000_000,
            max_scenarios: 1_000,
            max_sampled_scenarios: 100_000,
        }
    }
}

/// Configuration of the REST service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Solves that run at once (the bounded worker pool); default: the number of cores.
    pub workers: usize,
    /// Jobs that may wait for a worker; past that a submission gets 429.
    pub queue_capacity: usize,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Cap on a job's time limit, seconds (a job without one gets this).
    pub max_job_time_limit_s: f64,
    /// Cap on the time limit of the synchronous `POST /v1/solve`, seconds.
    pub max_sync_time_limit_s: f64,
    /// How long `POST /v1/solve` waits for a free worker before answering 429, seconds.
    pub sync_wait_s: f64,
    /// What `Retry-After` says when the queue is full, seconds.
    pub retry_after_s: u64,
    /// Largest models accepted.
    pub limits: ModelLimits,
    /// Grace period for running solves at shutdown before they are interrupted and requeued.
    pub shutdown_grace_s: f64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            queue_capacity: 256,
            max_body_bytes: 32 * 1024 * 1024,
            max_job_time_limit_s: 3600.0,
            max_sync_time_limit_s: 10.0,
            sync_wait_s: 2.0,
            retry_after_s: 5,
            limits: ModelLimits::default(),
            shutdown_grace_s: 0.0,
        }
    }
}
