// Included into each backend module (`storage/sqlite`, `storage/postgres.rs`), where
// `Backend` is that backend's store type (a `SqlBackend`) and `Db` its sqlx driver.
#[allow(unused_imports)]
use super::{Backend, Db};
use crate::domain::secure_connectivity::SecureConnectivity;
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

macro_rules! secure_connectivity_columns {
    () => {
        "cluster_id, org_id, allowed_principals, allowed_regions, generation, \
    activated_at, updated_at"
    };
}

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
impl crate::storage::SecureConnectivityStore for Backend {
    async fn put_secure_connectivity(
        &self,
        c: &SecureConnectivity,
        audit: &AuditEntry,
    ) -> StoreResult<SecureConnectivity> {
        let mut tx = self.begin().await?;
        let exists: Option<String> =
            sqlx::query_scalar("SELECT id FROM clusters WHERE id = $1 AND org_id = $2")
                .bind(&c.cluster_id)
                .bind(&c.org_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query(concat!(
            "INSERT INTO secure_connectivity (",
            secure_connectivity_columns!(),
            ") VALUES ($1, $2, $3, $4, 1, $5, $6) \
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
        let row: SecureConnectivityRow = sqlx::query_as(concat!(
            "SELECT ",
            secure_connectivity_columns!(),
            " FROM secure_connectivity WHERE cluster_id = $1"
        ))
        .bind(&c.cluster_id)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        Backend::insert_audit(&mut tx, audit).await?;
        self.commit(tx).await?;
        row.try_into()
    }

    async fn secure_connectivity(
        &self,
        org_id: &str,
        cluster_id: &str,
    ) -> StoreResult<Option<SecureConnectivity>> {
        let row: Option<SecureConnectivityRow> = self
            .fetch_optional_by(concat!(
            "SELECT ",
            secure_connectivity_columns!(),
            " FROM secure_connectivity WHERE cluster_id = $1 AND org_id = $2"
        ), &[cluster_id, org_id])
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn delete_secure_connectivity(
        &self,
        org_id: &str,
        cluster_id: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        self.write_audited(
            "DELETE FROM secure_connectivity WHERE cluster_id = $1 AND org_id = $2",
            &[cluster_id, org_id],
            audit,
        )
        .await
    }
}
