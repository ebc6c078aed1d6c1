use async_trait::async_trait;

use super::StoreResult;
use crate::domain::audit::AuditEntry;
use crate::domain::cluster::ComponentStatus;
use crate::domain::zeebe_client::ZeebeClient;

/// Zeebe client credentials looked up by the token endpoint.
#[derive(Debug, Clone)]
pub struct ZeebeCredential {
    pub client: ZeebeClient,
    pub cluster_status: ComponentStatus,
}

/// A cluster's API (Zeebe) clients.
#[async_trait]
pub trait ZeebeClientStore: Send + Sync + 'static {
    /// Inserts the client unless its cluster already has `max_per_cluster` clients
    /// (`LimitReached`), the cluster is missing (`NotFound`) or the name is taken (`Conflict`).
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
}
