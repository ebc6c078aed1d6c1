use async_trait::async_trait;

use super::StoreResult;
use crate::domain::audit::AuditEntry;
use crate::domain::cluster::{Cluster, ComponentStatus, Components};
use crate::domain::Timestamp;

/// The result of one reconciler step on a cluster.
#[derive(Debug, Clone)]
pub struct ClusterProgress {
    pub status: ComponentStatus,
    pub components: Components,
    pub generation_id: String,
    pub target_generation_id: Option<String>,
    pub status_since: Timestamp,
}

/// One reconciler step on one cluster, for [`ClusterStore::advance_clusters`].
#[derive(Debug, Clone)]
pub struct ClusterStep {
    pub id: String,
    pub expected_version: i64,
    pub progress: ClusterProgress,
    pub audit: Option<AuditEntry>,
}

#[async_trait]
pub trait ClusterStore: Send + Sync + 'static {
    async fn insert_cluster(&self, cluster: &Cluster, audit: &AuditEntry) -> StoreResult<()>;
    async fn cluster(&self, org_id: &str, id: &str) -> StoreResult<Option<Cluster>>;
    async fn clusters(&self, org_id: &str) -> StoreResult<Vec<Cluster>>;
    /// Deletes the cluster and everything it owns; false when there was none.
    async fn delete_cluster(&self, org_id: &str, id: &str, audit: &AuditEntry)
        -> StoreResult<bool>;
    /// Writes what API clients can change (name, description, stage label, hardware
    /// packages, IP allowlist) with the records describing the change, if the stored
    /// cluster is still at `cluster.version`; false when it was changed or deleted first.
    async fn update_cluster_settings(
        &self,
        cluster: &Cluster,
        audit: &[AuditEntry],
    ) -> StoreResult<bool>;
    /// How many clusters of the installation are in each status (those with none are
    /// left out).
    async fn cluster_status_counts(&self) -> StoreResult<Vec<(String, i64)>>;
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
    /// Applies many steps in one transaction (one sync to disk for a whole reconciler
    /// pass); each is conditional on its version as in `advance_cluster`. Returns how many
    /// applied.
    async fn advance_clusters(&self, steps: &[ClusterStep]) -> StoreResult<usize>;
}
