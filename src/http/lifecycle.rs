//! `PUT /clusters/{clusterUuid}/upgrade` and `PUT /clusters/{clusterUuid}/wake`: lifecycle
//! transitions a client asks for. Both take no body (the SDK sends an empty one).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::put;
use axum::{Json, Router};
use serde::Serialize;

use super::clusters::load_cluster;
use super::error::{ApiError, ApiResult};
use super::extract::Caller;
use super::AppState;
use crate::catalog::Generation;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::cluster::Cluster;
use crate::domain::scope::Scope;
use crate::domain::Timestamp;

/// Transitions are optimistic writes; a concurrent change sends us back to re-read the
/// cluster and decide again, a few times at most.
const ATTEMPTS: usize = 3;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/clusters/{cluster_id}/upgrade", put(upgrade_cluster))
        .route("/clusters/{cluster_id}/wake", put(wake_cluster))
}

#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationUpgradeForClusterDto {
    pub cluster: IdNameDto,
    pub old_generation: IdNameDto,
    pub new_generation: IdNameDto,
    pub org_id: String,
}

fn changed_concurrently() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "the cluster changed while this request was handled; try again",
    )
}

async fn upgrade_cluster(
    State(state): State<AppState>,
    caller: Caller,
    Path(cluster_id): Path<String>,
) -> ApiResult<Json<GenerationUpgradeForClusterDto>> {
    caller.require(Scope::UpdateClusters)?;
    for _ in 0..ATTEMPTS {
        let cluster = load_cluster(&state, &caller, &cluster_id).await?;
        let now = Timestamp::now();
        let upgrade = cluster.upgrade(&state.catalog, now)?;
        let audit = AuditEntry::new(
            caller.org_id(),
            caller.client_id(),
            AuditType::Update,
            "cluster",
            &cluster.id,
            format!(
                "Upgrade of cluster {:?} from {} to {}",
                cluster.name, upgrade.old_generation.name, upgrade.new_generation.name
            ),
            now,
        )
        .with_change(
            "generation",
            Some(upgrade.old_generation.name.clone()),
            Some(upgrade.new_generation.name.clone()),
        );
        if state
            .store
            .transition_cluster(&cluster, &upgrade.cluster, &audit)
            .await?
        {
            state.reconciler.notify_one();
            return Ok(Json(GenerationUpgradeForClusterDto {
                cluster: IdNameDto {
                    id: cluster.id,
                    name: cluster.name,
                },
                old_generation: upgrade.old_generation.into(),
                new_generation: upgrade.new_generation.into(),
                org_id: cluster.org_id,
            }));
        }
    }
    Err(changed_concurrently())
}

/// Resumes a Suspended cluster. On a cluster that is not Suspended it succeeds without
/// changing anything: the cluster is awake already (or on its way to Healthy).
async fn wake_cluster(
    State(state): State<AppState>,
    caller: Caller,
    Path(cluster_id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::UpdateClusters)?;
    for _ in 0..ATTEMPTS {
        let cluster: Cluster = load_cluster(&state, &caller, &cluster_id).await?;
        let now = Timestamp::now();
        let Some(resuming) = cluster.wake(now) else {
            return Ok(StatusCode::NO_CONTENT);
        };
        let audit = AuditEntry::new(
            caller.org_id(),
            caller.client_id(),
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
            return Ok(StatusCode::NO_CONTENT);
        }
    }
    Err(changed_concurrently())
}
