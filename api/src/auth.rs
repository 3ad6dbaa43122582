//! API keys and what each role may do.
//!
//! A key is `cp_<id>_<secret>`: the id finds the row, the secret (256 random bits) is checked
//! against its SHA-256, which is all the catalog keeps. A plain hash is enough for secrets of
//! that entropy (a slow password hash protects guessable passwords, which these are not). What
//! a key may do is decided by the service layer (`service::allow`), not here.

use anyhow::{bail, Result};
use callproof_metastore::prelude::*;
use callproof_models::{ApiKey, ClientId, Role};
use sha2::{Digest, Sha256};

/// Why a request carries no usable key. All of them answer 401.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("this endpoint needs an API key: send \"Authorization: Bearer <key>\" (an administrator creates keys with `callproof keys create`)")]
    Missing,
    #[error("the API key is not a callproof key (they look like cp_<id>_<secret>)")]
    Malformed,
    #[error("the API key is not valid: unknown or mistyped; ask an administrator for a key")]
    Unknown,
    #[error("the API key {0} was revoked; ask an administrator for a new one")]
    Revoked(String),
    #[error("your session has ended (signed out, expired after 12 hours, or its key was revoked); sign in again")]
    SessionEnded,
    #[error("the key store cannot be read: {0}")]
    Catalog(#[from] callproof_metastore::MetastoreError),
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("no randomness from the system: {e}"))?;
    Ok(hex::encode(buf))
}

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates a key; returns it with the token, which is shown once and never stored.
pub async fn create_key(
    catalog: &dyn Metastore,
    name: &str,
    role: Role,
    clients: &[ClientId],
) -> Result<(ApiKey, String)> {
    match role {
        Role::Admin if !clients.is_empty() => {
            bail!("an admin key sees every client: give no --client")
        }
        Role::Client if clients.len() != 1 => {
            bail!("a client key belongs to exactly one client (its tenant): give one --client")
        }
        Role::Agent | Role::QualityManager if clients.is_empty() => bail!(
            "a {role} key is limited to the clients it is assigned to: give at least one --client"
        ),
        _ => {}
    }
    let id = random_hex(4)?;
    let secret = random_hex(32)?;
    let clients: Vec<String> = clients.iter().map(ClientId::to_string).collect();
    let key = catalog
        .create_key(&id, name, role, &clients, &digest(&secret))
        .await?;
    Ok((key, format!("cp_{id}_{secret}")))
}

/// The key a token stands for, if it is valid and not revoked.
pub async fn authenticate(catalog: &dyn Metastore, token: &str) -> Result<ApiKey, AuthError> {
    let rest = token
        .trim()
        .strip_prefix("cp_")
        .ok_or(AuthError::Malformed)?;
    let (id, secret) = rest.split_once('_').ok_or(AuthError::Malformed)?;
    let Some((key, hash)) = catalog.key(id).await? else {
        return Err(AuthError::Unknown);
    };
    if hash != digest(secret) {
        return Err(AuthError::Unknown);
    }
    if key.revoked_at.is_some() {
        return Err(AuthError::Revoked(key.id));
    }
    Ok(key)
}

/// How long a web session lasts: a working day.
pub const SESSION_HOURS: i64 = 12;

/// Opens a web session for `key`; returns the browser's session id (256 random bits), of
/// which the catalog keeps only the SHA-256.
pub async fn open_session(catalog: &dyn Metastore, key: &ApiKey) -> Result<String> {
    let token = format!("cps_{}", random_hex(32)?);
    let expires = chrono::Utc::now() + chrono::Duration::hours(SESSION_HOURS);
    catalog
        .create_session(&digest(&token), &key.id, expires)
        .await?;
    Ok(token)
}

/// The key of a live session (not expired, not signed out, its key not revoked).
pub async fn session_key(catalog: &dyn Metastore, token: &str) -> Result<ApiKey, AuthError> {
    let Some(key_id) = catalog
        .session_key(&digest(token.trim()), chrono::Utc::now())
        .await?
    else {
        return Err(AuthError::SessionEnded);
    };
    match catalog.key(&key_id).await? {
        Some((key, _)) if key.revoked_at.is_none() => Ok(key),
        Some((key, _)) => Err(AuthError::Revoked(key.id)),
        None => Err(AuthError::SessionEnded),
    }
}

/// Ends a session (signing out).
pub async fn close_session(catalog: &dyn Metastore, token: &str) -> Result<()> {
    catalog.delete_session(&digest(token.trim())).await?;
    Ok(())
}
