//! Storage behind one interface. The database URL picks the implementation.
//!
//! The interface is split by resource (one trait per file); [`Store`] is all of them.
//! Every write that changes what the API shows takes the [`AuditEntry`] describing it and
//! commits both in one transaction.

mod audit;
mod backups;
mod clusters;
mod keys;
mod lifecycle;
mod monitoring;
mod orgs;
mod secure_connectivity;
mod sqlite;
mod zeebe_clients;

use std::sync::Arc;

pub use audit::AuditStore;
pub use backups::BackupStore;
pub use clusters::{ClusterProgress, ClusterStore};
pub use keys::{KeyStore, SigningKeyRecord};
pub use lifecycle::ClusterLifecycleStore;
pub use monitoring::MonitoringStore;
pub use orgs::OrgStore;
pub use secure_connectivity::SecureConnectivityStore;
pub use sqlite::SqliteStore;
pub use zeebe_clients::{ZeebeClientStore, ZeebeCredential};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated; the value describes the constraint.
    #[error("unique constraint violated: {0}")]
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

/// Everything the server stores.
pub trait Store:
    KeyStore
    + OrgStore
    + ClusterStore
    + ZeebeClientStore
    + AuditStore
    + ClusterLifecycleStore
    + BackupStore
    + MonitoringStore
    + SecureConnectivityStore
{
}

impl<T> Store for T where
    T: KeyStore
        + OrgStore
        + ClusterStore
        + ZeebeClientStore
        + AuditStore
        + ClusterLifecycleStore
        + BackupStore
        + MonitoringStore
        + SecureConnectivityStore
{
}

/// Opens the store named by `url` and applies its migrations.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else {
        anyhow::bail!("unsupported database URL {url:?}: use sqlite://PATH")
    }
}
