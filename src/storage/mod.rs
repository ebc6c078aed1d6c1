//! Storage behind one interface. The database URL picks the implementation: SQLite
//! (embedded, the default) or PostgreSQL (several replicas on one database).
//!
//! The interface is split by resource, one trait per file (`orgs.rs`: [`OrgStore`]);
//! [`Store`] is all of them. The queries are written once, in `sql/`, with `$N`
//! placeholders both drivers accept, and compiled into each backend (`sqlite`,
//! `postgres`), which implements `backend::SqlBackend`: connections, transactions and the
//! few dialect-specific statements. Row types live in `rows`. Every write that changes
//! what the API shows takes the [`AuditEntry`](crate::domain::audit::AuditEntry)
//! describing it and commits both in one transaction.
//!
//! Adding a resource `things`:
//! 1. `things.rs`: the trait `ThingStore` (its methods and the types they take);
//! 2. `sql/things.rs`: `impl ThingStore for Backend`, using `SqlBackend`'s methods, with
//!    its row types in `rows.rs`;
//! 3. a migration in each of `migrations/sqlite` and `migrations/postgres`;
//! 4. one line in the `resources!` list below: module, trait and tables, parents first.
//!    [`Store`], both backends and `consoled migrate` ([`TABLES`]) follow from it.

/// Declares the resources: for each, its module (the trait in `X.rs`, the queries in
/// `sql/X.rs`), its trait and its tables with the columns that order and identify their
/// rows. From the one list come the modules, [`Store`], [`TABLES`] and `shared_queries!`,
/// which compiles the queries into the backend module it is called in.
macro_rules! resources {
    ($($module:ident: $store:ident [$($table:literal by $key:literal),*],)*) => {
        $(
            mod $module;
            pub use $module::$store;
        )*

        /// Everything the server stores.
        pub trait Store: $($store +)* {}

        impl<T> Store for T where T: $($store +)* {}

        /// Every table of the schema, parents before the tables that refer to them, with
        /// the columns its rows are copied in order of (and named by in errors).
        pub const TABLES: &[(&str, &str)] = &[$($(($table, $key),)*)*];

        macro_rules! shared_queries {
            ($backend:ty) => {
                type Backend = $backend;
                type Db = <$backend as crate::storage::backend::SqlBackend>::Db;
                $(
                    mod $module {
                        include!(concat!(
                            env!("CARGO_MANIFEST_DIR"),
                            "/src/storage/sql/",
                            stringify!($module),
                            ".rs"
                        ));
                    }
                )*
            };
        }
    };
}

resources! {
    health: HealthStore [],
    orgs: OrgStore ["organizations" by "id", "api_clients" by "client_id"],
    keys: KeyStore ["signing_keys" by "kid"],
    members: MemberStore ["members" by "org_id, email"],
    accounts: AccountStore [
        "member_passwords" by "org_id, email",
        "sign_in_links" by "token_hash",
        "console_sessions" by "id_hash"
    ],
    clusters: ClusterStore ["clusters" by "id"],
    lifecycle: ClusterLifecycleStore [],
    // No foreign keys: a deleted cluster's rows stay until its teardown has run.
    driver: DriverStore ["driver_state" by "cluster_id", "driver_backup_deletions" by "backup_id"],
    zeebe_clients: ZeebeClientStore ["zeebe_clients" by "id"],
    connector_secrets: ConnectorSecretStore ["connector_secrets" by "cluster_id, name"],
    backups: BackupStore ["backups" by "id"],
    monitoring: MonitoringStore ["monitoring" by "cluster_id", "monitoring_clients" by "id"],
    secure_connectivity: SecureConnectivityStore ["secure_connectivity" by "cluster_id"],
    // In `seq` order, with `seq` copied: the activity keeps its order, and new records
    // on the target come after the copied ones.
    audit: AuditStore ["audit_events" by "seq"],
}

mod backend;
pub mod changes;
pub mod copy;
mod group_commit;
mod installation;
mod postgres;
mod rows;
pub mod shared_limits;
mod sql_prelude;
mod sqlite;
mod timed;

use std::sync::Arc;

pub use accounts::Account;
pub use audit::AuditFilter;
pub use clusters::{ClusterProgress, ClusterStep};
pub use driver::{BackupDeletion, DriverState, DriverStepResult, ProbeResult};
pub use installation::{find_installation, require_installation, Absence};
pub use keys::SigningKeyRecord;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use zeebe_clients::ZeebeCredential;

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
    Ok(match Engine::of(url)? {
        Engine::Sqlite => Arc::new(SqliteStore::open(url, pool).await?),
        Engine::Postgres => Arc::new(PgStore::open(url, pool).await?),
    })
}

/// The kind of database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub(crate) fn of(url: &str) -> anyhow::Result<Engine> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Engine::Postgres)
        } else {
            anyhow::bail!(
                "unsupported database URL {}: use sqlite://PATH or postgres://...",
                copy::redact_url(url)
            )
        }
    }
}
