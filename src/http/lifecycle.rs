//! `PUT /clusters/{clusterUuid}/upgrade` and `PUT /clusters/{clusterUuid}/wake`: lifecycle
//! transitions a client asks for. Both take no body (the SDK sends an empty one).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::Caller;
use super::in_cluster::{load_cluster, ClusterPath};
use super::retry::optimistically;
use super::schema::tags;
use super::AppState;
use crate::catalog::Generation;
use crate::domain::audit::AuditType;
use crate::domain::cluster::Cluster;
use crate::domain::scope::Scope;
use crate::domain::Timestamp;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upgrade_cluster))
        .routes(routes!(wake_cluster))
}

/// A cluster or generation by id and name.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IdAndName)]
pub struct IdNameDto {
    pub id: String,
    pub name: String,
}

impl From<Generation> for IdNameDto {
    fn from(g: Generation) -> Self {
        IdNameDto {
            id: g.id,
            name: g.name,
        }
    }
}

/// The API's `GenerationUpgradeForClusterDto` (note `id`, not `uuid`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerationUpgradeForClusterDto {
    pub cluster: IdNameDto,
    pub old_generation: IdNameDto,
    pub new_generation: IdNameDto,
    pub org_id: String,
}

/// Upgrade a Healthy cluster to the newest generation of its channel. Takes no body.
#[utoipa::path(
    put,
    path = "/clusters/{clusterUuid}/upgrade",
    operation_id = "UpgradeCluster",
    tag = tags::CLUSTERS,
    params(ClusterPath),
    security(("bearer" = ["update:clusters"])),
    responses(
        (status = 200, description = "Ok", body = GenerationUpgradeForClusterDto),
        (status = 400, description = "No upgrade available"),
        (status = 403, description = "The token lacks the scope update:clusters"),
        (status = 404, description = "Cluster not found"),
        (status = 412, description = "The cluster is not ready for upgrade"),
    ),
)]
async fn upgrade_cluster(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
) -> ApiResult<Json<GenerationUpgradeForClusterDto>> {
    caller.require(Scope::UpdateClusters)?;
    Ok(Json(upgrade(&state, &caller, &cluster_id).await?))
}

/// Upgrades a cluster of the caller's organization to the newest generation of its
/// channel, with its activity record. Shared by the API and the console.
pub async fn upgrade(
    state: &AppState,
    caller: &Caller,
    cluster_id: &str,
) -> ApiResult<GenerationUpgradeForClusterDto> {
    optimistically("the cluster", || async move {
        let cluster = load_cluster(state, caller, cluster_id).await?;
        let now = Timestamp::now();
        let upgrade = cluster.upgrade(&state.catalog, now)?;
        let audit = upgrade.audit(caller.client_id(), "Upgrade", now);
        if state
            .store
            .transition_cluster(&cluster, &upgrade.cluster, &audit)
            .await?
        {
            state.reconciler.notify_one();
            return Ok(Some(GenerationUpgradeForClusterDto {
                cluster: IdNameDto {
                    id: cluster.id,
                    name: cluster.name,
                },
                old_generation: upgrade.old_generation.into(),
                new_generation: upgrade.new_generation.into(),
                org_id: cluster.org_id,
            }));
        }
        Ok(None)
    })
    .await
}

/// Resume a Suspended cluster.
///
/// On a cluster that is not Suspended it succeeds without changing anything: the cluster is
/// awake already (or on its way to Healthy). Takes no body.
#[utoipa::path(
    put,
    path = "/clusters/{clusterUuid}/wake",
    operation_id = "Wake",
    tag = tags::CLUSTERS,
    params(ClusterPath),
    security(("bearer" = ["update:clusters"])),
    responses(
        (status = 204, description = "No content"),
        (status = 403, description = "The token lacks the scope update:clusters"),
        (status = 404, description = "Cluster not found"),
    ),
)]
async fn wake_cluster(
    State(state): State<AppState>,
    caller: Caller,
    ClusterPath(cluster_id): ClusterPath,
) -> ApiResult<StatusCode> {
    caller.require(Scope::UpdateClusters)?;
    wake(&state, &caller, &cluster_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resumes a Suspended cluster of the caller's organization, with its activity record;
/// nothing to do on a cluster that is not Suspended. Shared by the API and the console.
/// Suspends a Healthy cluster at a member's request (the console's "Suspend"; the API has
/// no such operation, the hosted service suspends idle trial clusters by itself). Anything
/// but a Healthy cluster is refused with the domain's 412.
pub async fn suspend(state: &AppState, caller: &Caller, cluster_id: &str) -> ApiResult<()> {
    optimistically("the cluster", || async move {
        let cluster: Cluster = load_cluster(state, caller, cluster_id).await?;
        let now = Timestamp::now();
        let suspended = cluster.suspend(now)?;
        let audit = caller
            .audit(
                AuditType::Update,
                "cluster",
                &cluster.id,
                format!("Suspended cluster {:?}", cluster.name),
                now,
            )
            .with_change(
                "status",
                Some(cluster.status.as_str().into()),
                Some(suspended.status.as_str().into()),
            );
        if state
            .store
            .transition_cluster(&cluster, &suspended, &audit)
            .await?
        {
            state.reconciler.notify_one();
            return Ok(Some(()));
        }
        Ok(None)
    })
    .await
}

pub async fn wake(state: &AppState, caller: &Caller, cluster_id: &str) -> ApiResult<()> {
    optimistically("the cluster", || async move {
        let cluster: Cluster = load_cluster(state, caller, cluster_id).await?;
        let now = Timestamp::now();
        let Some(resuming) = cluster.wake(now) else {
            return Ok(Some(()));
        };
        let audit = caller
            .audit(
                AuditType::Update,
                "cluster",
                &cluster.id,
                format!("Woke cluster {:?}", cluster.name),
                now,
            )
            .with_change(
                "status",
                Some(cluster.status.as_str().into()),
                Some(resuming.status.as_str().into()),
            );
        if state
            .store
            .transition_cluster(&cluster, &resuming, &audit)
            .await?
        {
            state.reconciler.notify_one();
            return Ok(Some(()));
        }
        Ok(None)
    })
    .await
}
