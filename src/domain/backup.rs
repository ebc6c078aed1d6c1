//! Backups of a cluster: taken on request, driven to completion by the reconciler.

use super::audit::{AuditEntry, AuditType};
use super::cluster::Cluster;
use super::{DomainError, Timestamp};

wire_names! {
    /// The API's `BackupStatus`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum BackupStatus {
        InProgress => "In progress",
        Failed => "Failed",
        Complete => "Complete",
        /// The component takes no part in the backup.
        NotApplicable => "-",
    }
}

impl BackupStatus {
    /// No more work will happen on a component (or backup) in this status.
    pub fn is_final(self) -> bool {
        !matches!(self, BackupStatus::InProgress)
    }
}

/// The status of each component's part of a backup (the components `BackupDto` lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupComponents {
    pub zeebe: BackupStatus,
    pub operate: BackupStatus,
    pub tasklist: BackupStatus,
    pub optimize: BackupStatus,
}

impl BackupComponents {
    pub fn all(status: BackupStatus) -> Self {
        BackupComponents {
            zeebe: status,
            operate: status,
            tasklist: status,
            optimize: status,
        }
    }

    fn each(self) -> [BackupStatus; 4] {
        [self.zeebe, self.operate, self.tasklist, self.optimize]
    }

    /// The overall status the components add up to: in progress while any part is, failed
    /// when any part failed, complete otherwise.
    pub fn overall(self) -> BackupStatus {
        let parts = self.each();
        if parts.contains(&BackupStatus::InProgress) {
            BackupStatus::InProgress
        } else if parts.contains(&BackupStatus::Failed) {
            BackupStatus::Failed
        } else {
            BackupStatus::Complete
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Backup {
    pub id: String,
    pub cluster_id: String,
    pub org_id: String,
    pub name: String,
    pub status: BackupStatus,
    pub components: BackupComponents,
    pub created_at: Timestamp,
    /// When the backup reached a final status.
    pub completed_at: Option<Timestamp>,
    /// Incremented by every change; the reconciler's writes compare it.
    pub version: i64,
}

impl Backup {
    /// A new backup of `cluster`, in progress. Only a Healthy cluster can be backed up.
    pub fn start(cluster: &Cluster, now: Timestamp) -> Result<Backup, DomainError> {
        if !cluster.is_healthy() {
            return Err(DomainError::PreconditionFailed(format!(
                "only a Healthy cluster can be backed up; this one is {}",
                cluster.status.as_str()
            )));
        }
        Ok(Backup {
            id: uuid::Uuid::new_v4().to_string(),
            cluster_id: cluster.id.clone(),
            org_id: cluster.org_id.clone(),
            name: backup_name(now),
            status: BackupStatus::InProgress,
            components: BackupComponents::all(BackupStatus::InProgress),
            created_at: now,
            completed_at: None,
            version: 0,
        })
    }

    /// The backup after the driver reported `components` at `now`; `None` when nothing changed.
    pub fn progressed(&self, components: BackupComponents, now: Timestamp) -> Option<Backup> {
        if components == self.components {
            return None;
        }
        let status = components.overall();
        Some(Backup {
            status,
            components,
            completed_at: status.is_final().then_some(now),
            ..self.clone()
        })
    }
}

impl Backup {
    /// The activity record of this backup reaching `next`'s status, by `actor`.
    pub fn status_audit(&self, next: &Backup, actor: &str, now: Timestamp) -> AuditEntry {
        AuditEntry::new(
            &self.org_id,
            actor,
            AuditType::Update,
            "backup",
            &self.id,
            format!("Backup {:?} is {}", self.name, next.status.as_str()),
            now,
        )
        .with_parent("cluster", &self.cluster_id)
        .with_change(
            "status",
            Some(self.status.as_str().into()),
            Some(next.status.as_str().into()),
        )
    }
}

/// Backups are named after their start time, e.g. `backup-20250102T030405Z`, which sorts
/// the way they were taken and says when at a glance.
fn backup_name(now: Timestamp) -> String {
    let rfc3339 = now.to_rfc3339();
    // 2025-01-02T03:04:05.678Z -> 20250102T030405Z
    let compact: String = rfc3339[..19]
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    format!("backup-{compact}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::domain::cluster::{ClusterDraft, ComponentStatus};

    fn cluster(status: ComponentStatus) -> Cluster {
        let catalog = Catalog::builtin();
        let draft = ClusterDraft::sample(&catalog, "c");
        let mut cluster = Cluster::create(draft, "o", &catalog, Timestamp(0)).unwrap();
        cluster.status = status;
        cluster
    }

    #[test]
    fn only_a_healthy_cluster_can_be_backed_up() {
        let backup = Backup::start(&cluster(ComponentStatus::Healthy), Timestamp(1_000)).unwrap();
        assert_eq!(backup.status, BackupStatus::InProgress);
        assert_eq!(
            backup.components,
            BackupComponents::all(BackupStatus::InProgress)
        );
        assert_eq!(backup.completed_at, None);
        assert_eq!(backup.name, "backup-19700101T000001Z");
        for status in [
            ComponentStatus::Creating,
            ComponentStatus::Updating,
            ComponentStatus::Suspended,
            ComponentStatus::Resuming,
            ComponentStatus::Unhealthy,
        ] {
            let err = Backup::start(&cluster(status), Timestamp(0)).unwrap_err();
            assert!(matches!(err, DomainError::PreconditionFailed(_)), "{err}");
        }
    }

    #[test]
    fn a_backup_completes_when_every_component_has() {
        let backup = Backup::start(&cluster(ComponentStatus::Healthy), Timestamp(0)).unwrap();
        let mut half = BackupComponents::all(BackupStatus::InProgress);
        half.zeebe = BackupStatus::Complete;
        let step = backup.progressed(half, Timestamp(5)).unwrap();
        assert_eq!(step.status, BackupStatus::InProgress);
        assert_eq!(step.completed_at, None);
        assert!(step.progressed(half, Timestamp(6)).is_none());
        let done = step
            .progressed(BackupComponents::all(BackupStatus::Complete), Timestamp(9))
            .unwrap();
        assert_eq!(done.status, BackupStatus::Complete);
        assert_eq!(done.completed_at, Some(Timestamp(9)));
    }

    #[test]
    fn one_failed_component_fails_the_backup() {
        let mut parts = BackupComponents::all(BackupStatus::Complete);
        parts.optimize = BackupStatus::Failed;
        assert_eq!(parts.overall(), BackupStatus::Failed);
        parts.operate = BackupStatus::InProgress;
        assert_eq!(parts.overall(), BackupStatus::InProgress);
        parts = BackupComponents::all(BackupStatus::NotApplicable);
        parts.zeebe = BackupStatus::Complete;
        assert_eq!(parts.overall(), BackupStatus::Complete);
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            BackupStatus::InProgress,
            BackupStatus::Failed,
            BackupStatus::Complete,
            BackupStatus::NotApplicable,
        ] {
            assert_eq!(BackupStatus::parse(s.as_str()), Some(s));
        }
    }
}
