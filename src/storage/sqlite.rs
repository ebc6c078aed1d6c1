//! The embedded SQLite store: WAL journal, `synchronous=FULL` so an acknowledged commit is
//! on disk, one writer connection (SQLite admits one writer at a time anyway) and a pool
//! of readers.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{FromRow, Sqlite, Transaction};

use super::{
    ClusterProgress, SigningKeyRecord, Store, StoreError, StoreResult, ZeebeCredential,
};
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
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?)
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

#[derive(FromRow)]
struct OrganizationRow {
    id: String,
    name: String,
    created_at: i64,
}

impl From<OrganizationRow> for Organization {
    fn from(r: OrganizationRow) -> Self {
        Organization { id: r.id, name: r.name, created_at: Timestamp(r.created_at) }
    }
}

#[derive(FromRow)]
struct ApiClientRow {
    client_id: String,
    org_id: String,
    name: String,
    scopes: String,
    secret_hash: Vec<u8>,
    secret_generation: i64,
    created_at: i64,
}

impl From<ApiClientRow> for ApiClient {
    fn from(r: ApiClientRow) -> Self {
        ApiClient {
            client_id: r.client_id,
            org_id: r.org_id,
            name: r.name,
            // Stored scopes were validated on the way in; an unknown one is dropped.
            scopes: r.scopes.split(' ').filter_map(crate::domain::scope::Scope::parse).collect(),
            secret_hash: r.secret_hash,
            secret_generation: r.secret_generation,
            created_at: Timestamp(r.created_at),
        }
    }
}

#[derive(FromRow)]
struct SigningKeyRow {
    kid: String,
    algorithm: String,
    private_key: Vec<u8>,
    public_key: Vec<u8>,
    created_at: i64,
    retired_at: Option<i64>,
}

impl From<SigningKeyRow> for SigningKeyRecord {
    fn from(r: SigningKeyRow) -> Self {
        SigningKeyRecord {
            kid: r.kid,
            algorithm: r.algorithm,
            private_key: r.private_key,
            public_key: r.public_key,
            created_at: Timestamp(r.created_at),
            retired_at: r.retired_at.map(Timestamp),
        }
    }
}

const CLUSTER_COLUMNS: &str = "id, org_id, name, description, channel_id, generation_id, region_id, \
    plan_type_id, backup_region_id, auto_update, stage_label, hardware_packages, status, \
    zeebe_status, operate_status, tasklist_status, optimize_status, connectors_status, \
    target_generation_id, status_since, created_at, version";

#[derive(FromRow)]
struct ClusterRow {
    id: String,
    org_id: String,
    name: String,
    description: Option<String>,
    channel_id: String,
    generation_id: String,
    region_id: String,
    plan_type_id: String,
    backup_region_id: Option<String>,
    auto_update: bool,
    stage_label: Option<String>,
    hardware_packages: f64,
    status: String,
    zeebe_status: String,
    operate_status: String,
    tasklist_status: String,
    optimize_status: String,
    connectors_status: String,
    target_generation_id: Option<String>,
    status_since: i64,
    created_at: i64,
    version: i64,
}

fn status(text: &str) -> ComponentStatus {
    ComponentStatus::parse(text).unwrap_or(ComponentStatus::Unhealthy)
}

impl From<ClusterRow> for Cluster {
    fn from(r: ClusterRow) -> Self {
        Cluster {
            id: r.id,
            org_id: r.org_id,
            name: r.name,
            description: r.description,
            channel_id: r.channel_id,
            generation_id: r.generation_id,
            region_id: r.region_id,
            plan_type_id: r.plan_type_id,
            backup_region_id: r.backup_region_id,
            auto_update: r.auto_update,
            stage_label: r.stage_label.as_deref().and_then(StageLabel::parse),
            hardware_packages: r.hardware_packages,
            status: status(&r.status),
            components: Components {
                zeebe: status(&r.zeebe_status),
                operate: status(&r.operate_status),
                tasklist: status(&r.tasklist_status),
                optimize: status(&r.optimize_status),
                connectors: status(&r.connectors_status),
            },
            target_generation_id: r.target_generation_id,
            status_since: Timestamp(r.status_since),
            created_at: Timestamp(r.created_at),
            version: r.version,
        }
    }
}

const ZEEBE_CLIENT_COLUMNS: &str =
    "id, cluster_id, org_id, client_id, name, secret_hash, permissions, created_at";

#[derive(FromRow)]
struct ZeebeClientRow {
    id: String,
    cluster_id: String,
    org_id: String,
    client_id: String,
    name: String,
    secret_hash: Vec<u8>,
    permissions: String,
    created_at: i64,
}

impl From<ZeebeClientRow> for ZeebeClient {
    fn from(r: ZeebeClientRow) -> Self {
        ZeebeClient {
            id: r.id,
            cluster_id: r.cluster_id,
            org_id: r.org_id,
            client_id: r.client_id,
            name: r.name,
            secret_hash: r.secret_hash,
            permissions: permissions_from_text(&r.permissions),
            created_at: Timestamp(r.created_at),
        }
    }
}

#[derive(FromRow)]
struct AuditRow {
    id: String,
    org_id: String,
    ts: i64,
    service: String,
    audit_type: String,
    audit: String,
    entity: String,
    entity_id: String,
    entity_attribute: Option<String>,
    value_from: Option<String>,
    value_to: Option<String>,
    parent_entity: Option<String>,
    parent_entity_id: Option<String>,
    user_id: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id,
            org_id: r.org_id,
            timestamp: Timestamp(r.ts),
            service: r.service,
            audit_type: AuditType::from_code(&r.audit_type).unwrap_or(AuditType::Update),
            audit: r.audit,
            entity: r.entity,
            entity_id: r.entity_id,
            entity_attribute: r.entity_attribute,
            value_from: r.value_from,
            value_to: r.value_to,
            parent_entity: r.parent_entity,
            parent_entity_id: r.parent_entity_id,
            user_id: r.user_id,
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        let rows: Vec<SigningKeyRow> = sqlx::query_as(
            "SELECT kid, algorithm, private_key, public_key, created_at, retired_at \
             FROM signing_keys ORDER BY created_at",
        )
        .fetch_all(&self.reader)
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn insert_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let active: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM signing_keys WHERE retired_at IS NULL")
                .fetch_one(&mut *tx)
                .await
                .db()?;
        if active > 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key, public_key, created_at, retired_at) \
             VALUES (?, ?, ?, ?, ?, NULL)",
        )
        .bind(&key.kid)
        .bind(&key.algorithm)
        .bind(&key.private_key)
        .bind(&key.public_key)
        .bind(key.created_at.millis())
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(true)
    }

    async fn insert_organization(&self, org: &Organization, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)")
            .bind(&org.id)
            .bind(&org.name)
            .bind(org.created_at.millis())
            .execute(&mut *tx)
            .await
            .db()?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn organizations(&self) -> StoreResult<Vec<Organization>> {
        let rows: Vec<OrganizationRow> =
            sqlx::query_as("SELECT id, name, created_at FROM organizations ORDER BY created_at, id")
                .fetch_all(&self.reader)
                .await
                .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn organization(&self, id: &str) -> StoreResult<Option<Organization>> {
        let row: Option<OrganizationRow> =
            sqlx::query_as("SELECT id, name, created_at FROM organizations WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.reader)
                .await
                .db()?;
        Ok(row.map(Into::into))
    }

    async fn insert_api_client(&self, client: &ApiClient, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO api_clients (client_id, org_id, name, scopes, secret_hash, secret_generation, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&client.client_id)
        .bind(&client.org_id)
        .bind(&client.name)
        .bind(client.scopes.to_scope_string())
        .bind(&client.secret_hash)
        .bind(client.secret_generation)
        .bind(client.created_at.millis())
        .execute(&mut *tx)
        .await
        .db()?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn api_client(&self, client_id: &str) -> StoreResult<Option<ApiClient>> {
        let row: Option<ApiClientRow> = sqlx::query_as(
            "SELECT client_id, org_id, name, scopes, secret_hash, secret_generation, created_at \
             FROM api_clients WHERE client_id = ?",
        )
        .bind(client_id)
        .fetch_optional(&self.reader)
        .await
        .db()?;
        Ok(row.map(Into::into))
    }

    async fn update_api_client(&self, client: &ApiClient, audit: &AuditEntry) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE api_clients SET name = ?, scopes = ?, secret_hash = ?, secret_generation = ? \
             WHERE client_id = ?",
        )
        .bind(&client.name)
        .bind(client.scopes.to_scope_string())
        .bind(&client.secret_hash)
        .bind(client.secret_generation)
        .bind(&client.client_id)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(true)
    }

    async fn insert_cluster(&self, c: &Cluster, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO clusters ({CLUSTER_COLUMNS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&c.id)
        .bind(&c.org_id)
        .bind(&c.name)
        .bind(&c.description)
        .bind(&c.channel_id)
        .bind(&c.generation_id)
        .bind(&c.region_id)
        .bind(&c.plan_type_id)
        .bind(&c.backup_region_id)
        .bind(c.auto_update)
        .bind(c.stage_label.map(StageLabel::as_str))
        .bind(c.hardware_packages)
        .bind(c.status.as_str())
        .bind(c.components.zeebe.as_str())
        .bind(c.components.operate.as_str())
        .bind(c.components.tasklist.as_str())
        .bind(c.components.optimize.as_str())
        .bind(c.components.connectors.as_str())
        .bind(&c.target_generation_id)
        .bind(c.status_since.millis())
        .bind(c.created_at.millis())
        .bind(c.version)
        .execute(&mut *tx)
        .await
        .db()?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn cluster(&self, org_id: &str, id: &str) -> StoreResult<Option<Cluster>> {
        let row: Option<ClusterRow> = sqlx::query_as(&format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters WHERE id = ? AND org_id = ?"
        ))
        .bind(id)
        .bind(org_id)
        .fetch_optional(&self.reader)
        .await
        .db()?;
        Ok(row.map(Into::into))
    }

    async fn clusters(&self, org_id: &str) -> StoreResult<Vec<Cluster>> {
        let rows: Vec<ClusterRow> = sqlx::query_as(&format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters WHERE org_id = ? ORDER BY created_at, id"
        ))
        .bind(org_id)
        .fetch_all(&self.reader)
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn delete_cluster(&self, org_id: &str, id: &str, audit: &AuditEntry) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let deleted = sqlx::query("DELETE FROM clusters WHERE id = ? AND org_id = ?")
            .bind(id)
            .bind(org_id)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
        if deleted == 0 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(true)
    }

    async fn transitional_clusters(&self, limit: i64) -> StoreResult<Vec<Cluster>> {
        let rows: Vec<ClusterRow> = sqlx::query_as(&format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters \
             WHERE status IN ('Creating', 'Updating', 'Resuming') ORDER BY status_since LIMIT ?"
        ))
        .bind(limit)
        .fetch_all(&self.writer)
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn advance_cluster(
        &self,
        id: &str,
        expected_version: i64,
        p: &ClusterProgress,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE clusters SET status = ?, zeebe_status = ?, operate_status = ?, \
             tasklist_status = ?, optimize_status = ?, connectors_status = ?, generation_id = ?, \
             target_generation_id = ?, status_since = ?, version = version + 1 \
             WHERE id = ? AND version = ?",
        )
        .bind(p.status.as_str())
        .bind(p.components.zeebe.as_str())
        .bind(p.components.operate.as_str())
        .bind(p.components.tasklist.as_str())
        .bind(p.components.optimize.as_str())
        .bind(p.components.connectors.as_str())
        .bind(&p.generation_id)
        .bind(&p.target_generation_id)
        .bind(p.status_since.millis())
        .bind(id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        if let Some(audit) = audit {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await.db()?;
        Ok(true)
    }

    async fn insert_zeebe_client(
        &self,
        client: &ZeebeClient,
        max_per_cluster: u32,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM clusters WHERE id = ? AND org_id = ?")
                .bind(&client.cluster_id)
                .bind(&client.org_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM zeebe_clients WHERE cluster_id = ?")
            .bind(&client.cluster_id)
            .fetch_one(&mut *tx)
            .await
            .db()?;
        if count >= i64::from(max_per_cluster) {
            return Err(StoreError::LimitReached);
        }
        sqlx::query(&format!(
            "INSERT INTO zeebe_clients ({ZEEBE_CLIENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&client.id)
        .bind(&client.cluster_id)
        .bind(&client.org_id)
        .bind(&client.client_id)
        .bind(&client.name)
        .bind(&client.secret_hash)
        .bind(permissions_to_text(&client.permissions))
        .bind(client.created_at.millis())
        .execute(&mut *tx)
        .await
        .db()?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn zeebe_clients(&self, org_id: &str, cluster_id: &str) -> StoreResult<Vec<ZeebeClient>> {
        let rows: Vec<ZeebeClientRow> = sqlx::query_as(&format!(
            "SELECT {ZEEBE_CLIENT_COLUMNS} FROM zeebe_clients \
             WHERE cluster_id = ? AND org_id = ? ORDER BY created_at, id"
        ))
        .bind(cluster_id)
        .bind(org_id)
        .fetch_all(&self.reader)
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn zeebe_client(
        &self,
        org_id: &str,
        cluster_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<ZeebeClient>> {
        let row: Option<ZeebeClientRow> = sqlx::query_as(&format!(
            "SELECT {ZEEBE_CLIENT_COLUMNS} FROM zeebe_clients \
             WHERE client_id = ? AND cluster_id = ? AND org_id = ?"
        ))
        .bind(client_id)
        .bind(cluster_id)
        .bind(org_id)
        .fetch_optional(&self.reader)
        .await
        .db()?;
        Ok(row.map(Into::into))
    }

    async fn delete_zeebe_client(
        &self,
        org_id: &str,
        cluster_id: &str,
        client_id: &str,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let deleted = sqlx::query(
            "DELETE FROM zeebe_clients WHERE client_id = ? AND cluster_id = ? AND org_id = ?",
        )
        .bind(client_id)
        .bind(cluster_id)
        .bind(org_id)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if deleted == 0 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(true)
    }

    async fn zeebe_credential(&self, client_id: &str) -> StoreResult<Option<ZeebeCredential>> {
        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            client: ZeebeClientRow,
            cluster_status: String,
        }
        let row: Option<Row> = sqlx::query_as(
            "SELECT z.id, z.cluster_id, z.org_id, z.client_id, z.name, z.secret_hash, \
             z.permissions, z.created_at, c.status AS cluster_status \
             FROM zeebe_clients z JOIN clusters c ON c.id = z.cluster_id WHERE z.client_id = ?",
        )
        .bind(client_id)
        .fetch_optional(&self.reader)
        .await
        .db()?;
        Ok(row.map(|r| ZeebeCredential {
            client: r.client.into(),
            cluster_status: status(&r.cluster_status),
        }))
    }

    async fn audit_events(&self, org_id: &str, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, org_id, ts, service, audit_type, audit, entity, entity_id, entity_attribute, \
             value_from, value_to, parent_entity, parent_entity_id, user_id \
             FROM audit_events WHERE org_id = ? ORDER BY seq DESC LIMIT ?",
        )
        .bind(org_id)
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
