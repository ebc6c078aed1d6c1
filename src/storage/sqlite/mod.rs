//! The embedded SQLite backend: WAL journal, `synchronous=FULL` by default so an
//! acknowledged commit is on disk (`--sqlite-durability process-crash` trades that for
//! speed), one writer connection (SQLite admits one writer at a time anyway) and a pool of
//! read-only connections.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use tokio::sync::mpsc;

use super::backend::SqlBackend;
use super::group_commit::{self, GroupWriter, PendingCreate};
use super::timed::Timed;
use super::{PoolSettings, ResultExt, SqliteDurability, StoreResult};
use crate::domain::audit::AuditEntry;
use crate::domain::cluster::Cluster;
use crate::telemetry::metrics;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Upper bound on read connections (each holds its own page cache).
const SQLITE_MAX_READERS: u32 = 4;

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Commits made through this store; see `HealthStore::write_epoch`.
    commits: Arc<AtomicU64>,
    /// Cluster creates waiting for the group commit; see `group_commit`.
    creates: mpsc::UnboundedSender<PendingCreate>,
}

impl SqliteStore {
    pub async fn open(url: &str, pool: PoolSettings) -> anyhow::Result<Self> {
        let options = connect_options(url, Some(pool.sqlite_durability))?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(pool.acquire_timeout)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            // Readers beyond the cores add memory, not throughput: SQLite reads are CPU-bound.
            .max_connections(pool.max_connections.clamp(1, SQLITE_MAX_READERS))
            .min_connections(1)
            .acquire_timeout(pool.acquire_timeout)
            .connect_with(options.read_only(true))
            .await?;
        let commits = Arc::new(AtomicU64::new(0));
        let creates = group_commit::start(GroupOnSqlite {
            writer: writer.clone(),
            commits: commits.clone(),
        });
        Ok(SqliteStore {
            writer,
            reader,
            commits,
            creates,
        })
    }
}

impl SqlBackend for SqliteStore {
    type Db = Sqlite;

    fn migrator() -> &'static sqlx::migrate::Migrator {
        &MIGRATOR
    }

    fn reader(&self) -> Timed<'_, Sqlite> {
        Timed::new(&self.reader, "read")
    }

    fn writer(&self) -> Timed<'_, Sqlite> {
        Timed::new(&self.writer, "write")
    }

    /// Starts a write transaction. IMMEDIATE takes the write lock up front, so a concurrent
    /// writer in another process (the operator CLI) waits on busy_timeout instead of failing
    /// mid-transaction; it also serializes every check-then-insert.
    async fn begin(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        begin_immediate(&self.writer).await
    }

    async fn commit(&self, tx: Transaction<'static, Sqlite>) -> StoreResult<()> {
        commit_counted(tx, &self.commits).await
    }

    /// Hands the create to the group commit and waits for the commit that holds it.
    async fn insert_cluster_durably(&self, c: &Cluster, audit: &AuditEntry) -> StoreResult<()> {
        group_commit::create(&self.creates, c, audit).await
    }

    fn write_epoch(&self) -> Option<u64> {
        Some(self.commits.load(Ordering::Acquire))
    }

    /// BEGIN IMMEDIATE already serializes writers: no row lock is needed.
    const LOCK_ROWS: &'static str = "";

    /// Serializes a check-then-write across processes: BEGIN IMMEDIATE already does.
    async fn exclusive(_tx: &mut Transaction<'_, Sqlite>, _lock: i64) -> StoreResult<()> {
        Ok(())
    }

    // A deferred transaction reads one snapshot; an immediate one holds the write lock
    // from the start, so a server writing meanwhile waits.
    const BEGIN_SNAPSHOT: &'static str = "BEGIN";
    const BEGIN_EXCLUSIVE: &'static str = "BEGIN IMMEDIATE";
    const CATALOG_TABLES: &'static str =
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
    const CATALOG_PARENTS: &'static str = "SELECT \"table\" FROM pragma_foreign_key_list($1)";
    const CATALOG_COLUMNS: &'static str =
        "SELECT name, type FROM pragma_table_info($1) ORDER BY cid";
}

/// How consoled opens the SQLite database `url`. With `serve`, as the server does: created
/// if missing (with its folder), WAL journal, synced as durable as asked. Without, an
/// existing database as it is (a mistyped path must not become an empty database).
pub(super) fn connect_options(
    url: &str,
    serve: Option<SqliteDurability>,
) -> anyhow::Result<SqliteConnectOptions> {
    let mut options = SqliteConnectOptions::from_str(url)?
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        // 1 MiB of page cache per connection (SQLite's default is 2): hot reads are
        // served from consoled's own cache, and memory stays flat as data grows.
        .pragma("cache_size", "-1024");
    if let Some(durability) = serve {
        options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                SqliteDurability::PowerLoss => SqliteSynchronous::Full,
                SqliteDurability::ProcessCrash => SqliteSynchronous::Normal,
            });
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)?;
            }
        }
    }
    Ok(options)
}

async fn begin_immediate(writer: &SqlitePool) -> StoreResult<Transaction<'static, Sqlite>> {
    metrics::timed(writer.begin_with("BEGIN IMMEDIATE"), |_, elapsed| {
        metrics::db_begin(elapsed)
    })
    .await
    .db()
}

/// Commits and counts the commit, so readers caching what they read can tell.
async fn commit_counted(tx: Transaction<'static, Sqlite>, commits: &AtomicU64) -> StoreResult<()> {
    let result = metrics::timed(tx.commit(), |_, elapsed| metrics::db_commit(elapsed))
        .await
        .db();
    commits.fetch_add(1, Ordering::Release);
    result
}

/// The group commit's writes: on the one writer connection, counted like every commit.
struct GroupOnSqlite {
    writer: SqlitePool,
    commits: Arc<AtomicU64>,
}

impl GroupWriter for GroupOnSqlite {
    async fn write(&self, group: &[(&Cluster, &AuditEntry)]) -> StoreResult<()> {
        let mut tx = begin_immediate(&self.writer).await?;
        SqliteStore::insert_new_clusters(&mut tx, group).await?;
        commit_counted(tx, &self.commits).await
    }
}

shared_queries!(SqliteStore);
