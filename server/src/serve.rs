//! `stockade serve` and `stockade keys`: start-up, graceful shutdown, key management.

use std::net::SocketAddr;
use std::process::ExitCode;

use tokio::net::TcpListener;
use tracing::info;

use crate::auth::{self, Role};
use crate::config::{ModelLimits, ServerConfig};
use crate::jobs::Engine;
use crate::store::{rfc3339, Store};

/// The embedded default database: an SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://stockade.db";

/// Options of `stockade serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// sqlite://PATH (default, WAL mode) or postgres://USER:PASS@HOST/DB.
    #[arg(long, env = "STOCKADE_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Solves at once (default: the number of cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Jobs that may wait for a worker before submissions get 429.
    #[arg(long)]
    pub queue: Option<usize>,
    /// Cap on a job's time limit, seconds.
    #[arg(long)]
    pub max_time_limit: Option<f64>,
    /// Cap on the time limit of POST /v1/solve, seconds.
    #[arg(long)]
    pub max_sync_time_limit: Option<f64>,
    /// Largest request body, bytes.
    #[arg(long)]
    pub max_body_bytes: Option<usize>,
    /// Largest model: suppliers + sites + depots + demand nodes.
    #[arg(long)]
    pub max_nodes: Option<usize>,
    /// Largest model: routes.
    #[arg(long)]
    pub max_routes: Option<usize>,
    /// Largest model: scenarios.
    #[arg(long)]
    pub max_scenarios: Option<usize>,
    /// Seconds running solves may go on after SIGTERM before they are interrupted and queued
    /// again for the next start.
    #[arg(long)]
    pub shutdown_grace: Option<f64>,
}

impl ServeArgs {
    /// The configuration these options give over [`ServerConfig::default`].
    pub fn config(&self) -> ServerConfig {
        let d = ServerConfig::default();
        let l = ModelLimits::default();
        ServerConfig {
            workers: self.workers.unwrap_or(d.workers).max(1),
            queue_capacity: self.queue.unwrap_or(d.queue_capacity),
            max_body_bytes: self.max_body_bytes.unwrap_or(d.max_body_bytes),
            max_job_time_limit_s: self.max_time_limit.unwrap_or(d.max_job_time_limit_s),
            max_sync_time_limit_s: self.max_sync_time_limit.unwrap_or(d.max_sync_time_limit_s),
            limits: ModelLimits {
                max_nodes: self.max_nodes.unwrap_or(l.max_nodes),
                max_routes: self.max_routes.unwrap_or(l.max_routes),
                max_scenarios: self.max_scenarios.unwrap_or(l.max_scenarios),
                ..l
            },
            shutdown_grace_s: self.shutdown_grace.unwrap_or(d.shutdown_grace_s),
            ..d
        }
    }
}

/// `stockade keys ...`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum KeysCommand {
    /// Create a key; its token is printed once.
    Create {
        /// Tenant the key belongs to.
        #[arg(long)]
        tenant: String,
        /// viewer, planner or admin.
        #[arg(long)]
        role: Role,
        /// Free text to recognise the key by.
        #[arg(long)]
        label: Option<String>,
        /// Database (as for `serve`).
        #[arg(long, env = "STOCKADE_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
        /// Print the key as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id.
    Revoke {
        /// Key id (`key_...`).
        id: String,
        /// Database (as for `serve`).
        #[arg(long, env = "STOCKADE_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// List a tenant's keys.
    List {
        /// Tenant.
        #[arg(long)]
        tenant: String,
        /// Database (as for `serve`).
        #[arg(long, env = "STOCKADE_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
}

impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &[Role::Viewer, Role::Planner, Role::Admin]
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("STOCKADE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs `stockade serve` until SIGTERM or Ctrl-C.
pub fn run_serve(args: ServeArgs) -> ExitCode {
    init_tracing();
    let result = runtime()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(serve(args)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Serves until a shutdown signal; then stops accepting, interrupts and requeues running solves
/// (after the grace period), and closes the store.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.config();
    let store = Store::connect(&args.database_url).await?;
    let engine = Engine::start(store.clone(), config.clone()).await?;
    let listener = TcpListener::bind(args.bind).await?;
    let addr = listener.local_addr()?;
    info!(%addr, workers = config.workers, queue = config.queue_capacity, backend = ?store.backend(), "serving");
    println!("stockade listening on http://{addr}");
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let engine_for_signal = engine.clone();
    let shutdown = async move {
        shutdown_signal().await;
        info!("shutdown requested");
        tokio::spawn(async move {
            engine_for_signal.shutdown().await;
            let _ = done_tx.send(());
        });
    };
    axum::serve(listener, crate::api::app(engine.clone()))
        .with_graceful_shutdown(shutdown)
        .await?;
    let _ = done_rx.await;
    store.close().await;
    info!("stopped");
    Ok(())
}

/// Runs `stockade keys ...`.
pub fn run_keys(cmd: KeysCommand) -> ExitCode {
    let result = runtime()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(keys(cmd)));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn keys(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::Create {
            tenant,
            role,
            label,
            database_url,
            json,
        } => {
            if !auth::valid_tenant(&tenant) {
                anyhow::bail!("tenant must be 1 to 64 of A-Z a-z 0-9 _ - .");
            }
            let store = Store::connect(&database_url).await?;
            let (key, token) =
                auth::create_key(&store, &tenant, role, label, ("cli", None)).await?;
            store.close().await;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"id": key.id, "tenant": key.tenant, "role": key.role, "token": token})
                );
            } else {
                println!("{token}");
                eprintln!(
                    "created {} (tenant {}, role {}); the token above is shown only now",
                    key.id, key.tenant, key.role
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Revoke { id, database_url } => {
            let store = Store::connect(&database_url).await?;
            let done = auth::revoke_key(&store, &id, None, ("cli", None)).await?;
            store.close().await;
            if done {
                eprintln!("revoked {id}");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("error: no live key {id}");
                Ok(ExitCode::from(1))
            }
        }
        KeysCommand::List {
            tenant,
            database_url,
        } => {
            let store = Store::connect(&database_url).await?;
            let keys = store.list_keys(&tenant).await?;
            store.close().await;
            for k in keys {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    k.id,
                    k.role,
                    rfc3339(k.created_at),
                    k.revoked_at
                        .map_or_else(|| "live".to_string(), |t| format!("revoked {}", rfc3339(t))),
                    k.label.unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
