// Included into each backend module (`storage/sqlite.rs`, `storage/postgres.rs`), where
// `Backend` is that backend's store type and `Db` its sqlx driver.
#[allow(unused_imports)]
use super::{Backend, Db};
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

#[async_trait]
impl crate::storage::OrgStore for Backend {
    async fn insert_organization(&self, org: &Organization, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&org.id)
            .bind(&org.name)
            .bind(org.created_at.millis())
            .execute(&mut *tx)
            .await
            .db()?;
        Backend::insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn ensure_first_organization(
        &self,
        org: &Organization,
        audit: &AuditEntry,
    ) -> StoreResult<(Organization, bool)> {
        let mut tx = self.begin().await?;
        Backend::exclusive(&mut tx, LOCK_FIRST_ORGANIZATION).await?;
        let existing: Option<OrganizationRow> = sqlx::query_as(
            "SELECT id, name, created_at FROM organizations ORDER BY created_at, id LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        if let Some(existing) = existing {
            return Ok((existing.into(), false));
        }
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&org.id)
            .bind(&org.name)
            .bind(org.created_at.millis())
            .execute(&mut *tx)
            .await
            .db()?;
        Backend::insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok((org.clone(), true))
    }

    async fn organizations(&self) -> StoreResult<Vec<Organization>> {
        let rows: Vec<OrganizationRow> = sqlx::query_as(
            "SELECT id, name, created_at FROM organizations ORDER BY created_at, id",
        )
        .fetch_all(&self.reader)
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn organization(&self, id: &str) -> StoreResult<Option<Organization>> {
        let row: Option<OrganizationRow> =
            sqlx::query_as("SELECT id, name, created_at FROM organizations WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.reader)
                .await
                .db()?;
        Ok(row.map(Into::into))
    }

    async fn insert_api_client(&self, client: &ApiClient, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO api_clients (client_id, org_id, name, scopes, secret_hash, secret_generation, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&client.client_id)
        .bind(&client.org_id)
        .bind(&client.name)
        .bind(client.scopes.to_scope_string())
        .bind(&client.secret_hash)
        .bind(client.secret_generation)
        .bind(client.created_at.millis())
        .execute(&mut *tx)
        .await
        .db()?;
        Backend::insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn api_client(&self, client_id: &str) -> StoreResult<Option<ApiClient>> {
        let row: Option<ApiClientRow> = sqlx::query_as(
            "SELECT client_id, org_id, name, scopes, secret_hash, secret_generation, created_at \
             FROM api_clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.reader)
        .await
        .db()?;
        Ok(row.map(Into::into))
    }

    async fn update_api_client(&self, client: &ApiClient, audit: &AuditEntry) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE api_clients SET name = $1, scopes = $2, secret_hash = $3, secret_generation = $4 \
             WHERE client_id = $5",
        )
        .bind(&client.name)
        .bind(client.scopes.to_scope_string())
        .bind(&client.secret_hash)
        .bind(client.secret_generation)
        .bind(&client.client_id)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        Backend::insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(true)
    }
}
