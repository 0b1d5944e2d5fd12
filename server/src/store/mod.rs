//! The job store: jobs, their lifecycle events, API keys and the audit log, in SQLite (the
//! embedded default, WAL mode) or PostgreSQL, through sqlx's `Any` driver with runtime queries.
//!
//! Both backends run the same SQL (`$n` placeholders work in both); the schema differs only in
//! how an auto-increment key is spelt, so each backend has its own embedded migrations.
//! Every state change of a job and its lifecycle event are written in one transaction, and a
//! transition happens only from the state it expects (`... WHERE status = 'queued'`), so a
//! cancel and a worker can never both win the same job.

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};

mod keys;
mod lifecycle;
mod time;
pub use time::rfc3339;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// A failure of the store (connection, SQL, migration).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed at start-up.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The URL names no supported database.
    #[error("unsupported database URL `{0}` (use sqlite://PATH or postgres://...)")]
    UnsupportedUrl(String),
}

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Lifecycle states of a job.
pub mod status {
    /// Accepted, waiting for a worker.
    pub const QUEUED: &str = "queued";
    /// A worker is solving it.
    pub const RUNNING: &str = "running";
    /// Finished with a result (whatever the solver status).
    pub const SUCCEEDED: &str = "succeeded";
    /// Ended with an error.
    pub const FAILED: &str = "failed";
    /// Cancelled by a caller (with the incumbent when it was running).
    pub const CANCELLED: &str = "cancelled";
    /// Every state, in lifecycle order.
    pub const ALL: [&str; 5] = [QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED];
}

/// An API key as stored (the token itself is never stored, only its SHA-256).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    /// Public id, e.g. `key_3f9a...`.
    pub id: String,
    /// Tenant the key belongs to.
    pub tenant: String,
    /// `viewer`, `planner` or `admin`.
    pub role: String,
    /// Free text given at creation.
    pub label: Option<String>,
    /// Creation time, Unix ms.
    pub created_at: i64,
    /// Revocation time, Unix ms.
    pub revoked_at: Option<i64>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// Insertion order, the cursor of listings.
    pub seq: i64,
    /// Public id.
    pub id: String,
    /// Owning tenant.
    pub tenant: String,
    /// Analysis kind (`solve`, ...).
    pub kind: String,
    /// One of [`status::ALL`].
    pub status: String,
    /// The submitted input: `{"model": ..., "settings": ...}` as JSON text.
    pub input: String,
    /// The analysis result as JSON text (what the CLI prints with `--json`).
    pub result: Option<String>,
    /// The error envelope's `error` object as JSON text, for failed jobs.
    pub error: Option<String>,
    /// The solver's status of the result (`optimal`, `interrupted`, ...).
    pub solver_status: Option<String>,
    /// Objective of the result.
    pub objective: Option<f64>,
    /// Id of the key that submitted it.
    pub submitted_by: String,
    /// Whether a caller asked to cancel it.
    pub cancel_requested: bool,
    /// How many times a worker started it (more than one after a crash).
    pub attempts: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the latest start.
    pub started_at: Option<i64>,
    /// Unix ms.
    pub finished_at: Option<i64>,
}

/// A lifecycle event of a job, as stored (progress events are not stored).
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// 1, 2, ... per job.
    pub seq: i64,
    /// `queued`, `started`, `finished`.
    pub kind: String,
    /// JSON text.
    pub data: String,
    /// Unix ms.
    pub at: i64,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditEntry {
    /// Assigned by the store.
    pub id: i64,
    /// Unix ms.
    pub at: i64,
    /// Tenant of the actor (none for the command line acting on no tenant).
    pub tenant: Option<String>,
    /// Key that acted (`cli` for the command line).
    pub key_id: Option<String>,
    /// Role of that key.
    pub role: Option<String>,
    /// What was done, e.g. `job.submit`, `job.cancel`, `key.create`.
    pub action: String,
    /// What it was done to (a job or key id).
    pub target: Option<String>,
    /// `ok`, `denied`, `not_found`, `rejected`, ...
    pub outcome: String,
    /// JSON text with particulars.
    pub detail: Option<String>,
}

/// How a job ended, as written by [`Store::finish_job`].
#[derive(Debug, Clone, PartialEq)]
pub struct JobOutcome {
    /// `succeeded`, `failed` or `cancelled`.
    pub status: &'static str,
    /// The result JSON text.
    pub result: Option<String>,
    /// The error JSON text.
    pub error: Option<String>,
    /// Solver status of the result.
    pub solver_status: Option<String>,
    /// Objective of the result.
    pub objective: Option<f64>,
    /// Data of the `finished` event (JSON text).
    pub event: String,
}

/// A filter and page of [`Store::list_jobs`].
#[derive(Debug, Clone, Default)]
pub struct JobQuery {
    /// Only jobs in this state.
    pub status: Option<String>,
    /// Jobs with `seq` below this (the previous page's cursor).
    pub before_seq: Option<i64>,
    /// Page size.
    pub limit: i64,
}

/// The job store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// Turns what a user types into a URL sqlx understands: a bare path is an SQLite file, and an
/// SQLite file is created when missing.
pub fn normalize_url(url: &str) -> Result<(String, Backend), StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((url.to_string(), Backend::Postgres));
    }
    let path_url = if let Some(rest) = url.strip_prefix("sqlite://") {
        format!("sqlite://{rest}")
    } else if let Some(rest) = url.strip_prefix("sqlite:") {
        format!("sqlite://{rest}")
    } else if !url.contains("://") {
        format!("sqlite://{url}")
    } else {
        return Err(StoreError::UnsupportedUrl(url.to_string()));
    };
    let with_mode = if path_url.contains("mode=") {
        path_url
    } else if path_url.contains('?') {
        format!("{path_url}&mode=rwc")
    } else {
        format!("{path_url}?mode=rwc")
    };
    Ok((with_mode, Backend::Sqlite))
}

fn row_to_job(row: &AnyRow) -> Result<JobRecord, sqlx::Error> {
    Ok(JobRecord {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        tenant: row.try_get("tenant")?,
        kind: row.try_get("kind")?,
        status: row.try_get("status")?,
        input: row.try_get("input")?,
        result: row.try_get("result")?,
        error: row.try_get("error")?,
        solver_status: row.try_get("solver_status")?,
        objective: row.try_get("objective")?,
        submitted_by: row.try_get("submitted_by")?,
        cancel_requested: row.try_get::<i64, _>("cancel_requested")? != 0,
        attempts: row.try_get("attempts")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

fn row_to_key(row: &AnyRow) -> Result<KeyRecord, sqlx::Error> {
    Ok(KeyRecord {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant")?,
        role: row.try_get("role")?,
        label: row.try_get("label")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

const JOB_COLUMNS: &str = "seq, id, tenant, kind, status, input, result, error, solver_status, \
     objective, submitted_by, cancel_requested, attempts, created_at, started_at, finished_at";

/// Appends a lifecycle event inside the caller's transaction; returns its sequence number.
async fn insert_event(
    conn: &mut sqlx::AnyConnection,
    job_id: &str,
    kind: &str,
    data: &str,
    at: i64,
) -> Result<i64, sqlx::Error> {
    let seq: i64 =
        sqlx::query("SELECT COALESCE(MAX(seq), 0) AS s FROM job_events WHERE job_id = $1")
            .bind(job_id)
            .fetch_one(&mut *conn)
            .await?
            .try_get("s")?;
    let seq = seq + 1;
    sqlx::query("INSERT INTO job_events (job_id, seq, kind, data, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(job_id)
        .bind(seq)
        .bind(kind)
        .bind(data)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    Ok(seq)
}

impl Store {
    /// Connects and applies the embedded migrations. `url` is `sqlite://PATH`, a bare path, or
    /// `postgres://...`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, backend) = normalize_url(url)?;
        let max = match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        };
        if backend == Backend::Sqlite {
            // WAL is a property of the file: set it once, before the pool opens its connections.
            let options = AnyPoolOptions::new().max_connections(1);
            let pool = options.connect(&url).await?;
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
            pool.close().await;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            // A request waits at most this long for a connection, then gets a 503 (sqlx keeps
            // retrying a connection its after_connect refuses until then: see below).
            .acquire_timeout(std::time::Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // FULL: a commit that returned survives a power cut, not just a crash.
                        sqlx::query("PRAGMA synchronous = FULL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                        // SQLite opens a file it may not write read-only, silently, and such a
                        // connection stays read-only after the disk is fixed. A real write (the
                        // header's user_version, rewritten unchanged) refuses it here, so none
                        // joins the pool (the request gets the "cannot write" answer) and the
                        // service heals as soon as the database is writable again. `BEGIN
                        // IMMEDIATE` does not tell: it succeeds on such a connection.
                        let (version,): (i64,) = sqlx::query_as("PRAGMA user_version")
                            .fetch_one(&mut *conn)
                            .await?;
                        sqlx::query(&format!("PRAGMA user_version = {version}"))
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let store = Store { pool, backend };
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&store.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&store.pool).await?,
        }
        Ok(store)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Round trip to the database (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- keys ----

    // ---- jobs ----

    /// Commits a new queued job and its `queued` event.
    pub async fn insert_job(
        &self,
        id: &str,
        tenant: &str,
        kind: &str,
        input: &str,
        submitted_by: &str,
    ) -> Result<JobRecord, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO jobs (id, tenant, kind, status, input, submitted_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {JOB_COLUMNS}"
        ))
        .bind(id)
        .bind(tenant)
        .bind(kind)
        .bind(status::QUEUED)
        .bind(input)
        .bind(submitted_by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let job = row_to_job(&row)?;
        insert_event(&mut tx, id, "queued", r#"{"status":"queued"}"#, now).await?;
        tx.commit().await?;
        Ok(job)
    }

    /// A job of `tenant` (none when it belongs to another tenant or does not exist).
    pub async fn job(&self, tenant: &str, id: &str) -> Result<Option<JobRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 AND tenant = $2"
        ))
        .bind(id)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(row_to_job).transpose()?)
    }

    /// A job whatever its tenant (for workers).
    pub async fn job_by_id(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(row_to_job).transpose()?)
    }

    /// A tenant's jobs, newest first.
    pub async fn list_jobs(
        &self,
        tenant: &str,
        query: &JobQuery,
    ) -> Result<Vec<JobRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE tenant = $1 \
             AND ($2 = '' OR status = $2) AND seq < $3 ORDER BY seq DESC LIMIT $4"
        ))
        .bind(tenant)
        .bind(query.status.clone().unwrap_or_default())
        .bind(query.before_seq.unwrap_or(i64::MAX))
        .bind(query.limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(row_to_job).collect::<Result<_, _>>()?)
    }

    /// Lifecycle events of a job after `after_seq`, in order.
    pub async fn events(&self, id: &str, after_seq: i64) -> Result<Vec<EventRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, kind, data, at FROM job_events WHERE job_id = $1 AND seq > $2 \
             ORDER BY seq",
        )
        .bind(id)
        .bind(after_seq)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EventRecord {
                    seq: r.try_get("seq")?,
                    kind: r.try_get("kind")?,
                    data: r.try_get("data")?,
                    at: r.try_get("at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Number of jobs in each state (every tenant), for the metrics.
    pub async fn job_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    // ---- audit ----
}
