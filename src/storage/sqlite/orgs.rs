use async_trait::async_trait;

use super::*;

#[async_trait]
impl crate::storage::OrgStore for SqliteStore {
    async fn insert_organization(&self, org: &Organization, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)")
            .bind(&org.id)
            .bind(&org.name)
            .bind(org.created_at.millis())
            .execute(&mut *tx)
            .await
            .db()?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
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
            sqlx::query_as("SELECT id, name, created_at FROM organizations WHERE id = ?")
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
             VALUES (?, ?, ?, ?, ?, ?, ?)",
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
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn api_client(&self, client_id: &str) -> StoreResult<Option<ApiClient>> {
        let row: Option<ApiClientRow> = sqlx::query_as(
            "SELECT client_id, org_id, name, scopes, secret_hash, secret_generation, created_at \
             FROM api_clients WHERE client_id = ?",
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
            "UPDATE api_clients SET name = ?, scopes = ?, secret_hash = ?, secret_generation = ? \
             WHERE client_id = ?",
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
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(true)
    }
}
