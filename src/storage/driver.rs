use async_trait::async_trait;

use super::{ClusterStep, StoreResult};
use crate::domain::audit::AuditEntry;
use crate::domain::backup::Backup;
use crate::domain::Timestamp;

/// What the exec provisioning driver has done for one cluster (a `driver_state` row). The
/// JSON columns are kept as text here; `reconciler::exec` gives them their types.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DriverState {
    pub cluster_id: String,
    pub org_id: String,
    /// The cluster version last compared against `applied` (-1: never).
    pub seen_version: i64,
    pub applied: Option<String>,
    pub report: Option<String>,
    pub snapshot: Option<String>,
    pub deleted_at: Option<Timestamp>,
    pub step: Option<String>,
    pub operation_id: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Timestamp,
    pub next_probe_at: Timestamp,
    pub failed_probes: i64,
}

/// A backup deleted through the API whose `delete-backup` step is still to run.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupDeletion {
    pub backup_id: String,
    pub cluster_id: String,
    pub org_id: String,
    pub name: String,
    pub created_at: Timestamp,
    pub deleted_at: Timestamp,
}

/// Everything one finished driver step writes, in one transaction, if the step's runner
/// still holds the cluster's lease.
#[derive(Debug, Clone, Default)]
pub struct DriverStepResult {
    /// The row as it is to be stored (its lease fields are released).
    pub state: DriverState,
    /// The teardown is done: the row goes.
    pub forget: bool,
    /// A cluster status change, conditional on the cluster's version.
    pub cluster: Option<ClusterStep>,
    /// A backup that reached a final status, conditional on its version.
    pub backup: Option<Backup>,
    /// A `delete-backup` step that succeeded.
    pub backup_deletion_done: Option<String>,
    pub audit: Vec<AuditEntry>,
}

/// One health probe's outcome for a cluster.
#[derive(Debug, Clone)]
pub struct ProbeResult {
    pub cluster_id: String,
    pub failed_probes: i64,
    pub cluster: Option<ClusterStep>,
}

/// The exec driver's bookkeeping: which clusters have steps due, who runs them (a lease per
/// cluster, so exactly one replica runs a step at a time), and health probing shared among
/// replicas.
#[async_trait]
pub trait DriverStore: Send + Sync + 'static {
    /// Ids of clusters that may have a driver step due at `now`: clusters the driver has not
    /// seen at their current version, clusters with a step failing or in progress, clusters
    /// deleted but not torn down, clusters with backups in progress or deleted backups to
    /// remove. Clusters leased by another runner or backing off are left out.
    async fn driver_work(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<String>>;

    /// Claims the cluster's lease for `owner` until `until` (creating its row if needed)
    /// unless another owner holds an unexpired one; the row as claimed, or `None`.
    async fn claim_driver_lease(
        &self,
        cluster_id: &str,
        org_id: &str,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<Option<DriverState>>;

    /// Extends a lease `owner` holds; false when it no longer holds it.
    async fn renew_driver_lease(
        &self,
        cluster_id: &str,
        owner: &str,
        until: Timestamp,
    ) -> StoreResult<bool>;

    /// Writes a finished step (see [`DriverStepResult`]); false when `owner` lost the lease
    /// meanwhile, in which case nothing is written.
    async fn finish_driver_step(&self, owner: &str, result: &DriverStepResult)
        -> StoreResult<bool>;

    /// The driver's row of a cluster.
    async fn driver_state(&self, cluster_id: &str) -> StoreResult<Option<DriverState>>;

    /// Driver reports (endpoints and health URLs, JSON) of an organization's clusters, by
    /// cluster id.
    async fn driver_reports(
        &self,
        org_id: &str,
    ) -> StoreResult<std::collections::HashMap<String, String>>;

    /// Deleted clusters whose teardown has not succeeded yet, oldest first.
    async fn deleting_clusters(&self) -> StoreResult<Vec<DriverState>>;

    /// Deleted backups of a cluster still to be removed by the driver.
    async fn backup_deletions(&self, cluster_id: &str) -> StoreResult<Vec<BackupDeletion>>;

    /// Claims up to `limit` clusters whose health probe is due at `now` (they have health
    /// URLs, the driver has seen their current version with no step pending, and they are
    /// not suspended or deleted) by moving their next probe
    /// to `next`, so that another replica does not probe them in this interval.
    async fn claim_probes(
        &self,
        now: Timestamp,
        next: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<DriverState>>;

    /// Records probe outcomes: failure counts that changed and cluster status changes (each
    /// conditional on the cluster's version) with their activity records, in one
    /// transaction.
    async fn record_probes(&self, results: &[ProbeResult]) -> StoreResult<()>;
}
