//! `consoled api-clients create|list|delete|rotate`: Console API credentials.
//!
//! Revocation: every token carries its client's `secret_generation`, and every request
//! re-reads the client (`TokenService::authenticate`). Rotation increments the generation
//! and deletion removes the row, so outstanding tokens fail on their next request, across
//! processes, with no revocation list to keep or expire.
//!
//! The CLI and the web console (`console::api_clients`) share these functions: `actor` is
//! the activity record's user ([`OPERATOR`](super::OPERATOR) or the member's email), and
//! `org`, when given, confines a change to that organization's clients.

use anyhow::Context;

use super::{create_api_client, orgs, ApiClientSpec, NewCredentials};
use crate::crypto::{self, Keyring};
use crate::domain::api_client::ApiClient;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::scope::{Scope, ScopeSet};
use crate::domain::text;
use crate::domain::Timestamp;
use crate::storage::Store;

const MAX_NAME_CHARS: usize = 100;
/// Rotations racing on one client are retried this often before giving up.
const ROTATE_ATTEMPTS: usize = 3;

/// Parses `--scopes`: names separated by commas or spaces, or `all`.
pub fn parse_scopes(text: &str) -> anyhow::Result<ScopeSet> {
    if text.trim() == "all" {
        return Ok(ScopeSet::all());
    }
    let scopes = ScopeSet::parse(text).map_err(|unknown| {
        let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
        anyhow::anyhow!(
            "unknown scope {unknown:?}; known scopes: {}",
            known.join(" ")
        )
    })?;
    anyhow::ensure!(scopes != ScopeSet::default(), "name at least one scope");
    Ok(scopes)
}

/// The name a client is created with (trimmed), or why it cannot be one; the console
/// checks it first to show its form again.
pub fn checked_name(name: &str) -> anyhow::Result<&str> {
    let name = name.trim();
    anyhow::ensure!(!name.is_empty(), "the client name must not be empty");
    text::check_name("the client name", name)?;
    anyhow::ensure!(
        name.chars().count() <= MAX_NAME_CHARS,
        "the client name is too long: at most {MAX_NAME_CHARS} characters"
    );
    Ok(name)
}

pub async fn create(
    store: &dyn Store,
    keyring: &Keyring,
    name: &str,
    scopes: ScopeSet,
    org: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> anyhow::Result<NewCredentials> {
    let name = checked_name(name)?;
    let org = orgs::resolve(store, org).await?;
    let spec = ApiClientSpec {
        org_id: org.id,
        name: name.to_string(),
        scopes,
        client_id: None,
        secret: None,
    };
    create_api_client(store, keyring, spec, actor, now).await
}

pub async fn list(store: &dyn Store, org: Option<&str>) -> anyhow::Result<Vec<ApiClient>> {
    if let Some(id) = org {
        // An unknown organization is an error, not an empty list that hides a typo.
        orgs::resolve(store, Some(id)).await?;
    }
    Ok(store.api_clients(org).await?)
}

/// The client, if it exists (in `org`, when given: another organization's is as unknown).
async fn existing(
    store: &dyn Store,
    client_id: &str,
    org: Option<&str>,
) -> anyhow::Result<ApiClient> {
    store
        .api_client(client_id)
        .await?
        .filter(|client| org.is_none_or(|org| client.org_id == org))
        .with_context(|| format!("no Console API client {client_id:?}"))
}

/// Issues a new secret; tokens issued under the old one stop working at once.
pub async fn rotate(
    store: &dyn Store,
    keyring: &Keyring,
    client_id: &str,
    org: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> anyhow::Result<NewCredentials> {
    for _ in 0..ROTATE_ATTEMPTS {
        let client = existing(store, client_id, org).await?;
        let secret = crypto::new_client_secret();
        let generation = client.secret_generation;
        let audit = AuditEntry::new(
            &client.org_id,
            actor,
            AuditType::Update,
            "apiClient",
            client_id,
            format!("Rotated the secret of Console API client {:?}", client.name),
            now,
        )
        // The generation, never the secret: it shows that a rotation revoked the tokens.
        .with_change(
            "secretGeneration",
            Some(generation.to_string()),
            Some((generation + 1).to_string()),
        );
        let hash = keyring.hash_secret(&secret);
        if store
            .rotate_api_client_secret(client_id, generation, &hash, &audit)
            .await?
        {
            return Ok(NewCredentials {
                client_id: client.client_id,
                client_secret: secret,
                org_id: client.org_id,
                scopes: client.scopes.iter().map(Scope::as_str).collect(),
            });
        }
    }
    anyhow::bail!("Console API client {client_id:?} is being changed concurrently; try again")
}

/// Deletes the client; its tokens fail from their next request on.
pub async fn delete(
    store: &dyn Store,
    client_id: &str,
    org: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> anyhow::Result<ApiClient> {
    let client = existing(store, client_id, org).await?;
    let audit = AuditEntry::new(
        &client.org_id,
        actor,
        AuditType::Delete,
        "apiClient",
        client_id,
        format!("Deleted Console API client {:?}", client.name),
        now,
    );
    anyhow::ensure!(
        store.delete_api_client(client_id, &audit).await?,
        "no Console API client {client_id:?}"
    );
    Ok(client)
}
