use async_trait::async_trait;

use super::StoreResult;
use crate::domain::audit::AuditEntry;
use crate::domain::connector_secret::ConnectorSecret;
use crate::domain::Timestamp;

/// A cluster's connector secrets, stored sealed (see `domain::connector_secret`).
#[async_trait]
pub trait ConnectorSecretStore: Send + Sync + 'static {
    /// Inserts the secret unless its cluster is missing or another organization's
    /// (`NotFound`), already has `max_per_cluster` secrets (`LimitReached`) or has a secret
    /// of that name (`Conflict`, also when a concurrent insert wins the race).
    async fn insert_connector_secret(
        &self,
        secret: &ConnectorSecret,
        max_per_cluster: u32,
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// The cluster's secrets ordered by name; empty for a cluster the organization lacks.
    async fn connector_secrets(
        &self,
        org_id: &str,
        cluster_id: &str,
    ) -> StoreResult<Vec<ConnectorSecret>>;
    /// Replaces a secret's sealed value; false when there is no such secret.
    async fn update_connector_secret(
        &self,
        org_id: &str,
        cluster_id: &str,
        name: &str,
        sealed_value: &[u8],
        now: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
    /// False when there is no such secret.
    async fn delete_connector_secret(
        &self,
        org_id: &str,
        cluster_id: &str,
        name: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
}
