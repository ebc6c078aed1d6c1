// Included into each backend module (`storage/sqlite`, `storage/postgres.rs`), where
// `Backend` is that backend's store type (a `SqlBackend`) and `Db` its sqlx driver.
#[allow(unused_imports)]
use super::{Backend, Db};
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

impl Backend {
    /// Inserts the organization row and its owner member inside the caller's transaction.
    async fn insert_organization_rows(
        tx: &mut sqlx::Transaction<'_, Db>,
        org: &Organization,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&org.id)
            .bind(&org.name)
            .bind(org.created_at.millis())
            .execute(&mut **tx)
            .await
            .db()?;
        let owner = Member::owner(&org.id, &org.owner_email, org.created_at);
        Backend::insert_member_row(tx, &owner).await
    }
}

#[async_trait]
impl crate::storage::OrgStore for Backend {
    async fn insert_organization(&self, org: &Organization, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        Backend::insert_organization_rows(&mut tx, org).await?;
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await
    }

    async fn ensure_first_organization(
        &self,
        org: &Organization,
        audit: &AuditEntry,
    ) -> StoreResult<(Organization, bool)> {
        let mut tx = self.begin().await?;
        Backend::exclusive(&mut tx, LOCK_FIRST_ORGANIZATION).await?;
        let existing: Option<OrganizationRow> = sqlx::query_as(concat!(
            organization_select!(),
            " ORDER BY o.created_at, o.id LIMIT 1"
        ))
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        if let Some(existing) = existing {
            return Ok((existing.into(), false));
        }
        Backend::insert_organization_rows(&mut tx, org).await?;
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await?;
        Ok((org.clone(), true))
    }

    async fn organizations(&self) -> StoreResult<Vec<Organization>> {
        let rows: Vec<OrganizationRow> = sqlx::query_as(concat!(
            organization_select!(),
            " ORDER BY o.created_at, o.id"
        ))
        .fetch_all(self.reader())
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn organization(&self, id: &str) -> StoreResult<Option<Organization>> {
        let row: Option<OrganizationRow> =
            sqlx::query_as(concat!(organization_select!(), " WHERE o.id = $1"))
                .bind(id)
                .fetch_optional(self.reader())
                .await
                .db()?;
        Ok(row.map(Into::into))
    }

    async fn insert_api_client(&self, client: &ApiClient, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(concat!(
            "INSERT INTO api_clients (",
            api_client_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
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
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await
    }

    async fn api_client(&self, client_id: &str) -> StoreResult<Option<ApiClient>> {
        let row: Option<ApiClientRow> = self
            .fetch_optional_by(concat!(
            "SELECT ",
            api_client_columns!(),
            " FROM api_clients WHERE client_id = $1"
        ), &[client_id])
            .await?;
        Ok(row.map(Into::into))
    }

    async fn api_clients(&self, org_id: Option<&str>) -> StoreResult<Vec<ApiClient>> {
        let query = match org_id {
            Some(org_id) => sqlx::query_as(concat!(
                "SELECT ",
                api_client_columns!(),
                " FROM api_clients WHERE org_id = $1 ORDER BY org_id, created_at, client_id"
            ))
            .bind(org_id),
            None => sqlx::query_as(concat!(
                "SELECT ",
                api_client_columns!(),
                " FROM api_clients ORDER BY org_id, created_at, client_id"
            )),
        };
        let rows: Vec<ApiClientRow> = query.fetch_all(self.reader()).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
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
        self.commit_audited(tx, updated, audit).await
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
            "UPDATE api_clients SET secret_hash = $1, secret_generation = secret_generation + 1 \
             WHERE client_id = $2 AND secret_generation = $3",
        )
        .bind(secret_hash)
        .bind(client_id)
        .bind(expected_generation)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        self.commit_audited(tx, updated, audit).await
    }

    async fn delete_api_client(&self, client_id: &str, audit: &AuditEntry) -> StoreResult<bool> {
        self.write_audited(
            "DELETE FROM api_clients WHERE client_id = $1",
            &[client_id],
            audit,
        )
        .await
    }
}
