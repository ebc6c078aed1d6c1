use async_trait::async_trait;

use super::*;
use crate::domain::secure_connectivity::SecureConnectivity;

const COLUMNS: &str = "cluster_id, org_id, allowed_principals, allowed_regions, generation, \
    activated_at, updated_at";

#[derive(FromRow)]
struct SecureConnectivityRow {
    cluster_id: String,
    org_id: String,
    allowed_principals: String,
    allowed_regions: String,
    generation: i64,
    activated_at: i64,
    updated_at: i64,
}

impl TryFrom<SecureConnectivityRow> for SecureConnectivity {
    type Error = StoreError;

    fn try_from(r: SecureConnectivityRow) -> Result<Self, StoreError> {
        let list = |text: &str| -> Result<Vec<String>, StoreError> {
            serde_json::from_str(text)
                .map_err(|e| StoreError::Other(anyhow::anyhow!("secure_connectivity row: {e}")))
        };
        Ok(SecureConnectivity {
            allowed_principals: list(&r.allowed_principals)?,
            allowed_regions: list(&r.allowed_regions)?,
            cluster_id: r.cluster_id,
            org_id: r.org_id,
            generation: r.generation,
            activated_at: Timestamp(r.activated_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).expect("a list of strings serializes")
}

#[async_trait]
impl crate::storage::SecureConnectivityStore for SqliteStore {
    async fn put_secure_connectivity(
        &self,
        c: &SecureConnectivity,
        audit: &AuditEntry,
    ) -> StoreResult<SecureConnectivity> {
        let mut tx = self.begin().await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM clusters WHERE id = ? AND org_id = ?")
                .bind(&c.cluster_id)
                .bind(&c.org_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query(&format!(
            "INSERT INTO secure_connectivity ({COLUMNS}) VALUES (?, ?, ?, ?, 1, ?, ?) \
             ON CONFLICT (cluster_id) DO UPDATE SET \
             allowed_principals = excluded.allowed_principals, \
             allowed_regions = excluded.allowed_regions, \
             generation = secure_connectivity.generation + 1, \
             updated_at = excluded.updated_at"
        ))
        .bind(&c.cluster_id)
        .bind(&c.org_id)
        .bind(to_json(&c.allowed_principals))
        .bind(to_json(&c.allowed_regions))
        .bind(c.activated_at.millis())
        .bind(c.updated_at.millis())
        .execute(&mut *tx)
        .await
        .db()?;
        let row: SecureConnectivityRow = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM secure_connectivity WHERE cluster_id = ?"
        ))
        .bind(&c.cluster_id)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        row.try_into()
    }

    async fn secure_connectivity(
        &self,
        org_id: &str,
        cluster_id: &str,
    ) -> StoreResult<Option<SecureConnectivity>> {
        let row: Option<SecureConnectivityRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM secure_connectivity WHERE cluster_id = ? AND org_id = ?"
        ))
        .bind(cluster_id)
        .bind(org_id)
        .fetch_optional(&self.reader)
        .await
        .db()?;
        row.map(TryInto::try_into).transpose()
    }

    async fn delete_secure_connectivity(
        &self,
        org_id: &str,
        cluster_id: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let deleted =
            sqlx::query("DELETE FROM secure_connectivity WHERE cluster_id = ? AND org_id = ?")
                .bind(cluster_id)
                .bind(org_id)
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
