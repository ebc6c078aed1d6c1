//! Storage behind one interface. The database URL picks the implementation: SQLite
//! (embedded, the default) or PostgreSQL (several replicas on one database).
//!
//! The queries are written once, in `sql/`, with `$N` placeholders both drivers accept, and
//! included into each backend module, which supplies the connection handling and the few
//! dialect-specific statements. Row types live in `rows`.
//!
//! The interface is split by resource (one trait per file); [`Store`] is all of them.
//! Every write that changes what the API shows takes the [`AuditEntry`] describing it and
//! commits both in one transaction.

/// Compiles the shared queries (`sql/*.rs`) into the backend module it is called in, one
/// submodule per file; the backend supplies `Backend`, `Db` and its dialect hooks.
macro_rules! shared_queries {
    () => {
        mod audit {
            include!("sql/audit.rs");
        }
        mod backups {
            include!("sql/backups.rs");
        }
        mod clusters {
            include!("sql/clusters.rs");
        }
        mod connector_secrets {
            include!("sql/connector_secrets.rs");
        }
        mod health {
            include!("sql/health.rs");
        }
        mod keys {
            include!("sql/keys.rs");
        }
        mod lifecycle {
            include!("sql/lifecycle.rs");
        }
        mod members {
            include!("sql/members.rs");
        }
        mod monitoring {
            include!("sql/monitoring.rs");
        }
        mod orgs {
            include!("sql/orgs.rs");
        }
        mod secure_connectivity {
            include!("sql/secure_connectivity.rs");
        }
        mod zeebe_clients {
            include!("sql/zeebe_clients.rs");
        }
    };
}

mod audit;
mod backups;
mod clusters;
mod connector_secrets;
pub mod copy;
mod group_commit;
mod health;
mod installation;
mod keys;
mod lifecycle;
mod members;
mod monitoring;
mod orgs;
mod postgres;
mod rows;
mod secure_connectivity;
mod sql_prelude;
mod sqlite;
mod zeebe_clients;

use std::sync::Arc;

pub use audit::AuditStore;
pub use backups::BackupStore;
pub use clusters::{ClusterProgress, ClusterStep, ClusterStore};
pub use connector_secrets::ConnectorSecretStore;
pub use health::HealthStore;
pub use installation::{find_installation, require_installation, Absence};
pub use keys::{KeyStore, SigningKeyRecord};
pub use lifecycle::ClusterLifecycleStore;
pub use members::MemberStore;
pub use monitoring::MonitoringStore;
pub use orgs::OrgStore;
pub use postgres::PgStore;
pub use secure_connectivity::SecureConnectivityStore;
pub use sqlite::SqliteStore;
pub use zeebe_clients::{ZeebeClientStore, ZeebeCredential};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated; the value describes the constraint.
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    /// A limit checked inside the write transaction was reached.
    #[error("limit reached")]
    LimitReached,
    /// The row the write depends on does not exist (or belongs to another organization).
    #[error("not found")]
    NotFound,
    /// The database could not be reached in time.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Classifies driver errors: constraint violations and unreachable databases are
/// outcomes callers act on; everything else is internal.
fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(ref db) if db.is_unique_violation() => {
            StoreError::Conflict(db.constraint().unwrap_or(db.message()).to_string())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(e)
        }
        sqlx::Error::Database(ref db) if sqlite_busy(db.as_ref()) => StoreError::Unavailable(e),
        other => StoreError::Database(other),
    }
}

/// SQLite's BUSY and LOCKED (with their extended codes): another process held the database
/// past the busy timeout. Worth retrying later, like an unreachable server.
fn sqlite_busy(db: &dyn sqlx::error::DatabaseError) -> bool {
    const SQLITE_BUSY: i32 = 5;
    const SQLITE_LOCKED: i32 = 6;
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
        && db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED))
}

pub(crate) trait ResultExt<T> {
    fn db(self) -> StoreResult<T>;
}

impl<T> ResultExt<T> for Result<T, sqlx::Error> {
    fn db(self) -> StoreResult<T> {
        self.map_err(map_err)
    }
}

/// Everything the server stores.
pub trait Store:
    HealthStore
    + KeyStore
    + OrgStore
    + MemberStore
    + ClusterStore
    + ClusterLifecycleStore
    + ZeebeClientStore
    + ConnectorSecretStore
    + BackupStore
    + MonitoringStore
    + SecureConnectivityStore
    + AuditStore
{
}

impl<T> Store for T where
    T: HealthStore
        + KeyStore
        + OrgStore
        + MemberStore
        + ClusterStore
        + ClusterLifecycleStore
        + ZeebeClientStore
        + ConnectorSecretStore
        + BackupStore
        + MonitoringStore
        + SecureConnectivityStore
        + AuditStore
{
}

/// Connection pool limits.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Connections per pool (SQLite: readers; its single writer is fixed).
    pub max_connections: u32,
    /// How long a request waits for a connection before the database counts as unavailable.
    pub acquire_timeout: std::time::Duration,
    /// SQLite: how far a commit is synced before it is acknowledged.
    pub sqlite_durability: SqliteDurability,
}

/// How durable an acknowledged SQLite commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SqliteDurability {
    /// `synchronous=FULL`: the commit is on disk; survives power loss. The default.
    #[default]
    PowerLoss,
    /// `synchronous=NORMAL`: the commit is in the OS; survives a crash of consoled (even
    /// `kill -9`) but the last commits may be lost if the machine loses power.
    ProcessCrash,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 16,
            acquire_timeout: std::time::Duration::from_secs(3),
            sqlite_durability: SqliteDurability::PowerLoss,
        }
    }
}

/// Opens the store named by `url` with default pool settings and applies its migrations.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    open_with(url, PoolSettings::default()).await
}

/// Opens the store named by `url` and applies its migrations.
pub async fn open_with(url: &str, pool: PoolSettings) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url, pool).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PgStore::open(url, pool).await?))
    } else {
        anyhow::bail!(
            "unsupported database URL {}: use sqlite://PATH or postgres://...",
            copy::redact_url(url)
        )
    }
}
