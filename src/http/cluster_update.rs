//! `PATCH /clusters/{clusterUuid}`: rename, describe, relabel or resize a cluster.
//! Also the shared write path for every change to a cluster's settings.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::clusters::load_cluster;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, Caller};
use super::openapi::tags;
use super::AppState;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::cluster::{Cluster, StageLabel};
use crate::domain::cluster_update::{AttributeChange, ClusterPatch};
use crate::domain::scope::Scope;
use crate::domain::{DomainError, Timestamp};

/// A settings write is conditional on the version read; the reconciler bumps the version
/// while a cluster is provisioning, so a few retries absorb that race.
const MAX_ATTEMPTS: usize = 10;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(update_cluster))
}

/// Used to update a cluster through this API: `UpdateClusterBody` of the reference plus
/// `description`, which the JS SDK sends. Every field is optional.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = UpdateClusterBody, example = json!({"name": "renamed", "stageLabel": "prod"}))]
pub struct UpdateClusterRequest {
    /// The name of your cluster.
    #[schema(min_length = 1, max_length = 50)]
    pub name: Option<String>,
    /// A description of your cluster (stored, not shown on the cluster); `""` clears it.
    pub description: Option<String>,
    /// Shown as the cluster's only label.
    pub stage_label: Option<StageLabel>,
    /// Number of hardware packages, a whole number from 1 to 64.
    #[schema(minimum = 1, maximum = 64)]
    pub number_of_allocated_hw_packages: Option<f64>,
}

/// Update the name, description, stage label or hardware packages of a cluster.
#[utoipa::path(
    patch,
    path = "/clusters/{clusterUuid}",
    operation_id = "UpdateCluster",
    tag = tags::CLUSTERS,
    params(
        ("clusterUuid" = String, Path, description = "The cluster's uuid"),
    ),
    request_body = UpdateClusterRequest,
    security(("bearer" = ["update:clusters"])),
    responses(
        (status = 204, description = "No content"),
        (status = 400, description = "An invalid field or a malformed body"),
        (status = 403, description = "The token lacks the scope update:clusters"),
        (status = 404, description = "Cluster not found"),
    ),
)]
async fn update_cluster(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(cluster_id): ApiPath<String>,
    body: Result<ApiJson<UpdateClusterRequest>, ApiError>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::UpdateClusters)?;
    let ApiJson(request) = body?;
    let patch = ClusterPatch {
        name: request.name,
        description: request.description,
        stage_label: request.stage_label,
        hardware_packages: request.number_of_allocated_hw_packages,
    };
    update_settings(&state, &caller, &cluster_id, |c| c.apply_patch(&patch)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reads the caller's cluster, applies `change` and writes the result if nobody changed
/// the cluster in between (else reads again), with one audit record per changed
/// attribute. 404 when the cluster is unknown, another organization's or deleted
/// meanwhile; nothing is written when nothing changes.
pub async fn update_settings<F>(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
    change: F,
) -> ApiResult<()>
where
    F: Fn(&Cluster) -> Result<(Cluster, Vec<AttributeChange>), DomainError>,
{
    for _ in 0..MAX_ATTEMPTS {
        let current = load_cluster(state, caller, cluster_id).await?;
        let (next, changes) = change(&current)?;
        if changes.is_empty() {
            return Ok(());
        }
        let audit = audit_records(caller, &current, changes);
        if state.store.update_cluster_settings(&next, &audit).await? {
            return Ok(());
        }
    }
    // Not committed, so a retry is safe (the JS SDK retries 503 by itself).
    Err(ApiError {
        retry_after: Some(1),
        ..ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the cluster is changing; try again",
        )
    })
}

fn audit_records(
    caller: &Caller,
    cluster: &Cluster,
    changes: Vec<AttributeChange>,
) -> Vec<AuditEntry> {
    let now = Timestamp::now();
    changes
        .into_iter()
        .map(|c| {
            caller
                .audit(
                    AuditType::Update,
                    "cluster",
                    &cluster.id,
                    format!("Changed {} of cluster {:?}", c.attribute, cluster.name),
                    now,
                )
                .with_change(c.attribute, c.from, c.to)
        })
        .collect()
}
