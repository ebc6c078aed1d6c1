//! The PostgreSQL backend, for several replicas on one database. Commits are durable
//! under PostgreSQL's own settings (`synchronous_commit`, replication).

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use super::{PoolSettings, ResultExt, StoreResult};

pub(super) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PgStore {
    pool: PgPool,
    // The shared queries read through `reader` and write through `writer`; on PostgreSQL
    // both are the same pool.
    reader: PgPool,
    writer: PgPool,
}

type Backend = PgStore;
type Db = Postgres;

impl PgStore {
    pub async fn open(url: &str, settings: PoolSettings) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.acquire_timeout)
            // A connection that died with the server is noticed before it is handed out.
            .test_before_acquire(true)
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore {
            reader: pool.clone(),
            writer: pool.clone(),
            pool,
        })
    }

    async fn begin(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.db()
    }

    async fn commit(&self, tx: Transaction<'static, Postgres>) -> StoreResult<()> {
        tx.commit().await.db()
    }

    /// PostgreSQL takes concurrent writers and groups their syncs itself.
    async fn insert_cluster_durably(
        &self,
        c: &crate::domain::cluster::Cluster,
        audit: &crate::domain::audit::AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        Backend::insert_new_clusters(&mut tx, &[(c, audit)]).await?;
        self.commit(tx).await
    }

    /// Other replicas write too, so no local count can tell whether a read is current.
    fn write_epoch(&self) -> Option<u64> {
        None
    }

    /// Locks the cluster's row until the transaction ends, so limits checked by counting
    /// its children (clients, secrets) hold under concurrent writers on any replica.
    async fn lock_cluster(
        tx: &mut Transaction<'_, Postgres>,
        org_id: &str,
        cluster_id: &str,
    ) -> StoreResult<bool> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM clusters WHERE id = $1 AND org_id = $2 FOR UPDATE")
                .bind(cluster_id)
                .bind(org_id)
                .fetch_optional(&mut **tx)
                .await
                .db()?;
        Ok(found.is_some())
    }

    /// Serializes a check-then-write (first signing key, first organization) across
    /// replicas with a transaction-scoped advisory lock.
    async fn exclusive(tx: &mut Transaction<'_, Postgres>, lock: i64) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(lock)
            .execute(&mut **tx)
            .await
            .db()?;
        Ok(())
    }
}

shared_queries!();
