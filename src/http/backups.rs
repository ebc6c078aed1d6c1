//! `/clusters/{clusterUuid}/backups`: take, list and delete backups. The reconciler drives
//! each backup from "In progress" to "Complete".

use std::borrow::Cow;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiPath, Caller};
use super::in_cluster::{cluster_gone, load_cluster, ClusterPath};
use super::schema::{string_enum, tags};
use super::AppState;
use crate::domain::audit::AuditType;
use crate::domain::backup::{Backup, BackupStatus};
use crate::domain::scope::Scope;
use crate::domain::Timestamp;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_backups, create_backup))
        .routes(routes!(delete_backup))
}

impl PartialSchema for BackupStatus {
    fn schema() -> RefOr<Schema> {
        string_enum(
            "The state of a backup or of one component's part in it (`-`: no part)",
            BackupStatus::ALL.iter().map(|v| v.as_str()),
        )
    }
}

impl ToSchema for BackupStatus {
    fn name() -> Cow<'static, str> {
        "BackupStatus".into()
    }
}

/// The API's `BackupDto`. `completed` is required by the schema even while the backup
/// runs; until the backup reaches a final status it is the empty string, afterwards the
/// RFC 3339 time it got there.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupDto {
    pub uuid: String,
    pub name: String,
    /// RFC 3339.
    pub created: String,
    /// RFC 3339 once the backup is final, `""` while it runs.
    pub completed: String,
    #[schema(value_type = BackupStatus)]
    pub status: &'static str,
    #[schema(value_type = BackupStatus)]
    pub zeebe_status: &'static str,
    #[schema(value_type = BackupStatus)]
    pub operate_status: &'static str,
    #[schema(value_type = BackupStatus)]
    pub tasklist_status: &'static str,
    #[schema(value_type = BackupStatus)]
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

/// List the backups of a cluster.
#[utoipa::path(
    get,
    path = "/clusters/{clusterUuid}/backups",
    operation_id = "GetBackups",
    tag = tags::BACKUPS,
    params(ClusterPath),
    security(("bearer" = ["get:backups"])),
    responses(
        (status = 200, description = "A list of all the backups created for your Camunda cluster.", body = Vec<BackupDto>),
        (status = 403, description = "The token lacks the scope get:backups"),
        (status = 404, description = "Cluster not found"),
    ),
)]
async fn list_backups(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
) -> ApiResult<Json<Vec<BackupDto>>> {
    caller.require(Scope::GetBackups)?;
    load_cluster(&state, &caller, &cluster_id).await?;
    let backups = state.store.backups(caller.org_id(), &cluster_id).await?;
    Ok(Json(backups.into_iter().map(Into::into).collect()))
}

/// Start a backup of a Healthy cluster.
///
/// Takes no body (the SDK sends `content-type: application/json` with an empty one).
#[utoipa::path(
    post,
    path = "/clusters/{clusterUuid}/backups",
    operation_id = "CreateBackup",
    tag = tags::BACKUPS,
    params(ClusterPath),
    security(("bearer" = ["create:backups"])),
    responses(
        (status = 200, description = "Ok", body = BackupDto),
        (status = 403, description = "The token lacks the scope create:backups"),
        (status = 404, description = "Cluster not found"),
        (status = 412, description = "The cluster is not Healthy"),
    ),
)]
async fn create_backup(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
) -> ApiResult<Json<BackupDto>> {
    caller.require(Scope::CreateBackups)?;
    Ok(Json(create(&state, &caller, &cluster_id).await?.into()))
}

/// Starts a backup of a Healthy cluster (412 otherwise), with its activity record, as
/// `POST /clusters/{uuid}/backups` does; the API's handler and the console call this.
pub async fn create(state: &AppState, caller: &Caller, cluster_id: &str) -> ApiResult<Backup> {
    let cluster = load_cluster(state, caller, cluster_id).await?;
    let now = Timestamp::now();
    let backup = Backup::start(&cluster, now)?;
    let audit = caller
        .audit(
            AuditType::Create,
            "backup",
            &backup.id,
            format!("Started backup {:?}", backup.name),
            now,
        )
        .with_parent("cluster", &cluster.id);
    let inserted = state
        .store
        .insert_backup(&backup, &audit)
        .await
        .map_err(cluster_gone(cluster_id))?;
    if !inserted {
        // The cluster left Healthy between the read and the write.
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "only a Healthy cluster can be backed up; this one just changed state",
        ));
    }
    state.reconciler.notify_one();
    Ok(backup)
}

/// Irreversibly delete a backup.
///
/// A running backup is cancelled. Answers with the backup as it was.
#[utoipa::path(
    delete,
    path = "/clusters/{clusterUuid}/backups/{backupId}",
    operation_id = "DeleteBackup",
    tag = tags::BACKUPS,
    params(
        ClusterPath,
        ("backupId" = String, Path, description = "The backup's uuid"),
    ),
    security(("bearer" = ["delete:backups"])),
    responses(
        (status = 200, description = "Ok", body = BackupDto),
        (status = 403, description = "The token lacks the scope delete:backups"),
        (status = 404, description = "Cluster or backup not found"),
    ),
)]
async fn delete_backup(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((cluster_id, backup_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<BackupDto>> {
    caller.require(Scope::DeleteBackups)?;
    // 200 with the backup as it was, as the hosted service answers.
    Ok(Json(
        delete(&state, &caller, &cluster_id, &backup_id)
            .await?
            .into(),
    ))
}

/// Deletes (or cancels) a backup, with its activity record; the backup as it was.
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
    backup_id: &str,
) -> ApiResult<Backup> {
    load_cluster(state, caller, cluster_id).await?;
    let audit = caller.cluster_audit(
        AuditType::Delete,
        "backup",
        backup_id,
        cluster_id,
        "Deleted backup".to_string(),
    );
    state
        .store
        .delete_backup(caller.org_id(), cluster_id, backup_id, &audit)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("backup {backup_id:?} not found")))
}
