// Included into each backend module (`storage/sqlite`, `storage/postgres.rs`), where
// `Backend` is that backend's store type (a `SqlBackend`) and `Db` its sqlx driver.
#[allow(unused_imports)]
use super::{Backend, Db};
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

#[async_trait]
impl crate::storage::ZeebeClientStore for Backend {
    async fn insert_zeebe_client(
        &self,
        client: &ZeebeClient,
        max_per_cluster: u32,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        if !Backend::lock_cluster(&mut tx, &client.org_id, &client.cluster_id).await? {
            return Err(StoreError::NotFound);
        }
        Backend::ensure_below_limit(
            &mut tx,
            "SELECT COUNT(*) FROM zeebe_clients WHERE cluster_id = $1",
            &client.cluster_id,
            max_per_cluster,
        )
        .await?;
        sqlx::query(concat!(
            "INSERT INTO zeebe_clients (",
            zeebe_client_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(&client.id)
        .bind(&client.cluster_id)
        .bind(&client.org_id)
        .bind(&client.client_id)
        .bind(&client.name)
        .bind(&client.secret_hash)
        .bind(permissions_to_text(&client.permissions))
        .bind(client.created_at.millis())
        .execute(&mut *tx)
        .await
        .db()?;
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await
    }

    async fn zeebe_clients(&self, org_id: &str, cluster_id: &str) -> StoreResult<Vec<ZeebeClient>> {
        let rows: Vec<ZeebeClientRow> = self
            .fetch_all_by(concat!(
            "SELECT ",
            zeebe_client_columns!(),
            " FROM zeebe_clients \
             WHERE cluster_id = $1 AND org_id = $2 ORDER BY created_at, id"
        ), &[cluster_id, org_id])
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn zeebe_client(
        &self,
        org_id: &str,
        cluster_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<ZeebeClient>> {
        let row: Option<ZeebeClientRow> = self
            .fetch_optional_by(concat!(
            "SELECT ",
            zeebe_client_columns!(),
            " FROM zeebe_clients \
             WHERE client_id = $1 AND cluster_id = $2 AND org_id = $3"
        ), &[client_id, cluster_id, org_id])
            .await?;
        Ok(row.map(Into::into))
    }

    async fn delete_zeebe_client(
        &self,
        org_id: &str,
        cluster_id: &str,
        client_id: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        self.write_audited(
            "DELETE FROM zeebe_clients WHERE client_id = $1 AND cluster_id = $2 AND org_id = $3",
            &[client_id, cluster_id, org_id],
            audit,
        )
        .await
    }

    async fn zeebe_credential(&self, client_id: &str) -> StoreResult<Option<ZeebeCredential>> {
        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            client: ZeebeClientRow,
            cluster_status: String,
        }
        let row: Option<Row> = self
            .fetch_optional_by("SELECT z.id, z.cluster_id, z.org_id, z.client_id, z.name, z.secret_hash, \
             z.permissions, z.created_at, c.status AS cluster_status \
             FROM zeebe_clients z JOIN clusters c ON c.id = z.cluster_id WHERE z.client_id = $1", &[client_id])
            .await?;
        Ok(row.map(|r| ZeebeCredential {
            client: r.client.into(),
            cluster_status: status(&r.cluster_status),
        }))
    }
}
