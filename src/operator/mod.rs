//! Operator actions that work directly on the store: first-start bootstrap and `init` (here),
//! and the `orgs`, `api-clients`, `members`, `clusters` and `keys` commands (one submodule
//! each; their flags and printing are in `cli`). They may run while the server runs:
//! SQLite in WAL mode admits one writer at a time and the others wait. Every change made
//! from the command line is recorded with [`OPERATOR`] as its user; the web console calls
//! the `api_clients` functions too, with the member's email as the actor.

pub mod api_clients;
pub mod clusters;
pub mod keys;
pub mod members;
pub mod orgs;

use serde::Serialize;

use crate::crypto::{self, Keyring};
use crate::domain::api_client::ApiClient;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::organization::Organization;
use crate::domain::scope::ScopeSet;
use crate::domain::Timestamp;
use crate::storage::Store;

pub const OPERATOR: &str = "operator";
pub const DEFAULT_ORG_NAME: &str = "Default organization";

/// Credentials shown once, when they are created.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub org_id: String,
    pub scopes: Vec<&'static str>,
}

/// The oldest organization, created (owned by `owner_email`) when there is none; the flag
/// says whether it was. Safe against concurrent first starts of several replicas.
pub async fn default_organization(
    store: &dyn Store,
    owner_email: &str,
    now: Timestamp,
) -> anyhow::Result<(Organization, bool)> {
    let org = Organization::create(DEFAULT_ORG_NAME, owner_email, now)?;
    let audit = orgs::creation_audit(&org, now);
    Ok(store.ensure_first_organization(&org, &audit).await?)
}

/// What to create a Console API client with; absent id and secret are generated.
#[derive(Debug, Clone)]
pub struct ApiClientSpec {
    pub org_id: String,
    pub name: String,
    pub scopes: ScopeSet,
    pub client_id: Option<String>,
    pub secret: Option<String>,
}

/// Creates a Console API client and returns its credentials (the only time the secret is seen).
/// `actor` is the user of the activity record: [`OPERATOR`], or a console member's email.
pub async fn create_api_client(
    store: &dyn Store,
    keyring: &Keyring,
    spec: ApiClientSpec,
    actor: &str,
    now: Timestamp,
) -> anyhow::Result<NewCredentials> {
    let client_id = spec.client_id.unwrap_or_else(crypto::new_client_id);
    let secret = spec.secret.unwrap_or_else(crypto::new_client_secret);
    let client = ApiClient {
        client_id: client_id.clone(),
        org_id: spec.org_id.clone(),
        name: spec.name.clone(),
        scopes: spec.scopes,
        secret_hash: keyring.hash_secret(&secret),
        secret_generation: 1,
        created_at: now,
    };
    let audit = AuditEntry::new(
        &spec.org_id,
        actor,
        AuditType::Create,
        "apiClient",
        &client_id,
        format!("Created Console API client {:?}", spec.name),
        now,
    );
    store.insert_api_client(&client, &audit).await?;
    Ok(NewCredentials {
        client_id,
        client_secret: secret,
        org_id: spec.org_id,
        scopes: spec.scopes.iter().map(|s| s.as_str()).collect(),
    })
}

/// Ensures a client with exactly these credentials and every scope exists (idempotent).
/// Returns the id of the default organization when this call created it (the first start).
pub async fn ensure_bootstrap_client(
    store: &dyn Store,
    keyring: &Keyring,
    client_id: &str,
    secret: &str,
    owner_email: &str,
    now: Timestamp,
) -> anyhow::Result<Option<String>> {
    anyhow::ensure!(
        !client_id.trim().is_empty(),
        "the bootstrap client id must not be empty"
    );
    anyhow::ensure!(
        secret.len() >= 16,
        "the bootstrap client secret must have at least 16 characters"
    );
    match store.api_client(client_id).await? {
        Some(existing) => {
            let current = keyring.verify_secret(secret, &existing.secret_hash)
                && existing.scopes == ScopeSet::all();
            if !current {
                let updated = ApiClient {
                    scopes: ScopeSet::all(),
                    secret_hash: keyring.hash_secret(secret),
                    secret_generation: existing.secret_generation + 1,
                    ..existing
                };
                let audit = AuditEntry::new(
                    &updated.org_id,
                    OPERATOR,
                    AuditType::Update,
                    "apiClient",
                    client_id,
                    "Reset bootstrap Console API client".into(),
                    now,
                );
                store.update_api_client(&updated, &audit).await?;
            }
        }
        None => {
            let (org, created_org) = default_organization(store, owner_email, now).await?;
            let org_id = org.id.clone();
            let created = create_api_client(
                store,
                keyring,
                ApiClientSpec {
                    org_id: org.id,
                    name: "bootstrap".into(),
                    scopes: ScopeSet::all(),
                    client_id: Some(client_id.to_string()),
                    secret: Some(secret.to_string()),
                },
                OPERATOR,
                now,
            )
            .await;
            match created {
                Ok(_) => {}
                // Another replica starting at the same time created it first.
                Err(e) if store.api_client(client_id).await?.is_some() => {
                    tracing::debug!(error = %e, "bootstrap client was created concurrently");
                }
                Err(e) => return Err(e),
            }
            return Ok(created_org.then_some(org_id));
        }
    }
    Ok(None)
}

/// On an empty database, creates the default organization and an admin client. Only the
/// process that created the organization creates the client, so concurrent first starts
/// print one set of credentials.
pub async fn bootstrap_empty(
    store: &dyn Store,
    keyring: &Keyring,
    owner_email: &str,
    now: Timestamp,
) -> anyhow::Result<Option<NewCredentials>> {
    let (org, created) = default_organization(store, owner_email, now).await?;
    if !created {
        return Ok(None);
    }
    admin_client(store, keyring, org, now).await.map(Some)
}

/// Creates (if needed) the default organization and a new admin client with every scope.
pub async fn init(
    store: &dyn Store,
    keyring: &Keyring,
    owner_email: &str,
    now: Timestamp,
) -> anyhow::Result<NewCredentials> {
    let (org, _) = default_organization(store, owner_email, now).await?;
    admin_client(store, keyring, org, now).await
}

async fn admin_client(
    store: &dyn Store,
    keyring: &Keyring,
    org: Organization,
    now: Timestamp,
) -> anyhow::Result<NewCredentials> {
    let spec = ApiClientSpec {
        org_id: org.id,
        name: "admin".into(),
        scopes: ScopeSet::all(),
        client_id: None,
        secret: None,
    };
    create_api_client(store, keyring, spec, OPERATOR, now).await
}
