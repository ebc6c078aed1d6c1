// Included into each backend module (`storage/sqlite`, `storage/postgres.rs`), where
// `Backend` is that backend's store type (a `SqlBackend`) and `Db` its sqlx driver.
#[allow(unused_imports)]
use super::{Backend, Db};
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

use crate::domain::connector_secret::ConnectorSecret;
use crate::domain::Timestamp;

#[derive(FromRow)]
struct SecretRow {
    cluster_id: String,
    org_id: String,
    name: String,
    sealed_value: Vec<u8>,
    created_at: i64,
    updated_at: i64,
}

impl From<SecretRow> for ConnectorSecret {
    fn from(r: SecretRow) -> Self {
        ConnectorSecret {
            cluster_id: r.cluster_id,
            org_id: r.org_id,
            name: r.name,
            sealed_value: r.sealed_value,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        }
    }
}

#[async_trait]
impl crate::storage::ConnectorSecretStore for Backend {
    async fn insert_connector_secret(
        &self,
        s: &ConnectorSecret,
        max_per_cluster: u32,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        // Checked (and on PostgreSQL locked) inside the write transaction: a cluster deleted
        // since the handler looked it up is a 404, not a foreign-key error, and the count
        // below holds against concurrent inserts.
        if !Backend::lock_cluster(&mut tx, &s.org_id, &s.cluster_id).await? {
            return Err(StoreError::NotFound);
        }
        Backend::ensure_below_limit(
            &mut tx,
            "SELECT COUNT(*) FROM connector_secrets WHERE cluster_id = $1",
            &s.cluster_id,
            max_per_cluster,
        )
        .await?;
        // The primary key (cluster_id, name) turns a duplicate into `Conflict`.
        sqlx::query(
            "INSERT INTO connector_secrets \
             (cluster_id, org_id, name, sealed_value, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&s.cluster_id)
        .bind(&s.org_id)
        .bind(&s.name)
        .bind(&s.sealed_value)
        .bind(s.created_at.millis())
        .bind(s.updated_at.millis())
        .execute(&mut *tx)
        .await
        .db()?;
        Backend::touch_cluster(&mut tx, &s.cluster_id).await?;
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await
    }

    async fn connector_secrets(
        &self,
        org_id: &str,
        cluster_id: &str,
    ) -> StoreResult<Vec<ConnectorSecret>> {
        let rows: Vec<SecretRow> = self
            .fetch_all_by("SELECT cluster_id, org_id, name, sealed_value, created_at, updated_at \
             FROM connector_secrets WHERE cluster_id = $1 AND org_id = $2 ORDER BY name", &[cluster_id, org_id])
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn update_connector_secret(
        &self,
        org_id: &str,
        cluster_id: &str,
        name: &str,
        sealed_value: &[u8],
        now: Timestamp,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE connector_secrets SET sealed_value = $1, updated_at = $2 \
             WHERE cluster_id = $3 AND name = $4 AND org_id = $5",
        )
        .bind(sealed_value)
        .bind(now.millis())
        .bind(cluster_id)
        .bind(name)
        .bind(org_id)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if updated > 0 {
            Backend::touch_cluster(&mut tx, cluster_id).await?;
        }
        self.commit_audited(tx, updated, audit).await
    }

    async fn delete_connector_secret(
        &self,
        org_id: &str,
        cluster_id: &str,
        name: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let deleted = sqlx::query(
            "DELETE FROM connector_secrets WHERE cluster_id = $1 AND name = $2 AND org_id = $3",
        )
        .bind(cluster_id)
        .bind(name)
        .bind(org_id)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if deleted > 0 {
            Backend::touch_cluster(&mut tx, cluster_id).await?;
        }
        self.commit_audited(tx, deleted, audit).await
    }
}

impl Backend {
    /// Moves a cluster's version on: the provisioning driver applies connector secrets, so
    /// a change to them is a change of the cluster that the driver must see (and that
    /// concurrent writers of the cluster must not overwrite unseen).
    async fn touch_cluster(tx: &mut sqlx::Transaction<'_, Db>, cluster_id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE clusters SET version = version + 1 WHERE id = $1")
            .bind(cluster_id)
            .execute(&mut **tx)
            .await
            .db()?;
        Ok(())
    }
}
