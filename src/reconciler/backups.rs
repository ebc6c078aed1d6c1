//! Driving backups in progress to a final status.

use std::time::Duration;

use super::{earliest, Reconciler, ACTOR, BATCH};
use crate::domain::backup::Backup;
use crate::domain::Timestamp;

impl Reconciler {
    /// One pass over the backups in progress; returns when the next check is worth making.
    pub(super) async fn drive_backups(&self, now: Timestamp) -> anyhow::Result<Option<Duration>> {
        let mut next = None;
        for backup in self.store.in_progress_backups(BATCH).await? {
            match self.step_backup(&backup, now).await {
                Ok(again) => next = earliest(next, again),
                Err(e) => {
                    tracing::warn!(backup = %backup.id, error = %e, "reconciling backup failed")
                }
            }
        }
        Ok(next)
    }

    async fn step_backup(
        &self,
        backup: &Backup,
        now: Timestamp,
    ) -> anyhow::Result<Option<Duration>> {
        let Some(cluster) = self
            .store
            .cluster(&backup.org_id, &backup.cluster_id)
            .await?
        else {
            // The cluster is being deleted; its backups go with it.
            return Ok(None);
        };
        let observation = self.driver.observe_backup(&cluster, backup, now).await?;
        let Some(next) = backup.progressed(observation.components, now) else {
            return Ok(observation.check_again_in);
        };
        let audit = next
            .status
            .is_final()
            .then(|| backup.status_audit(&next, ACTOR, now));
        // A lost race (another reconciler, or a delete) is fine: whoever won wrote the step.
        self.store
            .advance_backup(backup.version, &next, audit.as_ref())
            .await?;
        Ok(observation.check_again_in)
    }
}
