// Included into each backend module (`storage/sqlite`, `storage/postgres.rs`), where
// `Backend` is that backend's store type (a `SqlBackend`) and `Db` its sqlx driver.
#[allow(unused_imports)]
use super::{Backend, Db};
#[allow(unused_imports)]
use crate::storage::sql_prelude::*;

#[async_trait]
impl crate::storage::KeyStore for Backend {
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        let rows: Vec<SigningKeyRow> = sqlx::query_as(
            "SELECT kid, algorithm, private_key, public_key, created_at, retired_at \
             FROM signing_keys ORDER BY created_at",
        )
        .fetch_all(self.reader())
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn insert_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        Backend::exclusive(&mut tx, LOCK_SIGNING_KEYS).await?;
        let active: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM signing_keys WHERE retired_at IS NULL")
                .fetch_one(&mut *tx)
                .await
                .db()?;
        if active > 0 {
            return Ok(false);
        }
        Backend::insert_signing_key(&mut tx, key).await?;
        self.commit(tx).await?;
        Ok(true)
    }

    async fn rotate_signing_key(
        &self,
        key: &SigningKeyRecord,
        now: crate::domain::Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        Backend::exclusive(&mut tx, LOCK_SIGNING_KEYS).await?;
        sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
            .bind(now.millis())
            .execute(&mut *tx)
            .await
            .db()?;
        Backend::insert_signing_key(&mut tx, key).await?;
        self.commit(tx).await
    }
}

impl Backend {
    /// Inserts `key` as the active signing key, inside the caller's transaction.
    async fn insert_signing_key(
        tx: &mut sqlx::Transaction<'_, Db>,
        key: &SigningKeyRecord,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key, public_key, created_at, retired_at) \
             VALUES ($1, $2, $3, $4, $5, NULL)",
        )
        .bind(&key.kid)
        .bind(&key.algorithm)
        .bind(&key.private_key)
        .bind(&key.public_key)
        .bind(key.created_at.millis())
        .execute(&mut **tx)
        .await
        .db()?;
        Ok(())
    }
}
