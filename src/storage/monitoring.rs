use async_trait::async_trait;

use super::StoreResult;
use crate::domain::audit::AuditEntry;
use crate::domain::monitoring::MonitoringClient;
use crate::domain::Timestamp;

/// Bring-your-own monitoring: whether it is active per cluster, and its credentials.
/// Deactivating monitoring deletes the cluster's monitoring clients with it.
#[async_trait]
pub trait MonitoringStore: Send + Sync + 'static {
    /// Activates monitoring; false when it already was (nothing written), `NotFound` when
    /// the cluster is gone.
    async fn activate_monitoring(
        &self,
        org_id: &str,
        cluster_id: &str,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
    /// Deactivates monitoring and deletes its clients; false when it was not active.
    async fn deactivate_monitoring(
        &self,
        org_id: &str,
        cluster_id: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
    /// When monitoring was activated, if it is active.
    async fn monitoring_activated_at(
        &self,
        org_id: &str,
        cluster_id: &str,
    ) -> StoreResult<Option<Timestamp>>;

    /// Inserts the client unless monitoring is not active (false), the cluster already has
    /// `max_per_cluster` clients (`LimitReached`) or the username is taken (`Conflict`).
    async fn insert_monitoring_client(
        &self,
        client: &MonitoringClient,
        max_per_cluster: u32,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
    async fn monitoring_clients(
        &self,
        org_id: &str,
        cluster_id: &str,
    ) -> StoreResult<Vec<MonitoringClient>>;
    /// Replaces the password hash; the updated client, or `None` when unknown.
    async fn rotate_monitoring_password(
        &self,
        org_id: &str,
        cluster_id: &str,
        id: &str,
        password_hash: &[u8],
        audit: &AuditEntry,
    ) -> StoreResult<Option<MonitoringClient>>;
    async fn delete_monitoring_client(
        &self,
        org_id: &str,
        cluster_id: &str,
        id: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;

    /// The credential the metrics endpoint checks a Basic username against.
    async fn monitoring_credential(
        &self,
        cluster_id: &str,
        username: &str,
    ) -> StoreResult<Option<MonitoringClient>>;
    /// Records a successful use. Not audited (it is not a change anyone made), and written
    /// at most once per `resolution` per client so a scrape is not a write each time.
    async fn touch_monitoring_client(
        &self,
        id: &str,
        now: Timestamp,
        resolution: std::time::Duration,
    ) -> StoreResult<()>;
}
