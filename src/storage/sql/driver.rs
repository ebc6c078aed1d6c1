// Included into each backend module (`storage/sqlite`, `storage/postgres.rs`), where
// `Backend` is that backend's store type (a `SqlBackend`) and `Db` its sqlx driver.
#[allow(unused_imports)]
use super::{Backend, Db};
use crate::storage::driver::{BackupDeletion, DriverState, DriverStepResult, ProbeResult};
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

macro_rules! driver_state_columns {
    () => {
        "cluster_id, org_id, seen_version, applied, report, snapshot, deleted_at, step, \
         operation_id, attempts, next_attempt_at, last_error, lease_owner, lease_until, \
         next_probe_at, failed_probes"
    };
}

#[derive(FromRow)]
struct DriverStateRow {
    cluster_id: String,
    org_id: String,
    seen_version: i64,
    applied: Option<String>,
    report: Option<String>,
    snapshot: Option<String>,
    deleted_at: Option<i64>,
    step: Option<String>,
    operation_id: Option<String>,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    lease_owner: Option<String>,
    lease_until: i64,
    next_probe_at: i64,
    failed_probes: i64,
}

impl From<DriverStateRow> for DriverState {
    fn from(r: DriverStateRow) -> Self {
        DriverState {
            cluster_id: r.cluster_id,
            org_id: r.org_id,
            seen_version: r.seen_version,
            applied: r.applied,
            report: r.report,
            snapshot: r.snapshot,
            deleted_at: r.deleted_at.map(Timestamp),
            step: r.step,
            operation_id: r.operation_id,
            attempts: r.attempts,
            next_attempt_at: Timestamp(r.next_attempt_at),
            last_error: r.last_error,
            lease_owner: r.lease_owner,
            lease_until: Timestamp(r.lease_until),
            next_probe_at: Timestamp(r.next_probe_at),
            failed_probes: r.failed_probes,
        }
    }
}

#[derive(FromRow)]
struct BackupDeletionRow {
    backup_id: String,
    cluster_id: String,
    org_id: String,
    name: String,
    created_at: i64,
    deleted_at: i64,
}

#[async_trait]
impl crate::storage::DriverStore for Backend {
    async fn driver_work(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(
            "SELECT c.id FROM clusters c LEFT JOIN driver_state d ON d.cluster_id = c.id \
             WHERE (d.cluster_id IS NULL OR (d.next_attempt_at <= $1 AND d.lease_until < $1)) \
             AND (d.cluster_id IS NULL OR d.seen_version <> c.version OR d.step IS NOT NULL \
               OR EXISTS (SELECT 1 FROM backups b \
                          WHERE b.cluster_id = c.id AND b.status = 'In progress') \
               OR EXISTS (SELECT 1 FROM driver_backup_deletions x WHERE x.cluster_id = c.id)) \
             UNION ALL \
             SELECT d.cluster_id FROM driver_state d \
             WHERE d.next_attempt_at <= $1 AND d.lease_until < $1 \
             AND NOT EXISTS (SELECT 1 FROM clusters c WHERE c.id = d.cluster_id) \
             LIMIT $2",
        )
        .bind(now.millis())
        .bind(limit)
        .fetch_all(self.reader())
        .await
        .db()
    }

    async fn claim_driver_lease(
        &self,
        cluster_id: &str,
        org_id: &str,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<Option<DriverState>> {
        let mut tx = self.begin().await?;
        // Inserted on first sight; otherwise taken over only when free or expired.
        let row: Option<DriverStateRow> = sqlx::query_as(concat!(
            "INSERT INTO driver_state (cluster_id, org_id, seen_version, attempts, \
             next_attempt_at, lease_owner, lease_until, next_probe_at, failed_probes) \
             VALUES ($1, $2, -1, 0, 0, $3, $5, 0, 0) \
             ON CONFLICT (cluster_id) DO UPDATE SET lease_owner = excluded.lease_owner, \
             lease_until = excluded.lease_until \
             WHERE driver_state.lease_until < $4 OR driver_state.lease_owner = $3 \
             RETURNING ",
            driver_state_columns!()
        ))
        .bind(cluster_id)
        .bind(org_id)
        .bind(owner)
        .bind(now.millis())
        .bind(until.millis())
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        self.commit(tx).await?;
        Ok(row.map(Into::into))
    }

    async fn renew_driver_lease(
        &self,
        cluster_id: &str,
        owner: &str,
        until: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let renewed = sqlx::query(
            "UPDATE driver_state SET lease_until = $1 WHERE cluster_id = $2 AND lease_owner = $3",
        )
        .bind(until.millis())
        .bind(cluster_id)
        .bind(owner)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        self.commit(tx).await?;
        Ok(renewed == 1)
    }

    async fn finish_driver_step(
        &self,
        owner: &str,
        result: &DriverStepResult,
    ) -> StoreResult<bool> {
        let s = &result.state;
        let mut tx = self.begin().await?;
        let held = if result.forget {
            let gone = sqlx::query(
                "DELETE FROM driver_state WHERE cluster_id = $1 AND lease_owner = $2",
            )
            .bind(&s.cluster_id)
            .bind(owner)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            sqlx::query("DELETE FROM driver_backup_deletions WHERE cluster_id = $1")
                .bind(&s.cluster_id)
                .execute(&mut *tx)
                .await
                .db()?;
            gone
        } else {
            sqlx::query(
                "UPDATE driver_state SET seen_version = $1, applied = $2, report = $3, \
                 snapshot = $4, step = $5, operation_id = $6, attempts = $7, \
                 next_attempt_at = $8, last_error = $9, next_probe_at = $10, \
                 failed_probes = $11, lease_owner = NULL, lease_until = 0 \
                 WHERE cluster_id = $12 AND lease_owner = $13",
            )
            .bind(s.seen_version)
            .bind(&s.applied)
            .bind(&s.report)
            .bind(&s.snapshot)
            .bind(&s.step)
            .bind(&s.operation_id)
            .bind(s.attempts)
            .bind(s.next_attempt_at.millis())
            .bind(&s.last_error)
            .bind(s.next_probe_at.millis())
            .bind(s.failed_probes)
            .bind(&s.cluster_id)
            .bind(owner)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected()
        };
        if held == 0 {
            return Ok(false);
        }
        if let Some(step) = &result.cluster {
            Backend::apply_cluster_steps(&mut tx, std::slice::from_ref(step)).await?;
        }
        if let Some(backup) = &result.backup {
            Backend::apply_backup_progress(&mut tx, backup.version, backup).await?;
        }
        if let Some(backup_id) = &result.backup_deletion_done {
            sqlx::query("DELETE FROM driver_backup_deletions WHERE backup_id = $1")
                .bind(backup_id)
                .execute(&mut *tx)
                .await
                .db()?;
        }
        let audits: Vec<&AuditEntry> = result.audit.iter().collect();
        Backend::insert_audits(&mut tx, &audits).await?;
        self.commit(tx).await?;
        Ok(true)
    }

    async fn driver_state(&self, cluster_id: &str) -> StoreResult<Option<DriverState>> {
        let row: Option<DriverStateRow> = self
            .fetch_optional_by(
                concat!(
                    "SELECT ",
                    driver_state_columns!(),
                    " FROM driver_state WHERE cluster_id = $1"
                ),
                &[cluster_id],
            )
            .await?;
        Ok(row.map(Into::into))
    }

    async fn driver_reports(
        &self,
        org_id: &str,
    ) -> StoreResult<std::collections::HashMap<String, String>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT cluster_id, report FROM driver_state \
             WHERE org_id = $1 AND report IS NOT NULL AND deleted_at IS NULL",
        )
        .bind(org_id)
        .fetch_all(self.reader())
        .await
        .db()?;
        Ok(rows.into_iter().collect())
    }

    async fn deleting_clusters(&self) -> StoreResult<Vec<DriverState>> {
        let rows: Vec<DriverStateRow> = sqlx::query_as(concat!(
            "SELECT ",
            driver_state_columns!(),
            " FROM driver_state d WHERE d.deleted_at IS NOT NULL \
             OR NOT EXISTS (SELECT 1 FROM clusters c WHERE c.id = d.cluster_id) \
             ORDER BY COALESCE(d.deleted_at, 0), d.cluster_id"
        ))
        .fetch_all(self.reader())
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn backup_deletions(&self, cluster_id: &str) -> StoreResult<Vec<BackupDeletion>> {
        let rows: Vec<BackupDeletionRow> = self
            .fetch_all_by(
                "SELECT backup_id, cluster_id, org_id, name, created_at, deleted_at \
                 FROM driver_backup_deletions WHERE cluster_id = $1 ORDER BY deleted_at, backup_id",
                &[cluster_id],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| BackupDeletion {
                backup_id: r.backup_id,
                cluster_id: r.cluster_id,
                org_id: r.org_id,
                name: r.name,
                created_at: Timestamp(r.created_at),
                deleted_at: Timestamp(r.deleted_at),
            })
            .collect())
    }

    async fn claim_probes(
        &self,
        now: Timestamp,
        next: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<DriverState>> {
        let mut tx = self.begin().await?;
        // The outer condition is checked again on the row as it is when updated, so when
        // two replicas claim at once, one of them gets each cluster.
        let rows: Vec<DriverStateRow> = sqlx::query_as(concat!(
            "UPDATE driver_state SET next_probe_at = $2 WHERE cluster_id IN (\
               SELECT d.cluster_id FROM driver_state d JOIN clusters c ON c.id = d.cluster_id \
               WHERE d.next_probe_at <= $1 AND d.report IS NOT NULL AND d.step IS NULL \
               AND d.seen_version = c.version \
               AND d.deleted_at IS NULL AND d.lease_until < $1 AND c.status <> 'Suspended' \
               ORDER BY d.next_probe_at LIMIT $3) \
             AND next_probe_at <= $1 RETURNING ",
            driver_state_columns!()
        ))
        .bind(now.millis())
        .bind(next.millis())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await
        .db()?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        self.commit(tx).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn record_probes(&self, results: &[ProbeResult]) -> StoreResult<()> {
        if results.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for result in results {
            sqlx::query("UPDATE driver_state SET failed_probes = $1 WHERE cluster_id = $2")
                .bind(result.failed_probes)
                .bind(&result.cluster_id)
                .execute(&mut *tx)
                .await
                .db()?;
        }
        let steps: Vec<ClusterStep> = results.iter().filter_map(|r| r.cluster.clone()).collect();
        Backend::apply_cluster_steps(&mut tx, &steps).await?;
        self.commit(tx).await
    }
}
