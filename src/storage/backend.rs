//! The contract between the shared queries in `sql/` and the backends they are compiled
//! into: what a backend supplies so that one text of SQL serves SQLite and PostgreSQL.

use sqlx::migrate::Migrator;
use sqlx::Transaction;

use super::timed::Timed;
use super::StoreResult;
use crate::domain::audit::AuditEntry;
use crate::domain::cluster::Cluster;

/// A database the shared queries run on. `sql/*.rs` reads through [`reader`], writes in
/// the transactions of [`begin`] and [`commit`], and reaches the dialect only through
/// the methods here; `consoled migrate` uses the migrator, the locks and the catalog
/// queries.
///
/// [`reader`]: SqlBackend::reader
/// [`begin`]: SqlBackend::begin
/// [`commit`]: SqlBackend::commit
pub(crate) trait SqlBackend: Send + Sync + 'static {
    /// The sqlx driver.
    type Db: sqlx::Database;

    /// This backend's migrations (`migrations/sqlite` or `migrations/postgres`).
    fn migrator() -> &'static Migrator;

    /// Reads that need no transaction.
    fn reader(&self) -> Timed<'_, Self::Db>;

    /// Single writes that need no transaction.
    fn writer(&self) -> Timed<'_, Self::Db>;

    /// Starts a write transaction.
    async fn begin(&self) -> StoreResult<Transaction<'static, Self::Db>>;

    /// Commits a transaction from [`SqlBackend::begin`].
    async fn commit(&self, tx: Transaction<'static, Self::Db>) -> StoreResult<()>;

    /// Inserts a new cluster with its activity record, answering once it is committed.
    async fn insert_cluster_durably(&self, c: &Cluster, audit: &AuditEntry) -> StoreResult<()>;

    /// Commits made through this store, if a local count can tell; see
    /// `HealthStore::write_epoch`.
    fn write_epoch(&self) -> Option<u64>;

    /// What other processes commit; see `HealthStore::changes`.
    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<super::changes::Change>> {
        None
    }

    /// Limits counted for the installation; see `HealthStore::shared_limits`.
    fn shared_limits(&self) -> Option<std::sync::Arc<dyn super::shared_limits::SharedLimitStore>> {
        None
    }

    /// Appended to a `SELECT` in a write transaction to lock the rows it finds until the
    /// transaction ends (`FOR UPDATE`), where the transaction alone does not.
    const LOCK_ROWS: &'static str;

    /// Serializes a check-then-write across processes under the lock id `lock` (see
    /// `sql_prelude`'s `LOCK_*`) until the transaction ends.
    async fn exclusive(tx: &mut Transaction<'_, Self::Db>, lock: i64) -> StoreResult<()>;

    /// `BEGIN` of a transaction that reads one consistent snapshot (migrate's source).
    const BEGIN_SNAPSHOT: &'static str;
    /// `BEGIN` of a transaction that holds off other writers as far as the database can
    /// (migrate's target).
    const BEGIN_EXCLUSIVE: &'static str;
    /// The names of the schema's tables (one text column).
    const CATALOG_TABLES: &'static str;
    /// The tables the table `$1` refers to with foreign keys (one text column).
    const CATALOG_PARENTS: &'static str;
    /// The columns of the table `$1` as (name, declared type), in order.
    const CATALOG_COLUMNS: &'static str;
}
