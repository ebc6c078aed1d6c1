//! Storage behind one interface. The database URL picks the implementation.

mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::api_client::ApiClient;
use crate::domain::audit::AuditEntry;
use crate::domain::cluster::{Cluster, Components, ComponentStatus};
use crate::domain::organization::Organization;
use crate::domain::zeebe_client::ZeebeClient;
use crate::domain::Timestamp;

pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated; the value names the constraint.
    #[error("unique constraint {0} violated")]
    Conflict(String),
    /// A limit checked inside the write transaction was reached.
    #[error("limit reached")]
    LimitReached,
    /// The row the write depends on does not exist (or belongs to another organization).
    #[error("not found")]
    NotFound,
    /// The database could not be reached in time.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A token signing key as stored; `private_key` is sealed under the master key.
#[derive(Debug, Clone)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub algorithm: String,
    pub private_key: Vec<u8>,
    pub public_key: Vec<u8>,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
}

/// The result of one reconciler step on a cluster.
#[derive(Debug, Clone)]
pub struct ClusterProgress {
    pub status: ComponentStatus,
    pub components: Components,
    pub generation_id: String,
    pub target_generation_id: Option<String>,
    pub status_since: Timestamp,
}

/// Zeebe client credentials looked up by the token endpoint.
#[derive(Debug, Clone)]
pub struct ZeebeCredential {
    pub client: ZeebeClient,
    pub cluster_status: ComponentStatus,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // Signing keys
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Inserts `key` only when no active key exists; returns whether it was inserted.
    async fn insert_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<bool>;

    // Organizations
    async fn insert_organization(&self, org: &Organization, audit: &AuditEntry) -> StoreResult<()>;
    async fn organizations(&self) -> StoreResult<Vec<Organization>>;
    async fn organization(&self, id: &str) -> StoreResult<Option<Organization>>;

    // Console API clients
    async fn insert_api_client(&self, client: &ApiClient, audit: &AuditEntry) -> StoreResult<()>;
    async fn api_client(&self, client_id: &str) -> StoreResult<Option<ApiClient>>;
    /// Rewrites name, scopes, secret hash and generation; false when the client is gone.
    async fn update_api_client(&self, client: &ApiClient, audit: &AuditEntry) -> StoreResult<bool>;

    // Clusters
    async fn insert_cluster(&self, cluster: &Cluster, audit: &AuditEntry) -> StoreResult<()>;
    async fn cluster(&self, org_id: &str, id: &str) -> StoreResult<Option<Cluster>>;
    async fn clusters(&self, org_id: &str) -> StoreResult<Vec<Cluster>>;
    /// Deletes the cluster and everything it owns; false when there was none.
    async fn delete_cluster(&self, org_id: &str, id: &str, audit: &AuditEntry) -> StoreResult<bool>;
    /// Clusters the reconciler is driving (Creating, Updating, Resuming).
    async fn transitional_clusters(&self, limit: i64) -> StoreResult<Vec<Cluster>>;
    /// Applies a reconciler step if the cluster is still at `expected_version`; false when
    /// someone else changed (or deleted) it first.
    async fn advance_cluster(
        &self,
        id: &str,
        expected_version: i64,
        progress: &ClusterProgress,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<bool>;

    // Cluster (Zeebe) clients
    /// Inserts the client unless its cluster already has `max_per_cluster` clients.
    async fn insert_zeebe_client(
        &self,
        client: &ZeebeClient,
        max_per_cluster: u32,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    async fn zeebe_clients(&self, org_id: &str, cluster_id: &str) -> StoreResult<Vec<ZeebeClient>>;
    async fn zeebe_client(
        &self,
        org_id: &str,
        cluster_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<ZeebeClient>>;
    async fn delete_zeebe_client(
        &self,
        org_id: &str,
        cluster_id: &str,
        client_id: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
    async fn zeebe_credential(&self, client_id: &str) -> StoreResult<Option<ZeebeCredential>>;

    // Activity
    async fn audit_events(&self, org_id: &str, limit: i64) -> StoreResult<Vec<AuditEntry>>;
}

/// Opens the store named by `url` and applies its migrations.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else {
        anyhow::bail!("unsupported database URL {url:?}: use sqlite://PATH")
    }
}
