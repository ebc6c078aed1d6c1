use async_trait::async_trait;

use super::StoreResult;
use crate::domain::audit::AuditEntry;
use crate::domain::secure_connectivity::SecureConnectivity;

/// The secure connectivity configuration of clusters.
#[async_trait]
pub trait SecureConnectivityStore: Send + Sync + 'static {
    /// Activates it, or replaces the configuration when already active (the generation goes
    /// up by one); returns what is stored. `NotFound` when the cluster is gone.
    async fn put_secure_connectivity(
        &self,
        config: &SecureConnectivity,
        audit: &AuditEntry,
    ) -> StoreResult<SecureConnectivity>;
    async fn secure_connectivity(
        &self,
        org_id: &str,
        cluster_id: &str,
    ) -> StoreResult<Option<SecureConnectivity>>;
    /// Deactivates it; false when it was not active.
    async fn delete_secure_connectivity(
        &self,
        org_id: &str,
        cluster_id: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
}
