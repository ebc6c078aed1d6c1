//! Provisioning drivers: what actually creates, upgrades and resumes clusters, and takes
//! their backups.

use std::time::Duration;

use async_trait::async_trait;

use crate::domain::backup::{Backup, BackupComponents, BackupStatus};
use crate::domain::cluster::{Cluster, ComponentStatus, Components};
use crate::domain::Timestamp;

/// How far a cluster's current operation (creating, updating, resuming) has come.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub components: Components,
    /// Every component reached `Healthy`: the operation is complete.
    pub done: bool,
    /// When it is worth looking again, if the driver knows.
    pub check_again_in: Option<Duration>,
}

/// How far a backup has come.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupObservation {
    /// Each component's part; the backup is done when none is in progress.
    pub components: BackupComponents,
    /// When it is worth looking again, if the driver knows.
    pub check_again_in: Option<Duration>,
}

/// A provisioning backend. The reconciler calls `observe` for every cluster in a
/// transitional state; a real driver would start the work on the first call and report
/// its progress on later ones.
#[async_trait]
pub trait ProvisioningDriver: Send + Sync + 'static {
    async fn observe(&self, cluster: &Cluster, now: Timestamp) -> anyhow::Result<Observation>;

    /// Called for every backup in progress, like `observe`: a real driver would start the
    /// backup of each component on the first call (keyed by `backup.id`) and report on
    /// later ones.
    async fn observe_backup(
        &self,
        cluster: &Cluster,
        backup: &Backup,
        now: Timestamp,
    ) -> anyhow::Result<BackupObservation>;
}

/// Simulates provisioning: Zeebe becomes healthy halfway through the configured delay and
/// the other components at its end. Backups take the same time, Zeebe's part again first.
pub struct SimulatedDriver {
    pub delay: Duration,
}

#[async_trait]
impl ProvisioningDriver for SimulatedDriver {
    async fn observe(&self, cluster: &Cluster, now: Timestamp) -> anyhow::Result<Observation> {
        let elapsed = now.elapsed_since(cluster.status_since);
        let in_progress = cluster.status;
        if elapsed >= self.delay {
            return Ok(Observation {
                components: Components::all(ComponentStatus::Healthy),
                done: true,
                check_again_in: None,
            });
        }
        let mut components = Components::all(in_progress);
        let halfway = self.delay / 2;
        if elapsed >= halfway {
            components.zeebe = ComponentStatus::Healthy;
        }
        let next = if elapsed >= halfway {
            self.delay
        } else {
            halfway
        };
        Ok(Observation {
            components,
            done: false,
            check_again_in: Some(next - elapsed),
        })
    }

    async fn observe_backup(
        &self,
        _cluster: &Cluster,
        backup: &Backup,
        now: Timestamp,
    ) -> anyhow::Result<BackupObservation> {
        let elapsed = now.elapsed_since(backup.created_at);
        if elapsed >= self.delay {
            return Ok(BackupObservation {
                components: BackupComponents::all(BackupStatus::Complete),
                check_again_in: None,
            });
        }
        let halfway = self.delay / 2;
        let mut components = BackupComponents::all(BackupStatus::InProgress);
        if elapsed >= halfway {
            components.zeebe = BackupStatus::Complete;
        }
        let next = if elapsed >= halfway {
            self.delay
        } else {
            halfway
        };
        Ok(BackupObservation {
            components,
            check_again_in: Some(next - elapsed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::domain::cluster::ClusterDraft;

    #[tokio::test]
    async fn simulated_provisioning_takes_the_configured_delay() {
        let catalog = Catalog::builtin();
        let draft = ClusterDraft::sample(&catalog, "c");
        let cluster = Cluster::create(draft, "o", &catalog, Timestamp(0)).unwrap();
        let driver = SimulatedDriver {
            delay: Duration::from_secs(4),
        };
        let start = driver.observe(&cluster, Timestamp(1000)).await.unwrap();
        assert!(!start.done);
        assert_eq!(start.components.zeebe, ComponentStatus::Creating);
        assert_eq!(start.check_again_in, Some(Duration::from_secs(1)));
        let half = driver.observe(&cluster, Timestamp(2500)).await.unwrap();
        assert_eq!(half.components.zeebe, ComponentStatus::Healthy);
        assert_eq!(half.components.operate, ComponentStatus::Creating);
        let end = driver.observe(&cluster, Timestamp(4000)).await.unwrap();
        assert!(end.done);
        assert_eq!(end.components, Components::all(ComponentStatus::Healthy));
    }

    #[tokio::test]
    async fn simulated_backups_take_the_configured_delay() {
        let catalog = Catalog::builtin();
        let draft = ClusterDraft::sample(&catalog, "c");
        let mut cluster = Cluster::create(draft, "o", &catalog, Timestamp(0)).unwrap();
        cluster.status = ComponentStatus::Healthy;
        let backup = Backup::start(&cluster, Timestamp(10_000)).unwrap();
        let driver = SimulatedDriver {
            delay: Duration::from_secs(2),
        };
        let start = driver
            .observe_backup(&cluster, &backup, Timestamp(10_000))
            .await
            .unwrap();
        assert_eq!(
            start.components,
            BackupComponents::all(BackupStatus::InProgress)
        );
        assert_eq!(start.check_again_in, Some(Duration::from_secs(1)));
        let half = driver
            .observe_backup(&cluster, &backup, Timestamp(11_000))
            .await
            .unwrap();
        assert_eq!(half.components.zeebe, BackupStatus::Complete);
        assert_eq!(half.components.operate, BackupStatus::InProgress);
        let end = driver
            .observe_backup(&cluster, &backup, Timestamp(12_000))
            .await
            .unwrap();
        assert_eq!(
            end.components,
            BackupComponents::all(BackupStatus::Complete)
        );
        assert_eq!(end.check_again_in, None);
    }
}
