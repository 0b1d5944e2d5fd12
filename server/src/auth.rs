//! API keys, tenants and roles.
//!
//! A key is a random 32-byte token shown once at creation; the store keeps only its SHA-256.
//! A slow password hash (argon2) would add nothing here: the token has 256 bits of entropy, so
//! there is no dictionary to slow down, and a fast hash lets every request find its key by an
//! indexed lookup.

use std::fmt;
use std::str::FromStr;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::{now_ms, AuditEntry, KeyRecord, Store, StoreError};

/// What a key may do; each role includes the ones below it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads jobs, results, events, the schema; validates models.
    Viewer,
    /// Also submits, solves and cancels.
    Planner,
    /// Also reads the audit log and manages keys.
    Admin,
}

impl Role {
    /// The name used in JSON, the store and the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Planner => "planner",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "planner" => Ok(Role::Planner),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role `{other}` (viewer, planner or admin)")),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random bytes from the operating system, as hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// SHA-256 of a token, hex.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A tenant name: 1 to 64 of `A-Z a-z 0-9 _ - .`.
pub fn valid_tenant(tenant: &str) -> bool {
    (1..=64).contains(&tenant.len())
        && tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Creates a key and returns its record and the token (the only time the token exists).
/// `actor` is the audit identity (`cli`, or the admin key's id).
pub async fn create_key(
    store: &Store,
    tenant: &str,
    role: Role,
    label: Option<String>,
    actor: (&str, Option<Role>),
) -> Result<(KeyRecord, String), StoreError> {
    let token = format!("stk_{}", random_hex(32));
    let key = KeyRecord {
        id: format!("key_{}", random_hex(8)),
        tenant: tenant.to_string(),
        role: role.as_str().to_string(),
        label,
        created_at: now_ms(),
        revoked_at: None,
    };
    store.insert_key(&key, &hash_token(&token)).await?;
    store
        .audit(&AuditEntry {
            tenant: Some(tenant.to_string()),
            key_id: Some(actor.0.to_string()),
            role: actor.1.map(|r| r.as_str().to_string()),
            action: "key.create".into(),
            target: Some(key.id.clone()),
            outcome: "ok".into(),
            detail: Some(serde_json::json!({"role": role.as_str()}).to_string()),
            ..AuditEntry::default()
        })
        .await?;
    Ok((key, token))
}

/// Revokes a key (of `tenant` when given); false when there was no such live key.
pub async fn revoke_key(
    store: &Store,
    id: &str,
    tenant: Option<&str>,
    actor: (&str, Option<Role>),
) -> Result<bool, StoreError> {
    let key = store.key_by_id(id, tenant).await?;
    let done = store.revoke_key(id, tenant).await?;
    if let Some(key) = key {
        store
            .audit(&AuditEntry {
                tenant: Some(key.tenant),
                key_id: Some(actor.0.to_string()),
                role: actor.1.map(|r| r.as_str().to_string()),
                action: "key.revoke".into(),
                target: Some(id.to_string()),
                outcome: if done { "ok" } else { "already_revoked" }.into(),
                ..AuditEntry::default()
            })
            .await?;
    }
    Ok(done)
}
