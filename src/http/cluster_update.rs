//! `PATCH /clusters/{clusterUuid}`: rename, describe, relabel or resize a cluster.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, Caller};
use super::in_cluster::{update_settings, ClusterPath};
use super::schema::tags;
use super::AppState;
use crate::domain::cluster::StageLabel;
use crate::domain::cluster_update::ClusterPatch;
use crate::domain::scope::Scope;

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
    params(ClusterPath),
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
    ClusterPath(cluster_id): ClusterPath,
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
