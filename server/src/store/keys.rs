//! API keys and the audit log in the store.

use super::*;

impl Store {
    /// Stores a key by the SHA-256 of its token.
    pub async fn insert_key(&self, key: &KeyRecord, key_hash: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (id, tenant, role, key_hash, label, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.id)
        .bind(&key.tenant)
        .bind(&key.role)
        .bind(key_hash)
        .bind(key.label.clone())
        .bind(key.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The key whose token hashes to `key_hash`, revoked or not.
    pub async fn key_by_hash(&self, key_hash: &str) -> Result<Option<KeyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, tenant, role, label, created_at, revoked_at FROM api_keys \
             WHERE key_hash = $1",
        )
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(row_to_key).transpose()?)
    }

    /// A key by id, in `tenant` when given.
    pub async fn key_by_id(
        &self,
        id: &str,
        tenant: Option<&str>,
    ) -> Result<Option<KeyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, tenant, role, label, created_at, revoked_at FROM api_keys WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let key = row.as_ref().map(row_to_key).transpose()?;
        Ok(key.filter(|k| tenant.is_none_or(|t| k.tenant == t)))
    }

    /// Keys of a tenant, newest first.
    pub async fn list_keys(&self, tenant: &str) -> Result<Vec<KeyRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, tenant, role, label, created_at, revoked_at FROM api_keys \
             WHERE tenant = $1 ORDER BY created_at DESC, id",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(row_to_key).collect::<Result<_, _>>()?)
    }

    /// Revokes a key (in `tenant` when given); false when no such live key.
    pub async fn revoke_key(&self, id: &str, tenant: Option<&str>) -> Result<bool, StoreError> {
        let done = match tenant {
            Some(t) => {
                sqlx::query(
                    "UPDATE api_keys SET revoked_at = $1 \
                     WHERE id = $2 AND tenant = $3 AND revoked_at IS NULL",
                )
                .bind(now_ms())
                .bind(id)
                .bind(t)
                .execute(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                )
                .bind(now_ms())
                .bind(id)
                .execute(&self.pool)
                .await?
            }
        };
        Ok(done.rows_affected() == 1)
    }

    /// Appends to the audit log.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, tenant, key_id, role, action, target, outcome, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(if entry.at == 0 { now_ms() } else { entry.at })
        .bind(entry.tenant.clone())
        .bind(entry.key_id.clone())
        .bind(entry.role.clone())
        .bind(&entry.action)
        .bind(entry.target.clone())
        .bind(&entry.outcome)
        .bind(entry.detail.clone())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A tenant's audit log, newest first: entries with `id < before`, optionally one action.
    pub async fn audit_log(
        &self,
        tenant: &str,
        action: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, tenant, key_id, role, action, target, outcome, detail FROM audit_log \
             WHERE tenant = $1 AND ($2 = '' OR action = $2) AND id < $3 \
             ORDER BY id DESC LIMIT $4",
        )
        .bind(tenant)
        .bind(action.unwrap_or_default())
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    tenant: r.try_get("tenant")?,
                    key_id: r.try_get("key_id")?,
                    role: r.try_get("role")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    outcome: r.try_get("outcome")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
