use async_trait::async_trait;

use super::members::insert_member_row;
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
        let owner = Member::owner(&org.id, &org.owner_email, org.created_at);
        insert_member_row(&mut tx, &owner).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn organizations(&self) -> StoreResult<Vec<Organization>> {
        let rows: Vec<OrganizationRow> = sqlx::query_as(&format!(
            "{ORGANIZATION_SELECT} ORDER BY o.created_at, o.id"
        ))
        .fetch_all(&self.reader)
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn organization(&self, id: &str) -> StoreResult<Option<Organization>> {
        let row: Option<OrganizationRow> =
            sqlx::query_as(&format!("{ORGANIZATION_SELECT} WHERE o.id = ?"))
                .bind(id)
                .fetch_optional(&self.reader)
                .await
                .db()?;
        Ok(row.map(Into::into))
    }

    async fn insert_api_client(&self, client: &ApiClient, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO api_clients ({API_CLIENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        ))
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
        let row: Option<ApiClientRow> = sqlx::query_as(&format!(
            "SELECT {API_CLIENT_COLUMNS} FROM api_clients WHERE client_id = ?"
        ))
        .bind(client_id)
        .fetch_optional(&self.reader)
        .await
        .db()?;
        Ok(row.map(Into::into))
    }

    async fn api_clients(&self, org_id: Option<&str>) -> StoreResult<Vec<ApiClient>> {
        // `? IS NULL` lets one statement serve both the filtered and the full listing.
        let rows: Vec<ApiClientRow> = sqlx::query_as(&format!(
            "SELECT {API_CLIENT_COLUMNS} FROM api_clients WHERE (? IS NULL OR org_id = ?) \
             ORDER BY org_id, created_at, client_id"
        ))
        .bind(org_id)
        .bind(org_id)
        .fetch_all(&self.reader)
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
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

    async fn rotate_api_client_secret(
        &self,
        client_id: &str,
        expected_generation: i64,
        secret_hash: &[u8],
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE api_clients SET secret_hash = ?, secret_generation = secret_generation + 1 \
             WHERE client_id = ? AND secret_generation = ?",
        )
        .bind(secret_hash)
        .bind(client_id)
        .bind(expected_generation)
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

    async fn delete_api_client(&self, client_id: &str, audit: &AuditEntry) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let deleted = sqlx::query("DELETE FROM api_clients WHERE client_id = ?")
            .bind(client_id)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
        if deleted == 0 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(true)
    }
}
