//! A job's life in the store: claimed by a worker, finished in one transaction, cancelled while
//! queued, queued again at shutdown, recovered at start-up.

use super::*;

impl Store {
    /// Moves a queued job to running and records `started`; none when it was not queued.
    pub async fn claim_job(&self, id: &str) -> Result<Option<(JobRecord, i64)>, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&format!(
            "UPDATE jobs SET status = $1, started_at = $2, attempts = attempts + 1 \
             WHERE id = $3 AND status = $4 RETURNING {JOB_COLUMNS}"
        ))
        .bind(status::RUNNING)
        .bind(now)
        .bind(id)
        .bind(status::QUEUED)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let job = row_to_job(&row)?;
        let data = format!(r#"{{"attempt":{}}}"#, job.attempts);
        let seq = insert_event(&mut tx, id, "started", &data, now).await?;
        tx.commit().await?;
        Ok(Some((job, seq)))
    }

    /// Writes a running job's outcome, result and `finished` event in one transaction; returns
    /// the event's sequence number, none when the job was not running.
    pub async fn finish_job(
        &self,
        id: &str,
        outcome: &JobOutcome,
    ) -> Result<Option<i64>, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE jobs SET status = $1, result = $2, error = $3, solver_status = $4, \
             objective = $5, finished_at = $6 WHERE id = $7 AND status = $8",
        )
        .bind(outcome.status)
        .bind(outcome.result.clone())
        .bind(outcome.error.clone())
        .bind(outcome.solver_status.clone())
        .bind(outcome.objective)
        .bind(now)
        .bind(id)
        .bind(status::RUNNING)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let seq = insert_event(&mut tx, id, "finished", &outcome.event, now).await?;
        tx.commit().await?;
        Ok(Some(seq))
    }

    /// Cancels a job that is still queued; returns the `finished` event's sequence number, none
    /// when it was not queued.
    pub async fn cancel_queued(&self, id: &str, event: &str) -> Result<Option<i64>, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE jobs SET status = $1, cancel_requested = 1, finished_at = $2 \
             WHERE id = $3 AND status = $4",
        )
        .bind(status::CANCELLED)
        .bind(now)
        .bind(id)
        .bind(status::QUEUED)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let seq = insert_event(&mut tx, id, "finished", event, now).await?;
        tx.commit().await?;
        Ok(Some(seq))
    }

    /// Records that a caller asked to cancel a running job (so a restart does not rerun it).
    pub async fn request_cancel(&self, id: &str) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE jobs SET cancel_requested = 1 WHERE id = $1 AND status = $2")
                .bind(id)
                .bind(status::RUNNING)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts a running job back in the queue (shutdown interrupted it) with a `queued` event.
    pub async fn requeue_job(&self, id: &str, reason: &str) -> Result<bool, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE jobs SET status = $1, started_at = NULL WHERE id = $2 AND status = $3",
        )
        .bind(status::QUEUED)
        .bind(id)
        .bind(status::RUNNING)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let data = serde_json::json!({"status": "queued", "reason": reason}).to_string();
        insert_event(&mut tx, id, "queued", &data, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Start-up recovery: jobs a crash left running are queued again (or cancelled, when a caller
    /// had asked for that), and every queued job id is returned, oldest first.
    pub async fn recover(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT id, cancel_requested FROM jobs WHERE status = $1")
            .bind(status::RUNNING)
            .fetch_all(&self.pool)
            .await?;
        for row in &rows {
            let id: String = row.try_get("id")?;
            let cancel: i64 = row.try_get("cancel_requested")?;
            if cancel != 0 {
                let outcome = JobOutcome {
                    status: status::CANCELLED,
                    result: None,
                    error: None,
                    solver_status: None,
                    objective: None,
                    event: r#"{"status":"cancelled","reason":"the server stopped before the solve ended"}"#
                        .to_string(),
                };
                self.finish_job(&id, &outcome).await?;
            } else {
                self.requeue_job(&id, "the server restarted during the solve")
                    .await?;
            }
        }
        let rows = sqlx::query("SELECT id FROM jobs WHERE status = $1 ORDER BY seq")
            .bind(status::QUEUED)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?)
    }
}
