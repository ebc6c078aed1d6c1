//! The embedded SQLite store: WAL journal, `synchronous=FULL` so an acknowledged commit is
//! on disk, one writer connection (SQLite admits one writer at a time anyway) and a pool
//! of readers.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{FromRow, Sqlite, Transaction};

mod audit;
mod backups;
mod clusters;
mod keys;
mod lifecycle;
mod monitoring;
mod orgs;
mod rows;
mod secure_connectivity;
mod zeebe_clients;

use rows::*;

use super::{ClusterProgress, SigningKeyRecord, StoreError, StoreResult, ZeebeCredential};
use crate::domain::api_client::ApiClient;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::cluster::{Cluster, ComponentStatus, Components, StageLabel};
use crate::domain::organization::Organization;
use crate::domain::zeebe_client::{permissions_from_text, permissions_to_text, ZeebeClient};
use crate::domain::Timestamp;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)?;
            }
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteStore { writer, reader })
    }

    async fn begin(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        // IMMEDIATE takes the write lock up front, so a concurrent writer in another process
        // (the operator CLI) waits on busy_timeout instead of failing mid-transaction.
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)
    }
}

fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(ref db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_string())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(e)
        }
        other => StoreError::Database(other),
    }
}

trait ResultExt<T> {
    fn db(self) -> StoreResult<T>;
}

impl<T> ResultExt<T> for Result<T, sqlx::Error> {
    fn db(self) -> StoreResult<T> {
        self.map_err(map_err)
    }
}

async fn insert_audit(tx: &mut Transaction<'_, Sqlite>, a: &AuditEntry) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_events (id, org_id, ts, service, audit_type, audit, entity, entity_id, \
         entity_attribute, value_from, value_to, parent_entity, parent_entity_id, user_id) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&a.id)
    .bind(&a.org_id)
    .bind(a.timestamp.millis())
    .bind(&a.service)
    .bind(a.audit_type.code())
    .bind(&a.audit)
    .bind(&a.entity)
    .bind(&a.entity_id)
    .bind(&a.entity_attribute)
    .bind(&a.value_from)
    .bind(&a.value_to)
    .bind(&a.parent_entity)
    .bind(&a.parent_entity_id)
    .bind(&a.user_id)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}
