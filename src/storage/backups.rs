use async_trait::async_trait;

use super::StoreResult;
use crate::domain::audit::AuditEntry;
use crate::domain::backup::Backup;

/// Backups of clusters.
#[async_trait]
pub trait BackupStore: Send + Sync + 'static {
    /// Inserts the backup if its cluster is still Healthy; false when it no longer is,
    /// `NotFound` when the cluster is gone.
    async fn insert_backup(&self, backup: &Backup, audit: &AuditEntry) -> StoreResult<bool>;
    /// The cluster's backups, oldest first.
    async fn backups(&self, org_id: &str, cluster_id: &str) -> StoreResult<Vec<Backup>>;
    /// Deletes a backup (running or not) and returns it as it was; `None` when unknown.
    async fn delete_backup(
        &self,
        org_id: &str,
        cluster_id: &str,
        backup_id: &str,
        audit: &AuditEntry,
    ) -> StoreResult<Option<Backup>>;
    /// Backups the reconciler is driving, oldest first.
    async fn in_progress_backups(&self, limit: i64) -> StoreResult<Vec<Backup>>;
    /// Writes `next` if the backup is still at `expected_version`; false when it changed or
    /// was deleted first.
    async fn advance_backup(
        &self,
        expected_version: i64,
        next: &Backup,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<bool>;
}
