//! `/clusters/{clusterUuid}/backups`: take, list and delete backups. The reconciler drives
//! each backup from "In progress" to "Complete".

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Serialize;

use super::clusters::{cluster_not_found, load_cluster};
use super::error::{ApiError, ApiResult};
use super::extract::Caller;
use super::AppState;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::backup::Backup;
use crate::domain::scope::Scope;
use crate::domain::Timestamp;
use crate::storage::StoreError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/clusters/{cluster_id}/backups",
            get(list_backups).post(create_backup),
        )
        .route(
            "/clusters/{cluster_id}/backups/{backup_id}",
            delete(delete_backup),
        )
}

/// The API's `BackupDto`. `completed` is required by the schema even while the backup
/// runs; until the backup reaches a final status it is the empty string, afterwards the
/// RFC 3339 time it got there.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupDto {
    pub uuid: String,
    pub name: String,
    pub created: String,
    pub completed: String,
    pub status: &'static str,
    pub zeebe_status: &'static str,
    pub operate_status: &'static str,
    pub tasklist_status: &'static str,
    pub optimize_status: &'static str,
}

impl From<Backup> for BackupDto {
    fn from(b: Backup) -> Self {
        BackupDto {
            created: b.created_at.to_rfc3339(),
            completed: b.completed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            status: b.status.as_str(),
            zeebe_status: b.components.zeebe.as_str(),
            operate_status: b.components.operate.as_str(),
            tasklist_status: b.components.tasklist.as_str(),
            optimize_status: b.components.optimize.as_str(),
            uuid: b.id,
            name: b.name,
        }
    }
}

async fn list_backups(
    State(state): State<AppState>,
    caller: Caller,
    Path(cluster_id): Path<String>,
) -> ApiResult<Json<Vec<BackupDto>>> {
    caller.require(Scope::GetBackups)?;
    load_cluster(&state, &caller, &cluster_id).await?;
    let backups = state.store.backups(caller.org_id(), &cluster_id).await?;
    Ok(Json(backups.into_iter().map(Into::into).collect()))
}

/// Takes no body: the SDK sends `content-type: application/json` with an empty one.
async fn create_backup(
    State(state): State<AppState>,
    caller: Caller,
    Path(cluster_id): Path<String>,
) -> ApiResult<Json<BackupDto>> {
    caller.require(Scope::CreateBackups)?;
    let cluster = load_cluster(&state, &caller, &cluster_id).await?;
    let now = Timestamp::now();
    let backup = Backup::start(&cluster, now)?;
    let audit = AuditEntry::new(
        caller.org_id(),
        caller.client_id(),
        AuditType::Create,
        "backup",
        &backup.id,
        format!("Started backup {:?}", backup.name),
        now,
    )
    .with_parent("cluster", &cluster.id);
    match state.store.insert_backup(&backup, &audit).await {
        Ok(true) => {}
        // The cluster left Healthy between the read and the write.
        Ok(false) => {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "only a Healthy cluster can be backed up; this one just changed state",
            ))
        }
        Err(StoreError::NotFound) => return Err(cluster_not_found(&cluster_id)),
        Err(other) => return Err(other.into()),
    }
    state.reconciler.notify_one();
    Ok(Json(backup.into()))
}

async fn delete_backup(
    State(state): State<AppState>,
    caller: Caller,
    Path((cluster_id, backup_id)): Path<(String, String)>,
) -> ApiResult<Json<BackupDto>> {
    caller.require(Scope::DeleteBackups)?;
    load_cluster(&state, &caller, &cluster_id).await?;
    let audit = AuditEntry::new(
        caller.org_id(),
        caller.client_id(),
        AuditType::Delete,
        "backup",
        &backup_id,
        "Deleted backup".to_string(),
        Timestamp::now(),
    )
    .with_parent("cluster", &cluster_id);
    let deleted = state
        .store
        .delete_backup(caller.org_id(), &cluster_id, &backup_id, &audit)
        .await?;
    // 200 with the backup as it was, as the hosted service answers.
    deleted
        .map(|b| Json(b.into()))
        .ok_or_else(|| ApiError::not_found(format!("backup {backup_id:?} not found")))
}
