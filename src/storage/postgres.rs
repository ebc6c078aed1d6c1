//! The PostgreSQL backend, for several replicas on one database. Commits are durable
//! under PostgreSQL's own settings (`synchronous_commit`, replication).

use std::sync::Arc;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use tokio::sync::{broadcast, mpsc};

use super::backend::SqlBackend;
use super::changes::{self, Change, ChangeFeed};
use super::group_commit::{self, GroupWriter, PendingCreate};
use super::shared_limits::{PgSharedLimits, SharedLimitStore};
use super::timed::Timed;
use super::{PoolSettings, ResultExt, StoreResult};
use crate::domain::audit::AuditEntry;
use crate::domain::cluster::Cluster;
use crate::telemetry::metrics;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PgStore {
    pool: PgPool,
    /// What the other replicas commit; see `changes`.
    feed: Arc<ChangeFeed>,
    /// Cluster creates waiting for the group commit; see `group_commit`.
    creates: mpsc::UnboundedSender<PendingCreate>,
    limits: Arc<PgSharedLimits>,
}

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
        let feed = Arc::new(ChangeFeed::new());
        tokio::spawn(changes::listen(pool.clone(), Arc::downgrade(&feed)));
        let creates = group_commit::start(GroupOnPostgres {
            pool: pool.clone(),
            feed: feed.clone(),
        });
        Ok(PgStore {
            limits: Arc::new(PgSharedLimits::new(pool.clone(), feed.clone())),
            pool,
            feed,
            creates,
        })
    }
}

impl SqlBackend for PgStore {
    type Db = Postgres;

    fn migrator() -> &'static sqlx::migrate::Migrator {
        &MIGRATOR
    }

    /// Reads and writes share the pool.
    fn reader(&self) -> Timed<'_, Postgres> {
        Timed::new(&self.pool, "read")
    }

    fn writer(&self) -> Timed<'_, Postgres> {
        Timed::new(&self.pool, "write")
    }

    async fn begin(&self) -> StoreResult<Transaction<'static, Postgres>> {
        metrics::timed(self.pool.begin(), |_, elapsed| metrics::db_begin(elapsed))
            .await
            .db()
    }

    async fn commit(&self, tx: Transaction<'static, Postgres>) -> StoreResult<()> {
        let committed = metrics::timed(tx.commit(), |_, elapsed| metrics::db_commit(elapsed))
            .await
            .db();
        // Also after a failed commit: whether it happened is unknown.
        self.feed.committed_here();
        committed
    }

    /// Hands the create to the group commit and waits for the commit that holds it.
    async fn insert_cluster_durably(&self, c: &Cluster, audit: &AuditEntry) -> StoreResult<()> {
        group_commit::create(&self.creates, c, audit).await
    }

    /// Moves with this process's commits and with every resynchronisation of the change
    /// listener; unknown while the listener is down, so that nothing is cached then.
    fn write_epoch(&self) -> Option<u64> {
        self.feed.epoch()
    }

    fn changes(&self) -> Option<broadcast::Receiver<Change>> {
        Some(self.feed.subscribe())
    }

    fn shared_limits(&self) -> Option<Arc<dyn SharedLimitStore>> {
        Some(self.limits.clone())
    }

    /// Concurrent writers on any replica wait for the row until the transaction ends.
    const LOCK_ROWS: &'static str = " FOR UPDATE";

    /// A transaction-scoped advisory lock, held across replicas.
    async fn exclusive(tx: &mut Transaction<'_, Postgres>, lock: i64) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(lock)
            .execute(&mut **tx)
            .await
            .db()?;
        Ok(())
    }

    const BEGIN_SNAPSHOT: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    const BEGIN_EXCLUSIVE: &'static str = "BEGIN";
    const CATALOG_TABLES: &'static str = "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'";
    const CATALOG_PARENTS: &'static str = "SELECT p.relname::text FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_class p ON p.oid = c.confrelid \
         WHERE c.contype = 'f' AND t.relname = $1 \
         AND t.relnamespace = current_schema()::regnamespace";
    const CATALOG_COLUMNS: &'static str =
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 \
         ORDER BY ordinal_position";
}

/// The group commit's writes: one transaction of the pool per group.
struct GroupOnPostgres {
    pool: PgPool,
    feed: Arc<ChangeFeed>,
}

impl GroupWriter for GroupOnPostgres {
    async fn write(&self, group: &[(&Cluster, &AuditEntry)]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.db()?;
        PgStore::insert_new_clusters(&mut tx, group).await?;
        let committed = tx.commit().await.db();
        self.feed.committed_here();
        committed
    }
}

shared_queries!(PgStore);
