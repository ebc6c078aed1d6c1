//! `/clusters/{clusterUuid}/secure-connectivity`: a private endpoint for the cluster,
//! reachable only by the allowed principals from the allowed regions. The status document
//! has the shape of the SDK's `SecureConnectivityDto` (a Kubernetes-style resource); its
//! endpoint and URLs are simulated, derived from the cluster like its other links.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::clusters::{cluster_not_found, load_cluster};
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, Caller};
use super::AppState;
use crate::domain::audit::{AuditEntry, AuditType};
use crate::domain::cluster::{Cluster, ClusterLinks};
use crate::domain::scope::Scope;
use crate::domain::secure_connectivity::{self, SecureConnectivity};
use crate::domain::Timestamp;
use crate::storage::StoreError;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/clusters/{cluster_id}/secure-connectivity",
        post(activate).get(get_status).delete(deactivate),
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActivateSecureConnectivityRequest {
    pub allowed_principals: Vec<String>,
    pub allowed_regions: Vec<String>,
}

/// `SecureConnectivityStatusResponse`: `{"status": SecureConnectivityDto}`, or
/// `{"status": {}}` while secure connectivity is not active.
fn status_document(state: &AppState, cluster: &Cluster, sc: Option<&SecureConnectivity>) -> Value {
    let Some(sc) = sc else {
        return json!({ "status": {} });
    };
    let region = state
        .catalog
        .region(&cluster.region_id)
        .map(|r| r.short.clone())
        .unwrap_or_else(|| cluster.region_id.clone());
    let private_domain = format!("privatelink.{}", state.settings.base_domain);
    let links = ClusterLinks::new(
        &cluster.id,
        &cluster.org_id,
        &region,
        &private_domain,
        &state.settings.token_url,
    );
    // A stable, AWS-looking endpoint service id derived from the cluster id.
    let service_id: String = cluster
        .id
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .take(17)
        .collect();
    json!({
        "status": {
            "status": {
                "urls": {
                    "zeebe": links.zeebe_address(),
                    "operate": links.operate,
                    "tasklist": links.tasklist,
                    "optimize": links.optimize,
                    "connectors": links.connectors,
                },
                "observedGeneration": sc.generation,
                "endpointConnections": [],
                "endpointConnectionCount": 0,
                "endpoint": {
                    "privateDnsName": format!("{}.{region}.{private_domain}", cluster.id),
                    "type": "Interface",
                    "serviceName": format!("{region}.vpce-svc-{service_id}"),
                    "region": region,
                },
                "conditions": [{
                    "lastTransitionTime": sc.updated_at.to_rfc3339(),
                    "observedGeneration": sc.generation,
                    "message": "The endpoint service accepts connections from the allowed principals",
                    "reason": "EndpointServiceAvailable",
                    "status": "True",
                    "type": "Ready",
                }],
            },
            "metadata": {
                "name": cluster.id,
                "namespace": cluster.org_id,
                "labels": { "orgId": cluster.org_id },
            },
            "spec": {
                "allowedPrincipals": sc.allowed_principals,
                "allowedRegions": sc.allowed_regions,
                "cluster": { "id": cluster.id },
            },
        }
    })
}

/// Activates secure connectivity, or replaces the allowed principals and regions when it
/// is active already.
async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(cluster_id): Path<String>,
    body: Result<ApiJson<ActivateSecureConnectivityRequest>, ApiError>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::UpdateClusters)?;
    let ApiJson(request) = body?;
    let cluster = load_cluster(&state, &caller, &cluster_id).await?;
    secure_connectivity::validate(&request.allowed_principals, &request.allowed_regions)?;
    let now = Timestamp::now();
    let config = SecureConnectivity {
        cluster_id: cluster.id.clone(),
        org_id: cluster.org_id.clone(),
        allowed_principals: request.allowed_principals,
        allowed_regions: request.allowed_regions,
        generation: 1,
        activated_at: now,
        updated_at: now,
    };
    let audit = AuditEntry::new(
        caller.org_id(),
        caller.client_id(),
        AuditType::Update,
        "secureConnectivity",
        &cluster.id,
        format!(
            "Secure connectivity for principals {} from regions {}",
            config.allowed_principals.join(", "),
            config.allowed_regions.join(", ")
        ),
        now,
    )
    .with_parent("cluster", &cluster.id);
    match state.store.put_secure_connectivity(&config, &audit).await {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(cluster_not_found(&cluster_id)),
        Err(other) => Err(other.into()),
    }
}

async fn get_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(cluster_id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(Scope::GetClusters)?;
    let cluster = load_cluster(&state, &caller, &cluster_id).await?;
    let sc = state
        .store
        .secure_connectivity(caller.org_id(), &cluster_id)
        .await?;
    Ok(Json(status_document(&state, &cluster, sc.as_ref())))
}

/// Idempotent: deactivating inactive secure connectivity changes nothing.
async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(cluster_id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::UpdateClusters)?;
    load_cluster(&state, &caller, &cluster_id).await?;
    let audit = AuditEntry::new(
        caller.org_id(),
        caller.client_id(),
        AuditType::Delete,
        "secureConnectivity",
        &cluster_id,
        "Deactivated secure connectivity".to_string(),
        Timestamp::now(),
    )
    .with_parent("cluster", &cluster_id);
    state
        .store
        .delete_secure_connectivity(caller.org_id(), &cluster_id, &audit)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
