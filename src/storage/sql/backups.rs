// Included into each backend module (`storage/sqlite`, `storage/postgres.rs`), where
// `Backend` is that backend's store type (a `SqlBackend`) and `Db` its sqlx driver.
#[allow(unused_imports)]
use super::{Backend, Db};
use crate::domain::backup::{Backup, BackupComponents, BackupStatus};
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

macro_rules! backups_backup_columns {
    () => {
        "id, cluster_id, org_id, name, status, zeebe_status, \
    operate_status, tasklist_status, optimize_status, created_at, completed_at, version"
    };
}

#[derive(FromRow)]
struct BackupRow {
    id: String,
    cluster_id: String,
    org_id: String,
    name: String,
    status: String,
    zeebe_status: String,
    operate_status: String,
    tasklist_status: String,
    optimize_status: String,
    created_at: i64,
    completed_at: Option<i64>,
    version: i64,
}

fn backup_status(text: &str) -> BackupStatus {
    // Written from the enum; an unknown value can only come from a manual edit.
    BackupStatus::parse(text).unwrap_or(BackupStatus::Failed)
}

impl From<BackupRow> for Backup {
    fn from(r: BackupRow) -> Self {
        Backup {
            id: r.id,
            cluster_id: r.cluster_id,
            org_id: r.org_id,
            name: r.name,
            status: backup_status(&r.status),
            components: BackupComponents {
                zeebe: backup_status(&r.zeebe_status),
                operate: backup_status(&r.operate_status),
                tasklist: backup_status(&r.tasklist_status),
                optimize: backup_status(&r.optimize_status),
            },
            created_at: Timestamp(r.created_at),
            completed_at: r.completed_at.map(Timestamp),
            version: r.version,
        }
    }
}

#[async_trait]
impl crate::storage::BackupStore for Backend {
    async fn insert_backup(&self, b: &Backup, audit: &AuditEntry) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        // The cluster's row stays locked until commit and the health check is part of the
        // insert, so a cluster that stops being Healthy meanwhile cannot get a backup.
        if !Backend::lock_cluster(&mut tx, &b.org_id, &b.cluster_id).await? {
            return Err(StoreError::NotFound);
        }
        let inserted = sqlx::query(concat!("INSERT INTO backups (", backups_backup_columns!(), ") \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 \
             WHERE EXISTS (SELECT 1 FROM clusters WHERE id = $13 AND org_id = $14 AND status = 'Healthy')"))
        .bind(&b.id)
        .bind(&b.cluster_id)
        .bind(&b.org_id)
        .bind(&b.name)
        .bind(b.status.as_str())
        .bind(b.components.zeebe.as_str())
        .bind(b.components.operate.as_str())
        .bind(b.components.tasklist.as_str())
        .bind(b.components.optimize.as_str())
        .bind(b.created_at.millis())
        .bind(b.completed_at.map(Timestamp::millis))
        .bind(b.version)
        .bind(&b.cluster_id)
        .bind(&b.org_id)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        self.commit_audited(tx, inserted, audit).await
    }

    async fn backups(&self, org_id: &str, cluster_id: &str) -> StoreResult<Vec<Backup>> {
        let rows: Vec<BackupRow> = self
            .fetch_all_by(concat!(
            "SELECT ",
            backups_backup_columns!(),
            " FROM backups WHERE cluster_id = $1 AND org_id = $2 \
             ORDER BY created_at, id"
        ), &[cluster_id, org_id])
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn delete_backup(
        &self,
        org_id: &str,
        cluster_id: &str,
        backup_id: &str,
        audit: &AuditEntry,
    ) -> StoreResult<Option<Backup>> {
        let mut tx = self.begin().await?;
        let row: Option<BackupRow> = sqlx::query_as(concat!(
            "SELECT ",
            backups_backup_columns!(),
            " FROM backups WHERE id = $1 AND cluster_id = $2 AND org_id = $3"
        ))
        .bind(backup_id)
        .bind(cluster_id)
        .bind(org_id)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let Some(row) = row else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM backups WHERE id = $1")
            .bind(backup_id)
            .execute(&mut *tx)
            .await
            .db()?;
        // A cluster the exec driver handles gets a delete-backup step (see `sql/driver.rs`).
        sqlx::query(
            "INSERT INTO driver_backup_deletions \
             (backup_id, cluster_id, org_id, name, created_at, deleted_at) \
             SELECT $1, $2, $3, $4, $5, $6 \
             WHERE EXISTS (SELECT 1 FROM driver_state WHERE cluster_id = $2)",
        )
        .bind(backup_id)
        .bind(cluster_id)
        .bind(org_id)
        .bind(&row.name)
        .bind(row.created_at)
        .bind(audit.timestamp.millis())
        .execute(&mut *tx)
        .await
        .db()?;
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await?;
        Ok(Some(row.into()))
    }

    async fn in_progress_backups(&self, limit: i64) -> StoreResult<Vec<Backup>> {
        let rows: Vec<BackupRow> = sqlx::query_as(concat!(
            "SELECT ",
            backups_backup_columns!(),
            " FROM backups WHERE status = 'In progress' \
             ORDER BY created_at LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.reader())
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn advance_backup(
        &self,
        expected_version: i64,
        b: &Backup,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let updated = Backend::apply_backup_progress(&mut tx, expected_version, b).await?;
        if !updated {
            return Ok(false);
        }
        if let Some(audit) = audit {
            Backend::insert_audit(&mut tx, audit).await?;
        }
        self.commit(tx).await?;
        Ok(true)
    }
}

impl Backend {
    /// Writes a backup's progress inside the caller's transaction if it is still at
    /// `expected_version`; false when it changed or went first.
    pub(in crate::storage) async fn apply_backup_progress(
        tx: &mut sqlx::Transaction<'_, Db>,
        expected_version: i64,
        b: &Backup,
    ) -> StoreResult<bool> {
        let updated = sqlx::query(
            "UPDATE backups SET status = $1, zeebe_status = $2, operate_status = $3, \
             tasklist_status = $4, optimize_status = $5, completed_at = $6, version = version + 1 \
             WHERE id = $7 AND version = $8",
        )
        .bind(b.status.as_str())
        .bind(b.components.zeebe.as_str())
        .bind(b.components.operate.as_str())
        .bind(b.components.tasklist.as_str())
        .bind(b.components.optimize.as_str())
        .bind(b.completed_at.map(Timestamp::millis))
        .bind(&b.id)
        .bind(expected_version)
        .execute(&mut **tx)
        .await
        .db()?
        .rows_affected();
        Ok(updated == 1)
    }
}
