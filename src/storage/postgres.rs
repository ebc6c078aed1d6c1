//! The PostgreSQL backend, for several replicas on one database. Commits are durable
//! under PostgreSQL's own settings (`synchronous_commit`, replication).

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use super::{ResultExt, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Advisory lock key taken while deciding whether to create the first signing key, so two
/// replicas starting together do not both create one.
const SIGNING_KEY_LOCK: i64 = 0x636f_6e73_6f6c_6501;

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
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
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

    async fn lock_signing_keys(tx: &mut Transaction<'_, Postgres>) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SIGNING_KEY_LOCK)
            .execute(&mut **tx)
            .await
            .db()?;
        Ok(())
    }
}

mod audit {
    include!("sql/audit.rs");
}
mod clusters {
    include!("sql/clusters.rs");
}
mod connector_secrets {
    include!("sql/connector_secrets.rs");
}
mod keys {
    include!("sql/keys.rs");
}
mod orgs {
    include!("sql/orgs.rs");
}
mod zeebe_clients {
    include!("sql/zeebe_clients.rs");
}
