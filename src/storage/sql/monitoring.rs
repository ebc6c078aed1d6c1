use std::time::Duration;

// Included into each backend module (`storage/sqlite`, `storage/postgres.rs`), where
// `Backend` is that backend's store type (a `SqlBackend`) and `Db` its sqlx driver.
#[allow(unused_imports)]
use super::{Backend, Db};
use crate::domain::monitoring::MonitoringClient;
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

macro_rules! monitoring_client_columns {
    () => {
        "id, cluster_id, org_id, username, password_hash, created_at, \
    created_by, created_by_name, last_used_at"
    };
}

#[derive(FromRow)]
struct MonitoringClientRow {
    id: String,
    cluster_id: String,
    org_id: String,
    username: String,
    password_hash: Vec<u8>,
    created_at: i64,
    created_by: String,
    created_by_name: String,
    last_used_at: Option<i64>,
}

impl From<MonitoringClientRow> for MonitoringClient {
    fn from(r: MonitoringClientRow) -> Self {
        MonitoringClient {
            id: r.id,
            cluster_id: r.cluster_id,
            org_id: r.org_id,
            username: r.username,
            password_hash: r.password_hash,
            created_at: Timestamp(r.created_at),
            created_by: r.created_by,
            created_by_name: r.created_by_name,
            last_used_at: r.last_used_at.map(Timestamp),
        }
    }
}

#[async_trait]
impl crate::storage::MonitoringStore for Backend {
    async fn activate_monitoring(
        &self,
        org_id: &str,
        cluster_id: &str,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        if !Backend::lock_cluster(&mut tx, org_id, cluster_id).await? {
            return Err(StoreError::NotFound);
        }
        let inserted = sqlx::query(
            "INSERT INTO monitoring (cluster_id, org_id, activated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (cluster_id) DO NOTHING",
        )
        .bind(cluster_id)
        .bind(org_id)
        .bind(now.millis())
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        self.commit_audited(tx, inserted, audit).await
    }

    async fn deactivate_monitoring(
        &self,
        org_id: &str,
        cluster_id: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        // The clients go with it (ON DELETE CASCADE on monitoring_clients.cluster_id).
        let deleted = sqlx::query("DELETE FROM monitoring WHERE cluster_id = $1 AND org_id = $2")
            .bind(cluster_id)
            .bind(org_id)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
        self.commit_audited(tx, deleted, audit).await
    }

    async fn monitoring_activated_at(
        &self,
        org_id: &str,
        cluster_id: &str,
    ) -> StoreResult<Option<Timestamp>> {
        let at: Option<i64> = sqlx::query_scalar(
            "SELECT activated_at FROM monitoring WHERE cluster_id = $1 AND org_id = $2",
        )
        .bind(cluster_id)
        .bind(org_id)
        .fetch_optional(self.reader())
        .await
        .db()?;
        Ok(at.map(Timestamp))
    }

    async fn insert_monitoring_client(
        &self,
        c: &MonitoringClient,
        max_per_cluster: u32,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        if !Backend::lock_cluster(&mut tx, &c.org_id, &c.cluster_id).await? {
            return Err(StoreError::NotFound);
        }
        let active: Option<String> =
            sqlx::query_scalar("SELECT cluster_id FROM monitoring WHERE cluster_id = $1")
                .bind(&c.cluster_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
        if active.is_none() {
            return Ok(false);
        }
        Backend::ensure_below_limit(
            &mut tx,
            "SELECT COUNT(*) FROM monitoring_clients WHERE cluster_id = $1",
            &c.cluster_id,
            max_per_cluster,
        )
        .await?;
        sqlx::query(concat!(
            "INSERT INTO monitoring_clients (",
            monitoring_client_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&c.id)
        .bind(&c.cluster_id)
        .bind(&c.org_id)
        .bind(&c.username)
        .bind(&c.password_hash)
        .bind(c.created_at.millis())
        .bind(&c.created_by)
        .bind(&c.created_by_name)
        .bind(c.last_used_at.map(Timestamp::millis))
        .execute(&mut *tx)
        .await
        .db()?;
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await?;
        Ok(true)
    }

    async fn monitoring_clients(
        &self,
        org_id: &str,
        cluster_id: &str,
    ) -> StoreResult<Vec<MonitoringClient>> {
        let rows: Vec<MonitoringClientRow> = self
            .fetch_all_by(concat!(
            "SELECT ",
            monitoring_client_columns!(),
            " FROM monitoring_clients \
             WHERE cluster_id = $1 AND org_id = $2 ORDER BY created_at, id"
        ), &[cluster_id, org_id])
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn rotate_monitoring_password(
        &self,
        org_id: &str,
        cluster_id: &str,
        id: &str,
        password_hash: &[u8],
        audit: &AuditEntry,
    ) -> StoreResult<Option<MonitoringClient>> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE monitoring_clients SET password_hash = $1 \
             WHERE id = $2 AND cluster_id = $3 AND org_id = $4",
        )
        .bind(password_hash)
        .bind(id)
        .bind(cluster_id)
        .bind(org_id)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if updated == 0 {
            return Ok(None);
        }
        let row: MonitoringClientRow = sqlx::query_as(concat!(
            "SELECT ",
            monitoring_client_columns!(),
            " FROM monitoring_clients WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await?;
        Ok(Some(row.into()))
    }

    async fn delete_monitoring_client(
        &self,
        org_id: &str,
        cluster_id: &str,
        id: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        self.write_audited(
            "DELETE FROM monitoring_clients WHERE id = $1 AND cluster_id = $2 AND org_id = $3",
            &[id, cluster_id, org_id],
            audit,
        )
        .await
    }

    async fn monitoring_credential(
        &self,
        cluster_id: &str,
        username: &str,
    ) -> StoreResult<Option<MonitoringClient>> {
        let row: Option<MonitoringClientRow> = self
            .fetch_optional_by(concat!(
            "SELECT ",
            monitoring_client_columns!(),
            " FROM monitoring_clients WHERE cluster_id = $1 AND username = $2"
        ), &[cluster_id, username])
            .await?;
        Ok(row.map(Into::into))
    }

    async fn touch_monitoring_client(
        &self,
        id: &str,
        now: Timestamp,
        resolution: Duration,
    ) -> StoreResult<()> {
        let stale_before = now.millis() - resolution.as_millis() as i64;
        // A plain UPDATE, not `begin()`: nothing else is written with it, and skipping the
        // IMMEDIATE transaction keeps scrapes from queueing behind API writes needlessly.
        sqlx::query(
            "UPDATE monitoring_clients SET last_used_at = $1 \
             WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(now.millis())
        .bind(id)
        .bind(stale_before)
        .execute(self.writer())
        .await
        .db()?;
        Ok(())
    }
}
