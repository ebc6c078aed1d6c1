use async_trait::async_trait;

use super::{ClusterProgress, ClusterStore, StoreResult};
use crate::domain::audit::AuditEntry;
use crate::domain::cluster::Cluster;
use crate::domain::Timestamp;

/// Lifecycle transitions of clusters (upgrade, auto-update, suspend, wake) and the queries
/// the reconciler and the operator CLI make to find clusters due for one.
#[async_trait]
pub trait ClusterLifecycleStore: ClusterStore {
    /// Writes `next`, a transition of `current` decided by a domain rule, if the cluster is
    /// still at `current.version`; false when someone else changed (or deleted) it first.
    /// The version check is what makes a transition happen once, however many requests or
    /// reconcilers race for it.
    async fn transition_cluster(
        &self,
        current: &Cluster,
        next: &Cluster,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let progress = ClusterProgress::from(next);
        self.advance_cluster(&current.id, current.version, &progress, Some(audit))
            .await
    }

    /// Healthy clusters with `autoUpdate` whose generation is not among `current_generations`
    /// (the generations no auto-update moves away from). The caller checks the catalog.
    async fn auto_update_candidates(
        &self,
        current_generations: &[String],
        limit: i64,
    ) -> StoreResult<Vec<Cluster>>;

    /// Healthy clusters of the plans `plan_type_ids` that have been Healthy since
    /// `healthy_since` or earlier, longest first.
    async fn idle_candidates(
        &self,
        plan_type_ids: &[String],
        healthy_since: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<Cluster>>;

    /// A cluster of any organization, for operator commands.
    async fn cluster_by_id(&self, id: &str) -> StoreResult<Option<Cluster>>;

    /// The clusters with these ids (of any organization) that exist, in no particular order.
    async fn clusters_by_ids(&self, ids: &[String]) -> StoreResult<Vec<Cluster>>;

    /// Every cluster of every organization, for operator commands.
    async fn all_clusters(&self) -> StoreResult<Vec<Cluster>>;
}

impl From<&Cluster> for ClusterProgress {
    fn from(c: &Cluster) -> Self {
        ClusterProgress {
            status: c.status,
            components: c.components,
            generation_id: c.generation_id.clone(),
            target_generation_id: c.target_generation_id.clone(),
            status_since: c.status_since,
        }
    }
}
