//! `PATCH /clusters/{clusterUuid}`: rename, describe, relabel or resize a cluster.
//! Also the shared write path for every change to a cluster's settings.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::patch;
use axum::Router;
use serde::Deserialize;

use super::clusters::load_cluster;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, Caller};
use super::AppState;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::cluster::{Cluster, StageLabel};
use crate::domain::cluster_update::{AttributeChange, ClusterPatch};
use crate::domain::scope::Scope;
use crate::domain::{DomainError, Timestamp};

/// A settings write is conditional on the version read; the reconciler bumps the version
/// while a cluster is provisioning, so a few retries absorb that race.
const MAX_ATTEMPTS: usize = 10;

pub fn routes() -> Router<AppState> {
    Router::new().route("/clusters/{cluster_id}", patch(update_cluster))
}

/// `UpdateClusterBody` of the reference plus `description`, which the JS SDK sends.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateClusterRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub stage_label: Option<StageLabel>,
    pub number_of_allocated_hw_packages: Option<f64>,
}

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
            AuditEntry::new(
                caller.org_id(),
                caller.client_id(),
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
